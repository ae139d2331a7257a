"""What devices sync of the accounts domain: changes since a version, or a page of the full set.

The sync layer calls these inside one read snapshot; every query is limited to the actor's
current scope through ``services.visible_accounts_filter`` (the scope function).
"""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from fieldcrm.accounts import services
from fieldcrm.accounts.schemas import Account, Contact, Holding, Note
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import AccountNote as NoteRow
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.accounts.tables import Holding as HoldingRow
from fieldcrm.accounts.tables import Revenue as RevenueRow
from fieldcrm.lib.structs import BaseStruct
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

RevenueCell = tuple[uuid.UUID, str, int]


class Feed(BaseStruct):
    """Rows to upsert and ids to delete on the device."""

    accounts: list[Account]
    contacts: list[Contact]
    holdings: list[Holding]
    notes: list[Note]
    revenue: list[RevenueCell]
    deleted_accounts: list[uuid.UUID]
    deleted_contacts: list[uuid.UUID]
    deleted_holdings: list[uuid.UUID]
    deleted_notes: list[uuid.UUID]


def _in_scope(actor: Actor) -> list[Any]:
    """Conditions on accounts for the actor's scope, deleted rows included (they sync as deletes)."""
    limit = scope.owner_filter(actor, AccountRow.owner)
    return [] if limit is None else [limit]


def _scoped_ids(actor: Actor) -> Any:
    query = AccountRow.select(AccountRow.id)
    conditions = _in_scope(actor)
    return query.where(*conditions) if conditions else query


async def _children(account_ids: Any, since: int | None, window_start: datetime.date) -> tuple[list[Any], ...]:
    """Contacts, holdings, notes and revenue of the given accounts (a list or a subquery)."""

    def newer(column: Any) -> list[Any]:
        return [] if since is None else [column > since]

    live_only = since is None  # a full send needs no tombstones
    contact_where = [ContactRow.account.is_in(account_ids), *newer(ContactRow.sync_version)]
    holding_where = [HoldingRow.account.is_in(account_ids), *newer(HoldingRow.sync_version)]
    note_where = [NoteRow.account.is_in(account_ids), *newer(NoteRow.sync_version)]
    if live_only:
        contact_where.append(ContactRow.deleted_at.is_null())
        holding_where.append(HoldingRow.deleted_at.is_null())
        note_where.append(NoteRow.deleted_at.is_null())
    contacts = await ContactRow.select().where(*contact_where)
    holdings = await HoldingRow.select().where(*holding_where)
    notes = await NoteRow.select().where(*note_where)
    revenue = await RevenueRow.select(RevenueRow.account, RevenueRow.month, RevenueRow.amount_cents).where(
        RevenueRow.account.is_in(account_ids), RevenueRow.month >= window_start, *newer(RevenueRow.sync_version)
    )
    return contacts, holdings, notes, revenue


def _feed(
    accounts: Sequence[dict[str, Any]],
    children: tuple[list[Any], ...],
    *,
    extra_deleted_accounts: Sequence[uuid.UUID] = (),
) -> Feed:
    contacts, holdings, notes, revenue = children
    on = services.today()

    def split(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[uuid.UUID]]:
        live = [r for r in rows if r["deleted_at"] is None]
        gone = [r["id"] for r in rows if r["deleted_at"] is not None]
        return live, gone

    live_accounts, gone_accounts = split(accounts)
    live_contacts, gone_contacts = split(contacts)
    live_holdings, gone_holdings = split(holdings)
    live_notes, gone_notes = split(notes)
    return Feed(
        accounts=[services.account_out(r) for r in live_accounts],
        contacts=[services.contact_out(r) for r in live_contacts],
        holdings=[services.holding_out(r, on) for r in live_holdings],
        notes=[services.note_out(r) for r in live_notes],
        revenue=[(r["account"], r["month"].strftime("%Y-%m"), r["amount_cents"]) for r in revenue],
        deleted_accounts=[*gone_accounts, *extra_deleted_accounts],
        deleted_contacts=gone_contacts,
        deleted_holdings=gone_holdings,
        deleted_notes=gone_notes,
    )


async def count_changes(*, actor: Actor, since: int) -> int:
    """How many synced rows in scope changed after ``since`` (to decide between a delta and a reset)."""
    ids = _scoped_ids(actor)
    total = await AccountRow.count().where(AccountRow.sync_version > since, *_in_scope(actor))
    for table in (ContactRow, HoldingRow, NoteRow, RevenueRow):
        total += await table.count().where(table.account.is_in(ids), table.sync_version > since)
    return int(total)


async def changes_since(*, actor: Actor, since: int, moved: Sequence[uuid.UUID], window_start: datetime.date) -> Feed:
    """Everything in scope that changed after ``since``; accounts whose scope changed are re-sent whole or deleted."""
    ids = _scoped_ids(actor)
    changed = await AccountRow.select(*services.ACCOUNT_COLUMNS).where(
        AccountRow.sync_version > since, *_in_scope(actor)
    )
    children = await _children(ids, since, window_start)
    entered: list[dict[str, Any]] = []
    left: list[uuid.UUID] = []
    if moved:
        visible = {
            r["id"]
            for r in await AccountRow.select(AccountRow.id).where(AccountRow.id.is_in(list(moved)), *_in_scope(actor))
        }
        left = [account_id for account_id in set(moved) if account_id not in visible]
        arrived = [account_id for account_id in visible if account_id not in {r["id"] for r in changed}]
        if visible:
            entered = await AccountRow.select(*services.ACCOUNT_COLUMNS).where(
                AccountRow.id.is_in(list(visible)), AccountRow.deleted_at.is_null()
            )
            entered = [r for r in entered if r["id"] in arrived]
            full = await _children(list(visible), None, window_start)
            children = tuple([*a, *b] for a, b in zip(children, full, strict=True))
    return _feed([*changed, *entered], children, extra_deleted_accounts=left)


async def snapshot_page(*, actor: Actor, after: uuid.UUID | None, limit: int, window_start: datetime.date) -> Feed:
    """A page of the live accounts in scope (by id) with all their contacts, holdings, notes and revenue."""
    conditions = [AccountRow.deleted_at.is_null(), *_in_scope(actor)]
    if after is not None:
        conditions.append(AccountRow.id > after)
    accounts = (
        await AccountRow.select(*services.ACCOUNT_COLUMNS).where(*conditions).order_by(AccountRow.id).limit(limit)
    )
    ids = [r["id"] for r in accounts]
    children = await _children(ids, None, window_start) if ids else ([], [], [], [])
    return _feed(accounts, children)
