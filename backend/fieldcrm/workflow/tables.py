"""Workflow definitions (versioned), instances, steps, deciders, decisions, idempotency keys, delegations."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fieldcrm.lib.tables import created_column, pk
from fieldcrm.org.tables import User


class WorkflowDefinition(Table, tablename="workflow_definitions"):
    """One version of a definition; the newest version of a key is the one new instances use."""

    id = pk()
    key = Varchar(length=64, index=True)
    version = Integer()
    subject = Varchar(length=32, index=True)
    type = Varchar(length=16, default="approval")  # approval | work_order
    is_default = Boolean(default=False)
    body = JSON(default="{}")
    body_hash = Varchar(length=64)
    source = Varchar(length=8, default="file")  # file | api
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_by_name = Varchar(length=120, default="system")
    created_at = created_column()


class WorkflowInstance(Table, tablename="workflow_instances"):
    """A run of one definition version on one subject."""

    id = pk()
    definition = ForeignKey(WorkflowDefinition, on_delete=OnDelete.restrict, index=True)
    definition_key = Varchar(length=64)
    definition_version = Integer()
    workflow_type = Varchar(length=16, default="approval")
    subject_kind = Varchar(length=32)
    subject_id = UUID(index=True)
    subject_version = Integer(default=1)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    account_id = UUID(null=True, default=None)
    title = Varchar(length=300, default="")
    url = Varchar(length=300, default="")
    facts = JSON(default="{}")
    stages = JSON(default="[]")  # [[step name, ...], ...] chosen by the rules at start
    steps_spec = JSON(default="{}")  # the step specs of the definition version, copied at start
    status = Varchar(length=16, default="running", index=True)
    stage = Integer(default=0)
    started_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    started_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)


class WorkflowStep(Table, tablename="workflow_steps"):
    """One step of an instance's stage; ``next_timer_at`` is the next SLA event (warning or escalation)."""

    id = pk()
    instance = ForeignKey(WorkflowInstance, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=64)
    label = Varchar(length=120, default="")
    stage = Integer(default=0)
    status = Varchar(length=16, default="pending")
    decider_kind = Varchar(length=64)
    quorum = Varchar(length=16, default="any")  # all | any | n:<k>
    needed = Integer(default=1)
    approvals = Integer(default=0)
    sla_s = Integer(null=True, default=None)
    warn_before_s = Integer(null=True, default=None)
    activated_at = Timestamptz(default=TimestamptzNow())
    due_at = Timestamptz(null=True, default=None)
    warn_at = Timestamptz(null=True, default=None)
    warned_at = Timestamptz(null=True, default=None)
    escalation_level = Integer(default=0)
    # Pending steps only: the time of the next warning or escalation, NULL when none is due (see migrations).
    next_timer_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)


class WorkflowStepDecider(Table, tablename="workflow_step_deciders"):
    """Who may decide a step; ``is_open`` while the step is pending and this person has not decided."""

    id = pk()
    step = ForeignKey(WorkflowStep, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    level = Integer(default=0)
    is_open = Boolean(default=True)
    decided = Boolean(default=False)
    # The step's due time (steps without an SLA: ten years after activation, after everything due), copied
    # here so that the inbox is one index range in order.
    sort_at = Timestamptz(default=TimestamptzNow())
    activated_at = Timestamptz(default=TimestamptzNow())


class WorkflowDecision(Table, tablename="workflow_decisions"):
    """A decision; ``on_behalf_of`` names the decider a deputy acted for."""

    id = pk()
    step = ForeignKey(WorkflowStep, on_delete=OnDelete.cascade, index=True)
    decision = Varchar(length=8)  # approve | reject | return
    comment = Text(default="")
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    actor_name = Varchar(length=120, default="")
    on_behalf_of = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    on_behalf_of_name = Varchar(length=120, null=True, default=None)
    subject_version = Integer(default=0)
    at = Timestamptz(default=TimestamptzNow())


class WorkflowIdempotencyKey(Table, tablename="workflow_idempotency_keys"):
    """A decision request seen once: the same key from the same user answers the stored response."""

    id = pk()
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    key = Varchar(length=200)
    request_hash = Varchar(length=64)
    response = Text(null=True, default=None)  # JSON of the DecisionResult
    created_at = created_column()


class WorkflowDelegation(Table, tablename="workflow_delegations"):
    """Out of office: between starts and ends, ``delegate`` sees and decides ``user``'s steps."""

    id = pk()
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    delegate = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    created_at = created_column()
