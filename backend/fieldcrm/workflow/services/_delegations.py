"""Out of office: delegations to a deputy."""

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import read_transaction, write_transaction
from fieldcrm.lib.errors import InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.workflow.schemas import Delegation, DelegationCreate, DelegationPage
from fieldcrm.workflow.services._common import MAX_DELEGATION
from fieldcrm.workflow.tables import WorkflowDelegation


def _delegation_out(row: Mapping[str, Any]) -> Delegation:
    return Delegation(
        id=row["id"],
        user_id=row["user"],
        user_name=row["user_name"],
        delegate_id=row["delegate"],
        delegate_name=row["delegate_name"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
    )


_DELEGATION_COLUMNS = (
    *WorkflowDelegation.all_columns(),
    WorkflowDelegation.user.display_name.as_alias("user_name"),
    WorkflowDelegation.delegate.display_name.as_alias("delegate_name"),
)


async def list_delegations(*, actor: Actor, page: PageParams) -> DelegationPage:
    """Your delegations and those naming you as deputy, latest start first."""
    scope.require(actor, "delegations.manage")
    where = (WorkflowDelegation.user == actor.id) | (WorkflowDelegation.delegate == actor.id)
    async with read_transaction():
        rows = await (
            WorkflowDelegation.select(*_DELEGATION_COLUMNS)
            .where(where)
            .order_by(WorkflowDelegation.starts_at, ascending=False)
            .order_by(WorkflowDelegation.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await WorkflowDelegation.count().where(where)
    return DelegationPage(items=[_delegation_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


def _check_deputy(actor: Actor, *, role: str, path: str) -> None:
    """A deputy is a leader (manager, director, HQ) whose place in the tree overlaps the delegator's.

    That is someone in the delegator's scope, or a leader above the delegator. A peer elsewhere in the
    tree would only ever see their own scope's subjects (a delegation never widens it), so they are refused
    rather than named for nothing; a rep never decides for anybody.
    """
    if role not in scope.LEADERS:
        msg = "the deputy must be a manager, director or HQ admin: a rep cannot decide on someone's behalf"
        raise InvalidInput(msg, field="delegateId")
    in_my_scope = scope.unit_in_subtree(actor, path)
    above_me = role == "hq_admin" or actor.org_path.startswith(path)
    if not (in_my_scope or above_me):
        msg = "the deputy must work in your part of the organisation (in your unit or below it) or above you"
        raise InvalidInput(msg, field="delegateId")


async def create_delegation(*, actor: Actor, data: DelegationCreate) -> Delegation:
    """While you are away, someone else sees and decides your steps (audited as "deputy for you")."""
    scope.require(actor, "delegations.manage")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        msg = "give times with a zone offset, e.g. 2026-12-01T09:00:00+08:00"
        raise InvalidInput(msg, field="startsAt")
    if data.ends_at <= data.starts_at:
        msg = "endsAt must come after startsAt"
        raise InvalidInput(msg, field="endsAt")
    if data.ends_at <= utcnow():
        msg = "endsAt is in the past: this delegation would never be in force"
        raise InvalidInput(msg, field="endsAt")
    if data.ends_at - data.starts_at > MAX_DELEGATION:
        msg = "a delegation lasts at most a year; set a new one when it ends"
        raise InvalidInput(msg, field="endsAt")
    if data.delegate_id == actor.id:
        msg = "choose someone else as your deputy"
        raise InvalidInput(msg, field="delegateId")
    async with write_transaction():
        delegate = await (
            User.select(User.is_active, User.role, User.org_unit.path.as_alias("path"))
            .where(User.id == data.delegate_id)
            .first()
        )
        if delegate is None or not delegate["is_active"]:
            msg = "the deputy must be an active user"
            raise InvalidInput(msg, field="delegateId")
        _check_deputy(actor, role=delegate["role"], path=delegate["path"])
        delegation_id = new_id()
        await WorkflowDelegation.insert(
            WorkflowDelegation(
                id=delegation_id,
                user=actor.id,
                delegate=data.delegate_id,
                starts_at=data.starts_at.astimezone(datetime.UTC),
                ends_at=data.ends_at.astimezone(datetime.UTC),
            )
        )
        await audit.record(
            actor=actor,
            entity="delegation",
            entity_id=delegation_id,
            action="create",
            changes={
                "delegate": [None, str(data.delegate_id)],
                "startsAt": [None, data.starts_at.isoformat()],
                "endsAt": [None, data.ends_at.isoformat()],
            },
        )
        row = (
            await WorkflowDelegation.select(*_DELEGATION_COLUMNS).where(WorkflowDelegation.id == delegation_id).first()
        )
    return _delegation_out(row or {})


async def delete_delegation(*, actor: Actor, delegation_id: uuid.UUID) -> None:
    """End one of your own delegations."""
    scope.require(actor, "delegations.manage")
    async with write_transaction():
        row = (
            await WorkflowDelegation.select(WorkflowDelegation.id)
            .where(WorkflowDelegation.id == delegation_id, WorkflowDelegation.user == actor.id)
            .first()
        )
        if row is None:
            msg = f"delegation {delegation_id} not found"
            raise NotFound(msg)
        await WorkflowDelegation.delete().where(WorkflowDelegation.id == delegation_id)
        await audit.record(actor=actor, entity="delegation", entity_id=delegation_id, action="delete", changes={})
