"""HTTP doors of the workflow engine: the approvals inbox and decisions, definitions, history, delegations."""

import uuid
from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.params import HeaderParameter, Parameter, QueryParameter

from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow import services
from fieldcrm.workflow.schemas import (
    DecisionCreate,
    DecisionResult,
    Definition,
    DefinitionPage,
    Delegation,
    DelegationCreate,
    DelegationPage,
    InboxPage,
    InstancePage,
    StepDetail,
)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Required: a new value for each decision; repeating it repeats the first answer.",
    ),
]
SubjectKind = Annotated[str, QueryParameter(name="subjectKind", max_length=32, description="quote, case, project ...")]


class ApprovalController(Controller):
    """The approvals inbox: steps waiting for the caller (and for those they deputise for)."""

    path = "/approvals"
    tags = ["approvals"]

    @get("/")
    async def inbox(
        self, actor: Actor, page: PageParams, kind: Annotated[str | None, Parameter(max_length=32)] = None
    ) -> InboxPage:
        """Open steps for me, soonest due first, with the subject's title and facts, due and overdue flags."""
        return await services.inbox(actor=actor, page=page, kind=kind)

    @get("/{step_id:uuid}")
    async def get_step(self, actor: Actor, step_id: uuid.UUID) -> StepDetail:
        """One step with its instance's chain, decisions so far, and whether I may decide it."""
        return await services.get_step(actor=actor, step_id=step_id)

    @post("/{step_id:uuid}/decision", status_code=200)
    async def decide(
        self, actor: Actor, step_id: uuid.UUID, data: DecisionCreate, idempotency_key: IdempotencyKey = None
    ) -> DecisionResult:
        """Approve, reject or return (with a comment). Send an Idempotency-Key; a repeat answers the same."""
        return await services.decide(
            actor=actor,
            step_id=step_id,
            decision=data.decision,
            comment=data.comment,
            idempotency_key=idempotency_key,
            subject_version=data.subject_version,
        )


class WorkflowDefinitionController(Controller):
    """Approval chains and work orders as data (HQ): each save is a new version."""

    path = "/workflow-definitions"
    tags = ["workflow"]

    @get("/")
    async def list_definitions(self, actor: Actor, page: PageParams) -> DefinitionPage:
        """The newest version of each definition."""
        return await services.list_definitions(actor=actor, page=page)

    @get("/{key:str}")
    async def get_definition(
        self, actor: Actor, key: str, version: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None
    ) -> Definition:
        """A definition's newest version, or the version asked for."""
        return await services.get_definition(actor=actor, key=key, version=version)

    @put("/{key:str}")
    async def put_definition(self, actor: Actor, key: str, data: dict[str, Any]) -> Definition:
        """Save a new version (validated; running instances keep theirs)."""
        return await services.put_definition(actor=actor, key=key, body=data)


class WorkflowInstanceController(Controller):
    """The workflow history of one subject."""

    path = "/workflow-instances"
    tags = ["workflow"]

    @get("/")
    async def history(
        self,
        actor: Actor,
        page: PageParams,
        subject_kind: SubjectKind,
        subject_id: Annotated[uuid.UUID, QueryParameter(name="subjectId")],
    ) -> InstancePage:
        """Instances of one subject, newest first, with their steps and decisions."""
        return await services.history(actor=actor, kind=subject_kind, subject_id=subject_id, page=page)


class DelegationController(Controller):
    """Out of office: who sees and decides my steps while I am away."""

    path = "/delegations"
    tags = ["approvals"]

    @get("/")
    async def list_delegations(self, actor: Actor, page: PageParams) -> DelegationPage:
        """My delegations and those naming me as deputy."""
        return await services.list_delegations(actor=actor, page=page)

    @post("/")
    async def create_delegation(self, actor: Actor, data: DelegationCreate) -> Delegation:
        """Name a deputy for a period."""
        return await services.create_delegation(actor=actor, data=data)

    @delete("/{delegation_id:uuid}")
    async def delete_delegation(self, actor: Actor, delegation_id: uuid.UUID) -> None:
        """End one of my delegations."""
        await services.delete_delegation(actor=actor, delegation_id=delegation_id)


CONTROLLERS = [ApprovalController, WorkflowDefinitionController, WorkflowInstanceController, DelegationController]
