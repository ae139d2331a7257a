"""HTTP doors of tasks, the calendar and the personal ICS feed."""

import datetime
import uuid
from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import QueryParameter

from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.tasks import calendar, ics, services
from fieldcrm.tasks.schemas import (
    Calendar,
    FeedSecret,
    FeedStatus,
    Kind,
    Sort,
    Source,
    State,
    Task,
    TaskComplete,
    TaskCreate,
    TaskPage,
    TaskPatch,
    TaskSkip,
)

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"


class TaskController(Controller):
    """Tasks of the people the caller sees (the assignee's scope)."""

    path = "/tasks"
    tags = ["tasks"]

    @get("/")
    async def list_tasks(
        self,
        actor: Actor,
        page: PageParams,
        assignee_id: Annotated[uuid.UUID | None, QueryParameter(name="assigneeId")] = None,
        task_state: Annotated[State | None, QueryParameter(name="state")] = None,
        due_from: Annotated[datetime.date | None, QueryParameter(name="dueFrom")] = None,
        due_to: Annotated[datetime.date | None, QueryParameter(name="dueTo")] = None,
        overdue: Annotated[bool, QueryParameter(description="open and due before today")] = False,
        account_id: Annotated[uuid.UUID | None, QueryParameter(name="accountId")] = None,
        kind: Kind | None = None,
        source: Source | None = None,
        sort: Annotated[Sort, QueryParameter(description="due, -due, priority (most urgent first), -priority")] = "due",
    ) -> TaskPage:
        """Tasks in scope, filtered; soonest due first unless sorted otherwise."""
        return await services.list_tasks(
            actor=actor,
            page=page,
            assignee_id=assignee_id,
            state=task_state,
            due_from=due_from,
            due_to=due_to,
            overdue=overdue,
            account_id=account_id,
            kind=kind,
            source=source,
            sort=sort,
        )

    @get("/today")
    async def today(self, actor: Actor, page: PageParams) -> TaskPage:
        """My open tasks due today and overdue (business time zone)."""
        return await services.today(actor=actor, page=page)

    @post("/")
    async def create_task(self, actor: Actor, data: TaskCreate) -> Task:
        """Create a task (for myself; a leader for anyone in their subtree)."""
        return await services.create_task(actor=actor, data=data)

    @get("/{task_id:uuid}")
    async def get_task(self, actor: Actor, task_id: uuid.UUID) -> Task:
        """One task."""
        return await services.get_task(actor=actor, task_id=task_id)

    @patch("/{task_id:uuid}")
    async def update_task(self, actor: Actor, task_id: uuid.UUID, data: TaskPatch) -> Task:
        """Change a task; a stale baseVersion on due date or assignee answers 409 with the conflicts."""
        return await services.update_task(actor=actor, task_id=task_id, data=data)

    @delete("/{task_id:uuid}")
    async def delete_task(self, actor: Actor, task_id: uuid.UUID) -> None:
        """Remove a task I made (a leader: any task in their scope)."""
        await services.delete_task(actor=actor, task_id=task_id)

    @post("/{task_id:uuid}/complete", status_code=200)
    async def complete(self, actor: Actor, task_id: uuid.UUID, data: TaskComplete) -> Task:
        """Mark done with the outcome; a recurring task's next occurrence appears."""
        return await services.complete_task(actor=actor, task_id=task_id, data=data)

    @post("/{task_id:uuid}/skip", status_code=200)
    async def skip(self, actor: Actor, task_id: uuid.UUID, data: TaskSkip) -> Task:
        """Skip, with the reason (required)."""
        return await services.skip_task(actor=actor, task_id=task_id, data=data)

    @post("/{task_id:uuid}/reopen", status_code=200)
    async def reopen(self, actor: Actor, task_id: uuid.UUID) -> Task:
        """Open a done or skipped task again."""
        return await services.reopen_task(actor=actor, task_id=task_id)


class CalendarController(Controller):
    """A person's calendar, and the secret address of their iCalendar feed."""

    path = "/calendar"
    tags = ["tasks"]

    @get("/")
    async def get_calendar(
        self,
        actor: Actor,
        start: Annotated[datetime.date, QueryParameter(name="from")],
        end: Annotated[datetime.date, QueryParameter(name="to", description="included; at most 92 days after from")],
        user_id: Annotated[uuid.UUID | None, QueryParameter(name="userId", description="a person I see")] = None,
    ) -> Calendar:
        """Visit plans, tasks, contract end dates and approvals waiting, from ``from`` to ``to``."""
        return await calendar.get_calendar(actor=actor, start=start, end=end, user_id=user_id)

    @get("/feed")
    async def feed_status(self, actor: Actor) -> FeedStatus:
        """Whether I have a feed address (the secret itself is shown only when made)."""
        return await ics.feed_status(actor=actor)

    @post("/feed")
    async def rotate_feed(self, actor: Actor) -> FeedSecret:
        """Make a new feed address (the old one stops working); shown this once."""
        return await ics.rotate_feed(actor=actor)

    @delete("/feed")
    async def revoke_feed(self, actor: Actor) -> None:
        """Turn my feed address off."""
        await ics.revoke_feed(actor=actor)

    @get("/{name:str}", opt={"public": True}, security=[], media_type=ICS_MEDIA_TYPE)
    async def feed(self, name: str) -> Response[bytes]:
        """The iCalendar feed at ``/api/calendar/{secret}.ics``: no session, the address is the key."""
        body = await ics.render_feed(name=name)
        return Response(body, media_type=ICS_MEDIA_TYPE, headers={"Cache-Control": "private, max-age=300"})


CONTROLLERS = [TaskController, CalendarController]
