"""Recording and reading the audit trail."""

import datetime
import decimal
import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fieldcrm.audit.schemas import AuditEntry, AuditPage
from fieldcrm.audit.tables import AuditEntry as AuditRow
from fieldcrm.lib.db import insert_rows
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _person_id(actor: Actor | None) -> uuid.UUID | None:
    # A service account is not a user: its entries carry its name (display_name) and no user id.
    return actor.id if actor is not None and actor.service_scopes is None else None


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """Changed fields as {field: [before, after]}; a create has only afters, a delete only befores."""
    before = before or {}
    after = after or {}
    keys = [k for k in (*before.keys(), *(k for k in after if k not in before)) if k not in _NOT_AUDITED]
    changes: dict[str, list[Any]] = {}
    for key in keys:
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


_NOT_AUDITED = frozenset(
    {"updated_at", "created_at", "version", "search_text", "password_hash", "h3_r3", "h3_r5", "h3_r7"}
)


async def record(
    *,
    actor: Actor | None,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    account_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry inside the caller's transaction (skipped when nothing changed)."""
    changes = changes if changes is not None else diff(before, after)
    if action == "update" and not changes:
        return
    await AuditRow.insert(
        AuditRow(
            actor=_person_id(actor),
            actor_name=actor.display_name if actor else "system",
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            action=action,
            changes=changes,
        )
    )


async def record_many(rows: Sequence[AuditRow]) -> None:
    """Write audit rows prepared with ``entry_row`` in one executemany, inside the caller's transaction."""
    await insert_rows(AuditRow, rows)


def entry_row(
    *,
    actor: Actor | None,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    changes: dict[str, Any],
    account_id: uuid.UUID | None = None,
) -> AuditRow:
    """An audit row to be written later with ``record_many``."""
    return AuditRow(
        actor=_person_id(actor),
        actor_name=actor.display_name if actor else "system",
        entity=entity,
        entity_id=entity_id,
        account_id=account_id,
        action=action,
        changes=changes,
    )


async def trail(
    *, account_id: uuid.UUID | None = None, entity_id: uuid.UUID | None = None, page: PageParams
) -> AuditPage:
    """Audit entries of one account (itself, its contacts, holdings, revenue) or of one entity, newest first.

    The caller has already checked that the actor may see the subject.
    """
    where = AuditRow.account_id == account_id if account_id is not None else AuditRow.entity_id == entity_id
    rows = await (
        AuditRow.select()
        .where(where)
        .order_by(AuditRow.at, ascending=False)
        .order_by(AuditRow.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    total = await AuditRow.count().where(where)
    return AuditPage(items=[to_entry(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


def to_entry(row: Mapping[str, Any]) -> AuditEntry:
    """An audit row as its API shape."""
    changes = row["changes"]
    if isinstance(changes, str):
        changes = json.loads(changes)
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor_id=row["actor"],
        actor_name=row["actor_name"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        account_id=row["account_id"],
        action=row["action"],
        changes=changes,
    )
