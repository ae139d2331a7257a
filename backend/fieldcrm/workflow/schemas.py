"""API shapes of the workflow engine: definitions, instances, steps, decisions, the approvals inbox."""

import datetime
import uuid
from typing import Annotated, Any, Literal

from msgspec import Meta

from fieldcrm.lib.structs import BaseStruct

DecisionKind = Literal["approve", "reject", "return"]
InstanceStatus = Literal["running", "approved", "rejected", "returned", "cancelled"]
StepStatus = Literal["pending", "approved", "rejected", "returned", "cancelled"]
Comment = Annotated[str, Meta(max_length=2000)]
DefinitionKey = Annotated[str, Meta(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


# ---------------------------------------------------------------- definitions


class Definition(BaseStruct):
    """One version of a workflow definition; ``body`` is the JSON document (see workflow/README.md)."""

    key: str
    version: int
    subject: str
    type: str  # approval | work_order
    body: dict[str, Any]
    source: str  # file | api
    created_at: datetime.datetime
    created_by_name: str


class DefinitionSummary(BaseStruct):
    """The newest version of a definition, without its body."""

    key: str
    version: int
    subject: str
    type: str
    source: str
    created_at: datetime.datetime


class DefinitionPage(BaseStruct):
    """A page of definitions (newest version of each key)."""

    items: list[DefinitionSummary]
    total: int
    next_cursor: str | None


# ---------------------------------------------------------------- instances and steps


class Decision(BaseStruct):
    """One person's decision on a step; ``on_behalf_of`` is set when a deputy decided for a decider."""

    id: uuid.UUID
    step_id: uuid.UUID
    decision: DecisionKind
    comment: str
    actor_id: uuid.UUID | None
    actor_name: str
    on_behalf_of_id: uuid.UUID | None
    on_behalf_of_name: str | None
    subject_version: int
    at: datetime.datetime


class Decider(BaseStruct):
    """Someone who may decide a step; level 0 is the definition's decider, 1+ came by escalation."""

    user_id: uuid.UUID
    name: str
    level: int
    decided: bool


class Step(BaseStruct):
    """One step of an instance."""

    id: uuid.UUID
    instance_id: uuid.UUID
    name: str
    label: str
    stage: int
    status: StepStatus
    quorum: str  # all | any | n:<k>
    needed: int  # approvals needed to complete the step
    approvals: int
    deciders: list[Decider]
    decisions: list[Decision]
    activated_at: datetime.datetime
    due_at: datetime.datetime | None
    warn_at: datetime.datetime | None
    warned: bool
    escalation_level: int
    completed_at: datetime.datetime | None


class Instance(BaseStruct):
    """A run of a definition on one subject; it keeps the definition version it started with."""

    id: uuid.UUID
    definition_key: str
    definition_version: int
    subject_kind: str
    subject_id: uuid.UUID
    subject_version: int
    title: str
    url: str
    owner_id: uuid.UUID
    status: InstanceStatus
    stage: int
    stages: list[list[str]]
    facts: dict[str, Any]
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    steps: list[Step]


class InstancePage(BaseStruct):
    """A page of instances, newest first."""

    items: list[Instance]
    total: int
    next_cursor: str | None


class DecisionCreate(BaseStruct):
    """A decision on a step. ``subjectVersion``: the version the decider saw (offline decisions send it)."""

    decision: DecisionKind
    comment: Comment = ""
    subject_version: int | None = None


class ApprovalDecideArgs(BaseStruct):
    """Sync mutation ``approval.decide``: a decision made offline on the subject version the decider saw."""

    step_id: uuid.UUID
    decision: DecisionKind
    subject_version: int
    comment: Comment = ""
    idempotency_key: str | None = None


class DecisionResult(BaseStruct):
    """What a decision did: the step's and the instance's state afterwards."""

    decision: Decision
    step_status: StepStatus
    instance_id: uuid.UUID
    instance_status: InstanceStatus
    subject_kind: str
    subject_id: uuid.UUID


class InboxItem(BaseStruct):
    """An open step waiting for the caller (or for someone they deputise for)."""

    step_id: uuid.UUID
    instance_id: uuid.UUID
    step_name: str
    step_label: str
    definition_key: str
    workflow_type: str  # approval | work_order
    subject_kind: str
    subject_id: uuid.UUID
    subject_version: int
    title: str
    url: str
    facts: dict[str, Any]
    owner_id: uuid.UUID
    owner_name: str
    waiting_since: datetime.datetime
    due_at: datetime.datetime | None
    warned: bool
    overdue: bool
    escalation_level: int
    on_behalf_of_id: uuid.UUID | None  # set when the step is a delegator's


class InboxPage(BaseStruct):
    """A page of the approvals inbox, soonest due first."""

    items: list[InboxItem]
    total: int
    next_cursor: str | None


class StepDetail(BaseStruct):
    """One step with its instance, for the decision screen."""

    step: Step
    instance: Instance
    can_decide: bool


# ---------------------------------------------------------------- out of office


class Delegation(BaseStruct):
    """While away (starts <= now < ends), ``delegate`` sees and decides the user's steps."""

    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    delegate_id: uuid.UUID
    delegate_name: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    created_at: datetime.datetime


class DelegationCreate(BaseStruct):
    """Set an out-of-office delegation for yourself."""

    delegate_id: uuid.UUID
    starts_at: datetime.datetime
    ends_at: datetime.datetime


class DelegationPage(BaseStruct):
    """A page of delegations (yours, and those naming you as deputy)."""

    items: list[Delegation]
    total: int
    next_cursor: str | None


class ScanResult(BaseStruct):
    """What one SLA scan did."""

    warned: int
    escalated: int
