"""The inbox: open steps waiting for a person and for those they deputise for."""

import uuid
from typing import Any

from fieldcrm.lib.db import read_transaction
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow import deciders
from fieldcrm.workflow.schemas import InboxItem, InboxPage
from fieldcrm.workflow.services._common import _json
from fieldcrm.workflow.tables import WorkflowStepDecider

_VIA_STEP: Any = WorkflowStepDecider.step.instance  # joined twice; Piccolo's stubs type one level of join
_INBOX_COLUMNS = (
    WorkflowStepDecider.step,
    WorkflowStepDecider.user,
    WorkflowStepDecider.step.name.as_alias("step_name"),
    WorkflowStepDecider.step.label.as_alias("step_label"),
    WorkflowStepDecider.step.activated_at.as_alias("activated_at"),
    WorkflowStepDecider.step.due_at.as_alias("due_at"),
    WorkflowStepDecider.step.warned_at.as_alias("warned_at"),
    WorkflowStepDecider.step.escalation_level.as_alias("escalation_level"),
    _VIA_STEP.as_alias("instance_id"),
    _VIA_STEP.definition_key.as_alias("definition_key"),
    _VIA_STEP.workflow_type.as_alias("workflow_type"),
    _VIA_STEP.subject_kind.as_alias("subject_kind"),
    _VIA_STEP.subject_id.as_alias("subject_id"),
    _VIA_STEP.subject_version.as_alias("subject_version"),
    _VIA_STEP.title.as_alias("title"),
    _VIA_STEP.url.as_alias("url"),
    _VIA_STEP.facts.as_alias("facts"),
    _VIA_STEP.owner.as_alias("owner_id"),
    _VIA_STEP.owner.display_name.as_alias("owner_name"),
)


def _decidable_by(actor: Actor, delegators: list[uuid.UUID]) -> Any:
    """Decider rows the actor may act on: their own, and their delegators' on subjects within the actor's scope.

    Approvals the actor (or the person deputised for) owns or submitted are left out: separation of duties.
    """
    rows: Any = WorkflowStepDecider.user == actor.id
    if delegators:
        deputised = WorkflowStepDecider.user.is_in(delegators)
        in_scope = scope.owner_filter(actor, _VIA_STEP.owner)
        rows |= deputised if in_scope is None else deputised & in_scope
    not_own = (_VIA_STEP.owner != actor.id) & (_VIA_STEP.started_by.is_null() | (_VIA_STEP.started_by != actor.id))
    for person in delegators:
        not_own &= (WorkflowStepDecider.user != person) | (
            (_VIA_STEP.owner != person) & (_VIA_STEP.started_by.is_null() | (_VIA_STEP.started_by != person))
        )
    return rows & ((_VIA_STEP.workflow_type != "approval") | not_own)


async def inbox(*, actor: Actor, page: PageParams, kind: str | None = None) -> InboxPage:
    """Open steps waiting for the actor and for those they deputise for, soonest due first."""
    scope.require(actor, "approvals.read")
    now = utcnow()
    async with read_transaction():
        where = WorkflowStepDecider.is_open.eq(True) & _decidable_by(
            actor, await deciders.delegators_of(actor.id, now) if actor.role != "rep" else []
        )
        if kind is not None:
            where &= _VIA_STEP.subject_kind == kind
        rows = await (
            WorkflowStepDecider.select(*_INBOX_COLUMNS)
            .where(where)
            .order_by(WorkflowStepDecider.sort_at)
            .order_by(WorkflowStepDecider.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await WorkflowStepDecider.count().where(where)
    items: list[InboxItem] = []
    seen: set[Any] = set()
    for r in rows:
        if r["step"] in seen:  # the caller and someone they deputise for both decide it
            continue
        seen.add(r["step"])
        due = r["due_at"]
        items.append(
            InboxItem(
                step_id=r["step"],
                instance_id=r["instance_id"],
                step_name=r["step_name"],
                step_label=r["step_label"],
                definition_key=r["definition_key"],
                workflow_type=r["workflow_type"],
                subject_kind=r["subject_kind"],
                subject_id=r["subject_id"],
                subject_version=r["subject_version"],
                title=r["title"],
                url=r["url"],
                facts=_json(r["facts"]),
                owner_id=r["owner_id"],
                owner_name=r["owner_name"] or "",
                waiting_since=r["activated_at"],
                due_at=due,
                warned=r["warned_at"] is not None,
                overdue=due is not None and due <= now,
                escalation_level=r["escalation_level"],
                on_behalf_of_id=r["user"] if r["user"] != actor.id else None,
            )
        )
    return InboxPage(items=items, total=total, next_cursor=page.next_cursor(total))
