"""HTTP doors of cases and delivery projects (their steps are done through /api/approvals)."""

import datetime
import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter, QueryParameter

from fieldcrm.cases import services
from fieldcrm.cases.schemas import (
    Case,
    CaseCreate,
    CasePage,
    CaseState,
    CaseType,
    Priority,
    Project,
    ProjectCreate,
    ProjectPage,
    ProjectState,
)
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor

AccountId = Annotated[uuid.UUID | None, QueryParameter(name="accountId", description="The customer")]
OwnerId = Annotated[uuid.UUID | None, QueryParameter(name="ownerId", description="The account manager")]


class CaseController(Controller):
    """Complaints, faults and service requests on the accounts the caller sees."""

    path = "/cases"
    tags = ["cases"]

    @get("/")
    async def list_cases(
        self,
        actor: Actor,
        page: PageParams,
        account_id: AccountId = None,
        case_state: Annotated[CaseState | None, QueryParameter(name="state")] = None,
        case_type: Annotated[CaseType | None, QueryParameter(name="type")] = None,
        priority: Priority | None = None,
        owner_id: OwnerId = None,
        overdue: Annotated[bool, Parameter(description="only open cases past their SLA")] = False,
    ) -> CasePage:
        """Cases, soonest due first."""
        return await services.list_cases(
            actor=actor,
            page=page,
            account_id=account_id,
            state=case_state,
            case_type=case_type,
            priority=priority,
            owner_id=owner_id,
            overdue=overdue,
        )

    @post("/")
    async def create_case(self, actor: Actor, data: CaseCreate) -> Case:
        """Open a case; its steps start at once with the priority's SLAs."""
        return await services.create_case(actor=actor, data=data)

    @get("/{case_id:uuid}")
    async def get_case(self, actor: Actor, case_id: uuid.UUID) -> Case:
        """One case with its open steps."""
        return await services.get_case(actor=actor, case_id=case_id)


class ProjectController(Controller):
    """Delivery projects of won opportunities."""

    path = "/projects"
    tags = ["cases"]

    @get("/")
    async def search_projects(
        self,
        actor: Actor,
        page: PageParams,
        q: Annotated[str | None, Parameter(max_length=100, description="Project or customer name")] = None,
        start_from: Annotated[datetime.date | None, QueryParameter(name="startFrom")] = None,
        start_to: Annotated[datetime.date | None, QueryParameter(name="startTo")] = None,
        owner_id: OwnerId = None,
        account_id: AccountId = None,
        project_state: Annotated[ProjectState | None, QueryParameter(name="state")] = None,
    ) -> ProjectPage:
        """Search projects by name, start date, account manager and customer, newest start first."""
        return await services.search_projects(
            actor=actor,
            page=page,
            q=q,
            start_from=start_from,
            start_to=start_to,
            owner_id=owner_id,
            account_id=account_id,
            state=project_state,
        )

    @post("/")
    async def create_project(self, actor: Actor, data: ProjectCreate) -> Project:
        """Start delivering a won opportunity."""
        return await services.create_project(actor=actor, data=data)

    @get("/{project_id:uuid}")
    async def get_project(self, actor: Actor, project_id: uuid.UUID) -> Project:
        """One project with its open steps."""
        return await services.get_project(actor=actor, project_id=project_id)


CONTROLLERS = [CaseController, ProjectController]
