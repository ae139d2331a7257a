"""Use cases of key accounts: CRUD, search, contacts, holdings, revenue, tier overrides, the 360 view."""

import dataclasses
import datetime
import json
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from piccolo.columns import Column
from piccolo.table import Table

from fieldcrm.accounts import geo, timeline
from fieldcrm.accounts.schemas import (
    Account,
    AccountCreate,
    AccountPage,
    AccountPatch,
    AccountRef,
    AccountSummary,
    Contact,
    ContactCreate,
    ContactPage,
    ContactPatch,
    Holding,
    HoldingCreate,
    HoldingPage,
    HoldingPatch,
    Note,
    NoteCreate,
    NotePage,
    Overview,
    RevenueMonth,
    RevenuePut,
    TierExplanation,
    TierOverride,
    TimelineItem,
)
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import AccountNote as NoteRow
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.accounts.tables import Holding as HoldingRow
from fieldcrm.accounts.tables import Revenue as RevenueRow
from fieldcrm.accounts.tables import SegmentationRun
from fieldcrm.audit import services as audit
from fieldcrm.audit.schemas import AuditPage
from fieldcrm.audit.tables import AuditEntry
from fieldcrm.lib.db import (
    as_date,
    as_uuid,
    contains_text,
    is_unique_violation,
    read_transaction,
    required,
    write_transaction,
)
from fieldcrm.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from fieldcrm.lib.locking import lock_row
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit, User

ENDING_SOON_DAYS = 90
SortKey = Literal["name", "-name", "code", "-code", "revenue", "-revenue", "updated", "-updated", "tier", "-tier"]
_SORT_COLUMNS = {
    "name": AccountRow.name,
    "code": AccountRow.code,
    "revenue": AccountRow.revenue_12m_cents,
    "updated": AccountRow.updated_at,
    "tier": AccountRow.tier,
}


def fold(text: str) -> str:
    """Normalise text for search: NFKC (full-width to half-width) then case-fold."""
    return unicodedata.normalize("NFKC", text).casefold()


def today() -> datetime.date:
    """Today's date in UTC."""
    return utcnow().date()


# ---------------------------------------------------------------- row -> struct

ACCOUNT_COLUMNS = (
    *AccountRow.all_columns(exclude=[AccountRow.search_text]),
    AccountRow.owner.display_name.as_alias("owner_name"),
    AccountRow.org_unit.name.as_alias("org_unit_name"),
)
_SUMMARY_COLUMNS = (
    AccountRow.id,
    AccountRow.code,
    AccountRow.name,
    AccountRow.industry,
    AccountRow.tier,
    AccountRow.status,
    AccountRow.city,
    AccountRow.owner,
    AccountRow.owner.display_name.as_alias("owner_name"),
    AccountRow.org_unit,
    AccountRow.revenue_12m_cents,
    AccountRow.member_lines,
    AccountRow.parent,
    AccountRow.latitude,
    AccountRow.longitude,
    AccountRow.updated_at,
)


def account_out(row: Mapping[str, Any]) -> Account:
    """An account row (selected with ACCOUNT_COLUMNS) as its API shape."""
    return Account(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        industry=row["industry"],
        tier=row["tier"],
        computed_tier=row["computed_tier"],
        tier_override=row["tier_override"],
        tier_override_reason=row["tier_override_reason"],
        revenue_12m_cents=row["revenue_12m_cents"],
        owner_id=row["owner"],
        owner_name=row["owner_name"],
        org_unit_id=row["org_unit"],
        org_unit_name=row["org_unit_name"],
        address=row["address"],
        city=row["city"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        visit_radius_m=row["visit_radius_m"],
        status=row["status"],
        parent_id=row["parent"],
        member_lines=row["member_lines"],
        notes=row["notes"],
        version=row["version"],
        last_visited_on=as_date(row["last_visited_on"]) if row.get("last_visited_on") else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _summary_out(row: Mapping[str, Any]) -> AccountSummary:
    return AccountSummary(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        industry=row["industry"],
        tier=row["tier"],
        status=row["status"],
        city=row["city"],
        owner_id=row["owner"],
        owner_name=row["owner_name"],
        org_unit_id=row["org_unit"],
        revenue_12m_cents=row["revenue_12m_cents"],
        member_lines=row["member_lines"],
        parent_id=row["parent"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        updated_at=row["updated_at"],
    )


def _phones(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [str(v) for v in value or []]


def contact_out(row: Mapping[str, Any]) -> Contact:
    """A contact row as its API shape."""
    return Contact(
        id=row["id"],
        account_id=row["account"],
        name=row["name"],
        title=row["title"],
        phones=_phones(row["phones"]),
        email=row["email"],
        decision_role=row["decision_role"],
        notes=row["notes"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def holding_out(row: Mapping[str, Any], on: datetime.date | None = None) -> Holding:
    """A holding row as its API shape, with days until its contract ends (from ``on``, default today)."""
    end = row["contract_end"]
    return Holding(
        id=row["id"],
        account_id=row["account"],
        product_code=row["product_code"],
        product=row["product"],
        quantity=row["quantity"],
        monthly_fee_cents=row["monthly_fee_cents"],
        contract_start=row["contract_start"],
        contract_end=end,
        ends_in_days=(end - (on or today())).days if end else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- scope helpers


def _visible(actor: Actor) -> list[Any]:
    conditions: list[Any] = [AccountRow.deleted_at.is_null()]
    if (limit := scope.owner_filter(actor, AccountRow.owner)) is not None:
        conditions.append(limit)
    return conditions


async def _account_row(actor: Actor, account_id: uuid.UUID) -> dict[str, Any]:
    """The account if the actor may see it; 404 otherwise (the same answer as a missing one)."""
    row = await AccountRow.select(*ACCOUNT_COLUMNS).where(AccountRow.id == account_id, *_visible(actor)).first()
    if row is None:
        msg = f"account {account_id} not found"
        raise NotFound(msg)
    return row


async def ensure_visible(*, actor: Actor, account_id: uuid.UUID) -> None:
    """Raise NotFound unless the actor may see the account (for other domains' account-owned data)."""
    if not await AccountRow.exists().where(AccountRow.id == account_id, *_visible(actor)):
        msg = f"account {account_id} not found"
        raise NotFound(msg)


def visible_accounts_filter(actor: Actor) -> list[Any]:
    """WHERE conditions on the accounts table limiting it to what the actor sees (live, in scope)."""
    return _visible(actor)


async def _check_owner(actor: Actor, owner_id: uuid.UUID) -> dict[str, Any]:
    query = User.select(User.id, User.org_unit, User.is_active).where(User.id == owner_id)
    if (limit := scope.user_filter(actor)) is not None:
        query = query.where(limit)
    owner = await query.first()
    if owner is None or not owner["is_active"]:
        msg = f"owner {owner_id} is not an active person in your part of the org tree"
        raise InvalidInput(msg, field="ownerId")
    return owner


async def _check_unit(actor: Actor, unit_id: uuid.UUID) -> None:
    unit = await OrgUnit.select(OrgUnit.path).where(OrgUnit.id == unit_id).first()
    if unit is None or not scope.unit_in_subtree(actor, unit["path"]):
        msg = f"org unit {unit_id} is not in your part of the org tree"
        raise InvalidInput(msg, field="orgUnitId")


async def _check_parent(actor: Actor, parent_id: uuid.UUID, account_id: uuid.UUID | None) -> None:
    if parent_id == account_id:
        msg = "an account cannot be its own parent group"
        raise InvalidInput(msg, field="parentId")
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = parent_id
    first = True
    while current is not None and current not in seen:
        seen.add(current)
        if first:
            row = await AccountRow.select(AccountRow.parent).where(AccountRow.id == current, *_visible(actor)).first()
            first = False
        else:
            row = await AccountRow.select(AccountRow.parent).where(AccountRow.id == current).first()
        if row is None:
            if len(seen) == 1:
                msg = f"parent account {parent_id} not found"
                raise InvalidInput(msg, field="parentId")
            break
        current = row["parent"]
        if account_id is not None and current == account_id:
            msg = "that parent group is itself a member of this account; groups cannot form a loop"
            raise InvalidInput(msg, field="parentId")


def _check_location(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        msg = "give latitude and longitude together, or neither"
        raise InvalidInput(msg, field="latitude" if latitude is None else "longitude")


async def _code_free(actor: Actor, code: str, except_id: uuid.UUID | None = None) -> None:
    # Codes are unique across the company, so a clash must be told; only HQ learns more than that.
    query = AccountRow.select(AccountRow.id, AccountRow.deleted_at).where(AccountRow.code == code)
    row = await query.first()
    if row is not None and row["id"] != except_id:
        restore = " (a deleted account keeps it; restore that one through an import)"
        hint = restore if row["deleted_at"] and scope.sees_everything(actor) else ""
        msg = f"an account with code {code} already exists{hint}"
        raise Conflict(msg, field="code")


async def _search_text_for(account_id: uuid.UUID, name: str, code: str) -> str:
    contacts = await ContactRow.select(ContactRow.name).where(
        ContactRow.account == account_id, ContactRow.deleted_at.is_null()
    )
    return fold(" ".join([name, code, *(c["name"] for c in contacts)]))


async def refresh_search_text(account_id: uuid.UUID) -> None:
    """Recompute the folded search text after a name, code or contact change (inside the caller's transaction)."""
    row = await AccountRow.select(AccountRow.name, AccountRow.code).where(AccountRow.id == account_id).first()
    if row is not None:
        text = await _search_text_for(account_id, row["name"], row["code"])
        await AccountRow.update({AccountRow.search_text: text}).where(AccountRow.id == account_id)


# ---------------------------------------------------------------- accounts


def account_conditions(
    actor: Actor,
    *,
    q: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    owner_id: uuid.UUID | None = None,
    org_unit_path: str | None = None,
    city: str | None = None,
    parent_id: uuid.UUID | None = None,
    contracts_ending_within_days: int | None = None,
) -> list[Any]:
    """WHERE conditions for an account list: the actor's scope plus the filters (shared by list and export)."""
    conditions = _visible(actor)
    if q and q.strip():
        conditions.append(contains_text("accounts.search_text", fold(q.strip())))
    if tier:
        conditions.append(AccountRow.tier == tier)
    if status:
        conditions.append(AccountRow.status == status)
    if owner_id:
        conditions.append(AccountRow.owner == owner_id)
    if org_unit_path:
        conditions.append(
            AccountRow.org_unit.is_in(OrgUnit.select(OrgUnit.id).where(OrgUnit.path.like(org_unit_path + "%")))
        )
    if city:
        conditions.append(AccountRow.city == city)
    if parent_id:
        conditions.append(AccountRow.parent == parent_id)
    if contracts_ending_within_days is not None:
        start = today()
        end = start + datetime.timedelta(days=contracts_ending_within_days)
        conditions.append(
            AccountRow.id.is_in(
                HoldingRow.select(HoldingRow.account).where(
                    HoldingRow.contract_end >= start, HoldingRow.contract_end <= end, HoldingRow.deleted_at.is_null()
                )
            )
        )
    return conditions


async def unit_path(unit_id: uuid.UUID | None) -> str | None:
    """The path of an org unit used as a filter (422 if it does not exist)."""
    if unit_id is None:
        return None
    unit = await OrgUnit.select(OrgUnit.path).where(OrgUnit.id == unit_id).first()
    if unit is None:
        msg = f"org unit {unit_id} does not exist"
        raise InvalidInput(msg, field="orgUnitId")
    return str(unit["path"])


def order_by(query: Any, sort: str) -> Any:
    """Apply ``name`` / ``-revenue`` style sorting on indexed columns, with the id as tie-breaker."""
    key = sort.lstrip("-")
    if key not in _SORT_COLUMNS:
        msg = f"sort must be one of {', '.join(sorted(_SORT_COLUMNS))} (prefix - for descending), not {sort}"
        raise InvalidInput(msg, field="sort")
    return query.order_by(_SORT_COLUMNS[key], ascending=not sort.startswith("-")).order_by(AccountRow.id)


async def list_accounts(*, actor: Actor, page: PageParams, sort: str = "name", **filters: Any) -> AccountPage:
    """Accounts the actor sees, searched, filtered, sorted and paged."""
    scope.require(actor, "accounts.read")
    filters["org_unit_path"] = await unit_path(filters.pop("org_unit_id", None))
    conditions = account_conditions(actor, **filters)
    query = order_by(AccountRow.select(*_SUMMARY_COLUMNS).where(*conditions), sort)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await AccountRow.count().where(*conditions)
    return AccountPage(items=[_summary_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def get_account(*, actor: Actor, account_id: uuid.UUID) -> Account:
    """One account in the actor's scope."""
    scope.require(actor, "accounts.read")
    return account_out(await _account_row(actor, account_id))


async def create_account(*, actor: Actor, data: AccountCreate) -> Account:
    """Add an account; a rep creates accounts they own, a manager for anyone in their team."""
    scope.require(actor, "accounts.create")
    _check_location(data.latitude, data.longitude)
    owner_id = data.owner_id or actor.id
    if owner_id != actor.id and not scope.can(actor, "accounts.reassign"):
        msg = "a rep creates accounts for themselves; leave ownerId out"
        raise Forbidden(msg)
    account_id = data.id or new_id()
    async with write_transaction():
        owner = await _check_owner(actor, owner_id)
        org_unit_id = data.org_unit_id or owner["org_unit"]
        if data.org_unit_id:
            await _check_unit(actor, data.org_unit_id)
        await _code_free(actor, data.code)
        if await AccountRow.exists().where(AccountRow.id == account_id):
            msg = f"account {account_id} already exists"
            raise Conflict(msg)
        if data.parent_id:
            await _check_parent(actor, data.parent_id, account_id)
        insert = AccountRow.insert(
            AccountRow(
                id=account_id,
                code=data.code,
                name=data.name,
                search_text=fold(f"{data.name} {data.code}"),
                industry=data.industry,
                owner=owner_id,
                org_unit=org_unit_id,
                address=data.address,
                city=data.city,
                latitude=data.latitude,
                longitude=data.longitude,
                **geo.cells(data.latitude, data.longitude),  # type: ignore[arg-type]
                visit_radius_m=data.visit_radius_m,
                status=data.status,
                parent=data.parent_id,
                member_lines=data.member_lines,
                notes=data.notes,
            )
        )
        try:
            await insert
        except Exception as exc:
            if is_unique_violation(exc):  # lost a race with a concurrent create of the same code
                msg = f"an account with code {data.code} already exists"
                raise Conflict(msg, field="code") from exc
            raise
        row = required(await AccountRow.select(*ACCOUNT_COLUMNS).where(AccountRow.id == account_id).first())
        await audit.record(
            actor=actor, entity="account", entity_id=account_id, account_id=account_id, action="create", after=row
        )
    return account_out(row)


_PATCH_COLUMNS: dict[str, Column] = {
    "owner_id": AccountRow.owner,
    "org_unit_id": AccountRow.org_unit,
    "parent_id": AccountRow.parent,
}


async def update_account(*, actor: Actor, account_id: uuid.UUID, data: AccountPatch) -> Account:
    """Change an account's fields; reassigning it needs a manager and takes effect at once."""
    scope.require(actor, "accounts.update")
    changes = changed_fields(data)
    async with write_transaction():
        await lock_row(AccountRow, account_id)
        before = await _account_row(actor, account_id)
        changes = {
            k: v
            for k, v in changes.items()
            if before.get(_PATCH_COLUMNS[k]._meta.name if k in _PATCH_COLUMNS else k) != v
        }
        if not changes:
            return account_out(before)
        if {"owner_id", "org_unit_id", "code"} & changes.keys():
            scope.require(actor, "accounts.reassign")
        located = {"latitude", "longitude"} & changes.keys()
        if located:
            # A check-in is verified against this pin: only a leader moves it (reps propose by checking in).
            scope.require(actor, "accounts.locate")
        latitude = changes.get("latitude", before["latitude"])
        longitude = changes.get("longitude", before["longitude"])
        _check_location(latitude, longitude)
        if "owner_id" in changes:
            await _check_owner(actor, changes["owner_id"])
        if "org_unit_id" in changes:
            await _check_unit(actor, changes["org_unit_id"])
        if "code" in changes:
            await _code_free(actor, changes["code"], except_id=account_id)
        if changes.get("parent_id"):
            await _check_parent(actor, changes["parent_id"], account_id)
        values: dict[Any, Any] = {
            _PATCH_COLUMNS.get(field, getattr(AccountRow, field, None)): value for field, value in changes.items()
        }
        values[AccountRow.updated_at] = utcnow()
        values[AccountRow.version] = AccountRow.version + 1
        if located:
            values.update({getattr(AccountRow, k): v for k, v in geo.cells(latitude, longitude).items()})
        if "name" in changes or "code" in changes:
            values[AccountRow.search_text] = await _search_text_for(
                account_id, changes.get("name", before["name"]), changes.get("code", before["code"])
            )
        await AccountRow.update(values).where(AccountRow.id == account_id)
        after = required(await AccountRow.select(*ACCOUNT_COLUMNS).where(AccountRow.id == account_id).first())
        await audit.record(
            actor=actor,
            entity="account",
            entity_id=account_id,
            account_id=account_id,
            action="update",
            before=before,
            after=after,
        )
    return account_out(after)


async def set_location(
    *, actor: Actor, account_id: uuid.UUID, latitude: float, longitude: float, reason: str
) -> Account:
    """A leader pins (or corrects) where an account is; the reason goes to the audit trail."""
    scope.require(actor, "accounts.locate")
    _check_location(latitude, longitude)
    async with write_transaction():
        await lock_row(AccountRow, account_id)
        before = await _account_row(actor, account_id)
        values: dict[Any, Any] = {
            AccountRow.latitude: latitude,
            AccountRow.longitude: longitude,
            AccountRow.updated_at: utcnow(),
            AccountRow.version: AccountRow.version + 1,
        }
        values.update({getattr(AccountRow, k): v for k, v in geo.cells(latitude, longitude).items()})
        await AccountRow.update(values).where(AccountRow.id == account_id)
        after = required(await AccountRow.select(*ACCOUNT_COLUMNS).where(AccountRow.id == account_id).first())
        await audit.record(
            actor=actor,
            entity="account",
            entity_id=account_id,
            account_id=account_id,
            action="locate",
            changes={**audit.diff(before, after), "reason": [None, reason]},
        )
    return account_out(after)


async def record_visit_day(*, account_id: uuid.UUID, on: datetime.date) -> None:
    """Move an account's last counted visit forward to ``on`` (never back); the visits domain calls it."""
    await AccountRow.update({AccountRow.last_visited_on: on}).where(
        AccountRow.id == account_id,
        (AccountRow.last_visited_on.is_null()) | (AccountRow.last_visited_on < on),
    )


async def reset_visit_day(*, account_id: uuid.UUID, on: datetime.date | None) -> None:
    """Set an account's last counted visit exactly (after a counted visit was taken back on review)."""
    await AccountRow.update({AccountRow.last_visited_on: on}).where(AccountRow.id == account_id)


async def locations(account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Name, address, tier, pin and radius of accounts by id, for the visits domain (no scope check)."""
    if not account_ids:
        return {}
    rows = await AccountRow.select(
        AccountRow.id,
        AccountRow.name,
        AccountRow.address,
        AccountRow.tier,
        AccountRow.latitude,
        AccountRow.longitude,
        AccountRow.visit_radius_m,
        AccountRow.owner,
    ).where(AccountRow.id.is_in(list(account_ids)))
    return {as_uuid(r["id"]): r for r in rows}


async def delete_account(*, actor: Actor, account_id: uuid.UUID) -> None:
    """Soft-delete an account (devices see it go); a group with live members must lose them first."""
    scope.require(actor, "accounts.delete")
    async with write_transaction():
        await lock_row(AccountRow, account_id)
        before = await _account_row(actor, account_id)
        members = await AccountRow.count().where(AccountRow.parent == account_id, AccountRow.deleted_at.is_null())
        if members:
            msg = f"{before['name']} is the group of {members} member companies; move or delete them first"
            raise Conflict(msg)
        now = utcnow()
        await AccountRow.update(
            {AccountRow.deleted_at: now, AccountRow.updated_at: now, AccountRow.version: AccountRow.version + 1}
        ).where(AccountRow.id == account_id)
        await audit.record(
            actor=actor,
            entity="account",
            entity_id=account_id,
            account_id=account_id,
            action="delete",
            changes={"deleted_at": [None, now.isoformat()]},
        )


async def override_tier(*, actor: Actor, account_id: uuid.UUID, data: TierOverride) -> Account:
    """HQ sets an account's tier by hand (with a reason), or clears the override."""
    scope.require(actor, "accounts.tier_override")
    if data.tier is not None and not data.reason.strip():
        msg = "say why the tier is overridden"
        raise InvalidInput(msg, field="reason")
    async with write_transaction():
        await lock_row(AccountRow, account_id)
        before = await _account_row(actor, account_id)
        await AccountRow.update(
            {
                AccountRow.tier_override: data.tier,
                AccountRow.tier_override_reason: data.reason.strip() if data.tier else None,
                AccountRow.tier: data.tier or before["computed_tier"],
                AccountRow.updated_at: utcnow(),
                AccountRow.version: AccountRow.version + 1,
            }
        ).where(AccountRow.id == account_id)
        after = required(await AccountRow.select(*ACCOUNT_COLUMNS).where(AccountRow.id == account_id).first())
        await audit.record(
            actor=actor,
            entity="account",
            entity_id=account_id,
            account_id=account_id,
            action="override",
            before=before,
            after=after,
        )
    return account_out(after)


# ---------------------------------------------------------------- contacts


# Contacts and holdings are an account's child rows with the same life: read in the account's scope,
# created once under a client-made id, changed under a row lock, soft-deleted, audited at each step.


@dataclasses.dataclass(frozen=True)
class _Child:
    """A child table of accounts and its name in audit entries and messages."""

    table: Any
    entity: str


_CONTACTS = _Child(ContactRow, "contact")
_HOLDINGS = _Child(HoldingRow, "holding")


async def _child_row(kind: _Child, actor: Actor, account_id: uuid.UUID, child_id: uuid.UUID) -> dict[str, Any]:
    """A live child row of an account the actor sees, or NotFound."""
    await ensure_visible(actor=actor, account_id=account_id)
    t = kind.table
    row = await t.select().where(t.id == child_id, t.account == account_id, t.deleted_at.is_null()).first()
    if row is None:
        msg = f"{kind.entity} {child_id} not found"
        raise NotFound(msg)
    return dict(row)


async def _locked_child(kind: _Child, actor: Actor, account_id: uuid.UUID, child_id: uuid.UUID) -> dict[str, Any]:
    """Lock a child row for this transaction, then read it (so the audit's "before" is this writer's)."""
    await lock_row(kind.table, child_id)
    return await _child_row(kind, actor, account_id, child_id)


async def _audited(
    kind: _Child,
    actor: Actor,
    account_id: uuid.UUID,
    child_id: uuid.UUID,
    *,
    action: str,
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Read the row this transaction just wrote and audit the change from ``before``."""
    after = required(await kind.table.select().where(kind.table.id == child_id).first())
    await audit.record(
        actor=actor,
        entity=kind.entity,
        entity_id=child_id,
        account_id=account_id,
        action=action,
        before=before,
        after=after,
    )
    return after


async def _insert_child(kind: _Child, actor: Actor, account_id: uuid.UUID, row: Table) -> dict[str, Any]:
    """Insert a new child row under its (client-made) id, audited; Conflict when the id exists."""
    child_id = getattr(row, "id")  # noqa: B009 - every child table's UUID primary key is named id
    await ensure_visible(actor=actor, account_id=account_id)
    if await kind.table.exists().where(kind.table.id == child_id):
        msg = f"{kind.entity} {child_id} already exists"
        raise Conflict(msg)
    await kind.table.insert(row)
    return await _audited(kind, actor, account_id, child_id, action="create")


async def _update_child(
    kind: _Child,
    actor: Actor,
    account_id: uuid.UUID,
    child_id: uuid.UUID,
    *,
    values: dict[Any, Any],
    before: dict[str, Any],
) -> dict[str, Any]:
    """Write ``values`` (and ``updated_at``) to a child row the caller read locked, audited."""
    values[kind.table.updated_at] = utcnow()
    await kind.table.update(values).where(kind.table.id == child_id)
    return await _audited(kind, actor, account_id, child_id, action="update", before=before)


async def _delete_child(
    kind: _Child, actor: Actor, account_id: uuid.UUID, child_id: uuid.UUID, *, extra: dict[Any, Any]
) -> None:
    """Soft-delete a child row (devices see it go), audited."""
    before = await _locked_child(kind, actor, account_id, child_id)
    now = utcnow()
    t = kind.table
    await t.update({t.deleted_at: now, t.updated_at: now, **extra}).where(t.id == child_id)
    await audit.record(
        actor=actor, entity=kind.entity, entity_id=child_id, account_id=account_id, action="delete", before=before
    )


async def _page_of(
    table: type[Table], where: list[Any], order: list[tuple[Any, bool]], page: PageParams
) -> tuple[list[dict[str, Any]], int]:
    """A page of an account's child rows, sorted, with the id as tie-breaker, and their total."""
    query = table.select().where(*where)
    for column, ascending in order:
        query = query.order_by(column, ascending=ascending)
    rows = await query.order_by(table._meta.primary_key).limit(page.limit).offset(page.offset)
    total = await table.count().where(*where)
    return rows, total


# ---------------------------------------------------------------- contacts


async def list_contacts(*, actor: Actor, account_id: uuid.UUID, page: PageParams) -> ContactPage:
    """Contacts of an account in scope, decision makers first."""
    scope.require(actor, "accounts.read")
    await ensure_visible(actor=actor, account_id=account_id)
    where = [ContactRow.account == account_id, ContactRow.deleted_at.is_null()]
    rows, total = await _page_of(ContactRow, where, [(ContactRow.name, True)], page)
    return ContactPage(items=[contact_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def create_contact(*, actor: Actor, account_id: uuid.UUID, data: ContactCreate) -> Contact:
    """Add a contact to an account in scope."""
    scope.require(actor, "accounts.update")
    async with write_transaction():
        contact = ContactRow(
            id=data.id or new_id(),
            account=account_id,
            name=data.name,
            title=data.title,
            phones=json.dumps(data.phones),
            email=data.email,
            decision_role=data.decision_role,
            notes=data.notes,
        )
        row = await _insert_child(_CONTACTS, actor, account_id, contact)
        await refresh_search_text(account_id)
    return contact_out(row)


async def update_contact(*, actor: Actor, account_id: uuid.UUID, contact_id: uuid.UUID, data: ContactPatch) -> Contact:
    """Change a contact."""
    scope.require(actor, "accounts.update")
    changes = changed_fields(data)
    async with write_transaction():
        before = await _locked_child(_CONTACTS, actor, account_id, contact_id)
        values: dict[Any, Any] = {
            getattr(ContactRow, k): (json.dumps(v) if k == "phones" else v) for k, v in changes.items()
        }
        values[ContactRow.version] = ContactRow.version + 1
        after = await _update_child(_CONTACTS, actor, account_id, contact_id, values=values, before=before)
        if "name" in changes:
            await refresh_search_text(account_id)
    return contact_out(after)


async def delete_contact(*, actor: Actor, account_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    """Remove a contact (soft: devices see it go)."""
    scope.require(actor, "accounts.update")
    async with write_transaction():
        bump = {ContactRow.version: ContactRow.version + 1}
        await _delete_child(_CONTACTS, actor, account_id, contact_id, extra=bump)
        await refresh_search_text(account_id)


# ---------------------------------------------------------------- holdings


def _check_contract(start: datetime.date | None, end: datetime.date | None) -> None:
    if start and end and end < start:
        msg = "contractEnd is before contractStart"
        raise InvalidInput(msg, field="contractEnd")


async def list_holdings(
    *, actor: Actor, account_id: uuid.UUID, page: PageParams, ending_within_days: int | None = None
) -> HoldingPage:
    """What an account in scope holds, soonest contract end first."""
    scope.require(actor, "accounts.read")
    await ensure_visible(actor=actor, account_id=account_id)
    where = [HoldingRow.account == account_id, HoldingRow.deleted_at.is_null()]
    if ending_within_days is not None:
        where += [
            HoldingRow.contract_end >= today(),
            HoldingRow.contract_end <= today() + datetime.timedelta(days=ending_within_days),
        ]
    rows, total = await _page_of(HoldingRow, where, [(HoldingRow.contract_end, True)], page)
    return HoldingPage(items=[holding_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def create_holding(*, actor: Actor, account_id: uuid.UUID, data: HoldingCreate) -> Holding:
    """Record a product or service the customer has."""
    scope.require(actor, "accounts.update")
    _check_contract(data.contract_start, data.contract_end)
    async with write_transaction():
        holding = HoldingRow(
            id=data.id or new_id(),
            account=account_id,
            product_code=data.product_code,
            product=data.product,
            quantity=data.quantity,
            monthly_fee_cents=data.monthly_fee_cents,
            contract_start=data.contract_start,
            contract_end=data.contract_end,
        )
        row = await _insert_child(_HOLDINGS, actor, account_id, holding)
    return holding_out(row)


async def update_holding(*, actor: Actor, account_id: uuid.UUID, holding_id: uuid.UUID, data: HoldingPatch) -> Holding:
    """Change a holding."""
    scope.require(actor, "accounts.update")
    changes = changed_fields(data)
    async with write_transaction():
        before = await _locked_child(_HOLDINGS, actor, account_id, holding_id)
        _check_contract(
            changes.get("contract_start", before["contract_start"]), changes.get("contract_end", before["contract_end"])
        )
        values: dict[Any, Any] = {getattr(HoldingRow, k): v for k, v in changes.items()}
        after = await _update_child(_HOLDINGS, actor, account_id, holding_id, values=values, before=before)
    return holding_out(after)


async def delete_holding(*, actor: Actor, account_id: uuid.UUID, holding_id: uuid.UUID) -> None:
    """Remove a holding (soft)."""
    scope.require(actor, "accounts.update")
    async with write_transaction():
        await _delete_child(_HOLDINGS, actor, account_id, holding_id, extra={})


# ---------------------------------------------------------------- revenue


def month_start(value: datetime.date) -> datetime.date:
    """The first day of the value's month."""
    return value.replace(day=1)


def add_months(value: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` away."""
    index = value.year * 12 + value.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


async def revenue_window() -> tuple[datetime.date, datetime.date]:
    """The trailing twelve months: ending at the latest month the last segmentation saw, else last month."""
    run = (
        await SegmentationRun.select(SegmentationRun.summary).order_by(SegmentationRun.ran_at, ascending=False).first()
    )
    end: datetime.date | None = None
    if run is not None:
        summary = run["summary"]
        summary = json.loads(summary) if isinstance(summary, str) else summary
        if summary.get("window_end"):
            end = datetime.date.fromisoformat(summary["window_end"])
    if end is None:
        end = add_months(month_start(today()), -1)
    return add_months(end, -11), end


def _trend(rows: Sequence[Mapping[str, Any]], start: datetime.date, end: datetime.date) -> list[RevenueMonth]:
    by_month = {r["month"]: r["amount_cents"] for r in rows}
    months = []
    current = start
    while current <= end:
        months.append(RevenueMonth(month=current.strftime("%Y-%m"), amount_cents=by_month.get(current, 0)))
        current = add_months(current, 1)
    return months


async def get_revenue(*, actor: Actor, account_id: uuid.UUID, months: int = 12) -> list[RevenueMonth]:
    """Monthly revenue of an account in scope, the last ``months`` months of the window, zeros filled."""
    await ensure_visible(actor=actor, account_id=account_id)
    _, end = await revenue_window()
    start = add_months(end, -(months - 1))
    rows = await RevenueRow.select(RevenueRow.month, RevenueRow.amount_cents).where(
        RevenueRow.account == account_id, RevenueRow.month >= start, RevenueRow.month <= end
    )
    return _trend(rows, start, end)


async def put_revenue(*, actor: Actor, account_id: uuid.UUID, data: RevenuePut) -> list[RevenueMonth]:
    """Set monthly revenue (HQ; imports do this in bulk)."""
    scope.require(actor, "revenue.write")
    async with write_transaction():
        await ensure_visible(actor=actor, account_id=account_id)
        for item in data.months:
            month = datetime.date.fromisoformat(item.month + "-01")
            await upsert_revenue(account_id, month, item.amount_cents)
        await audit.record(
            actor=actor,
            entity="revenue",
            entity_id=account_id,
            account_id=account_id,
            action="update",
            changes={m.month: [None, m.amount_cents] for m in data.months},
        )
    return await get_revenue(actor=actor, account_id=account_id)


async def upsert_revenue(account_id: uuid.UUID, month: datetime.date, amount_cents: int) -> None:
    """Insert or replace one month's revenue (inside the caller's transaction)."""
    await RevenueRow.insert(RevenueRow(account=account_id, month=month, amount_cents=amount_cents)).on_conflict(
        target=(RevenueRow.account, RevenueRow.month),
        action="DO UPDATE",
        values=[RevenueRow.amount_cents, RevenueRow.updated_at],
    )


# ---------------------------------------------------------------- the 360 view


def _ref(row: Mapping[str, Any]) -> AccountRef:
    return AccountRef(id=row["id"], code=row["code"], name=row["name"], tier=row["tier"], status=row["status"])


_REF_COLUMNS = (AccountRow.id, AccountRow.code, AccountRow.name, AccountRow.tier, AccountRow.status)
_TIER_RULE = "A: the largest accounts that together make 80% of trailing-12-month revenue; B: the next 15%; C: the rest"


def explain_tier(row: Mapping[str, Any], window: tuple[datetime.date, datetime.date]) -> TierExplanation:
    """Why the account has its tier."""
    share = row["revenue_share_rank"]
    yuan = row["revenue_12m_cents"] / 100
    if row["tier_override"]:
        reason = f"set by HQ to {row['tier_override']}: {row['tier_override_reason']}"
        if row["computed_tier"]:
            reason += f" (revenue alone would make it {row['computed_tier']})"
    elif row["computed_tier"] and share is not None:
        reason = (
            f"{row['computed_tier']}: ¥{yuan:,.2f} in {window[0]:%Y-%m}..{window[1]:%Y-%m}; accounts this size "
            f"and larger make {share * 100:.1f}% of revenue ({_TIER_RULE})"
        )
    else:
        reason = "not segmented yet: tiers are computed from revenue by `fieldcrm segment` and after imports"
    return TierExplanation(
        tier=row["tier"],
        computed_tier=row["computed_tier"],
        override=row["tier_override"],
        override_reason=row["tier_override_reason"],
        revenue_12m_cents=row["revenue_12m_cents"],
        cumulative_share=share,
        window_start=window[0].strftime("%Y-%m"),
        window_end=window[1].strftime("%Y-%m"),
        reason=reason,
    )


async def overview(*, actor: Actor, account_id: uuid.UUID) -> Overview:
    """The customer 360, read in one snapshot: profile, group, contacts, holdings, revenue, tier and timeline."""
    scope.require(actor, "accounts.read")
    async with read_transaction():
        row = (
            await AccountRow.select(*ACCOUNT_COLUMNS, AccountRow.revenue_share_rank)
            .where(AccountRow.id == account_id, *_visible(actor))
            .first()
        )
        if row is None:
            msg = f"account {account_id} not found"
            raise NotFound(msg)
        parent = None
        if row["parent"]:
            parent_row = (
                await AccountRow.select(*_REF_COLUMNS).where(AccountRow.id == row["parent"], *_visible(actor)).first()
            )
            parent = _ref(parent_row) if parent_row else None
        members = await (
            AccountRow.select(*_REF_COLUMNS)
            .where(AccountRow.parent == account_id, *_visible(actor))
            .order_by(AccountRow.revenue_12m_cents, ascending=False)
            .limit(50)
        )
        member_count = len(members)
        if member_count == 50:
            member_count = await AccountRow.count().where(AccountRow.parent == account_id, *_visible(actor))
        contacts = await (
            ContactRow.select()
            .where(ContactRow.account == account_id, ContactRow.deleted_at.is_null())
            .order_by(ContactRow.name)
            .limit(100)
        )
        holdings = await (
            HoldingRow.select()
            .where(HoldingRow.account == account_id, HoldingRow.deleted_at.is_null())
            .order_by(HoldingRow.contract_end)
            .limit(200)
        )
        window = await revenue_window()
        revenue = await RevenueRow.select(RevenueRow.month, RevenueRow.amount_cents).where(
            RevenueRow.account == account_id, RevenueRow.month >= window[0], RevenueRow.month <= window[1]
        )
        events = await timeline.timeline(account_id, limit=50)
    on = today()
    holding_items = [holding_out(h, on) for h in holdings]
    ending = [h for h in holding_items if h.ends_in_days is not None and 0 <= h.ends_in_days <= ENDING_SOON_DAYS]
    return Overview(
        account=account_out(row),
        parent=parent,
        members=[_ref(m) for m in members],
        member_count=member_count,
        contacts=[contact_out(c) for c in contacts],
        holdings=holding_items,
        contracts_ending_soon=ending,
        revenue_trend=_trend(revenue, *window),
        tier=explain_tier(row, window),
        timeline=events,
    )


_ACTION_TITLES = {
    "create": "created",
    "update": "changed",
    "delete": "removed",
    "override": "tier set by HQ",
    "import": "imported",
    "locate": "location set",
}


async def _audit_source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    rows = await (
        AuditEntry.select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.entity,
            AuditEntry.entity_id,
            AuditEntry.action,
            AuditEntry.actor_name,
            AuditEntry.changes,
        )
        .where(AuditEntry.account_id == account_id)
        .order_by(AuditEntry.at, ascending=False)
        .limit(limit)
    )
    items = []
    for r in rows:
        changes = json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"]
        fields = ", ".join(sorted(changes)[:6]) if r["action"] == "update" else ""
        items.append(
            TimelineItem(
                at=r["at"],
                kind=f"{r['entity']}.{r['action']}",
                title=f"{r['entity'].replace('_', ' ')} {_ACTION_TITLES.get(r['action'], r['action'])}",
                detail=fields,
                ref_id=r["entity_id"],
                actor_name=r["actor_name"],
            )
        )
    return items


async def _contract_source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    horizon = today() + datetime.timedelta(days=ENDING_SOON_DAYS)
    rows = await (
        HoldingRow.select(HoldingRow.id, HoldingRow.product, HoldingRow.contract_start, HoldingRow.contract_end)
        .where(HoldingRow.account == account_id, HoldingRow.deleted_at.is_null())
        .limit(200)
    )
    items = []
    for r in rows:
        for kind, day in (("contract.start", r["contract_start"]), ("contract.end", r["contract_end"])):
            if day is not None and day <= horizon:
                at = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
                verb = "starts" if kind == "contract.start" else "ends"
                items.append(TimelineItem(at=at, kind=kind, title=f"{r['product']} contract {verb}", ref_id=r["id"]))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


# ---------------------------------------------------------------- notes


def note_out(row: Mapping[str, Any]) -> Note:
    """A note row as its API shape."""
    return Note(
        id=row["id"],
        account_id=row["account"],
        author_id=row["author"],
        author_name=row["author_name"],
        text=row["text"],
        captured_at=row["captured_at"],
        created_at=row["created_at"],
    )


async def list_notes(*, actor: Actor, account_id: uuid.UUID, page: PageParams) -> NotePage:
    """Notes on an account in scope, newest first."""
    scope.require(actor, "accounts.read")
    await ensure_visible(actor=actor, account_id=account_id)
    where = (NoteRow.account == account_id, NoteRow.deleted_at.is_null())
    rows, total = await _page_of(NoteRow, list(where), [(NoteRow.created_at, False)], page)
    return NotePage(items=[note_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def create_note(*, actor: Actor, account_id: uuid.UUID, data: NoteCreate) -> Note:
    """Add a note to an account in scope (every call adds one: replays are stopped by the sync guard)."""
    scope.require(actor, "accounts.update")
    note_id = data.id or new_id()
    async with write_transaction():
        await ensure_visible(actor=actor, account_id=account_id)
        if await NoteRow.exists().where(NoteRow.id == note_id):
            msg = f"note {note_id} already exists"
            raise Conflict(msg)
        await NoteRow.insert(
            NoteRow(
                id=note_id,
                account=account_id,
                author=actor.id,
                author_name=actor.display_name,
                text=data.text,
                captured_at=data.captured_at,
            )
        )
        row = required(await NoteRow.select().where(NoteRow.id == note_id).first())
    return note_out(row)


async def _note_source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    rows = await (
        NoteRow.select(NoteRow.id, NoteRow.text, NoteRow.author_name, NoteRow.created_at, NoteRow.captured_at)
        .where(NoteRow.account == account_id, NoteRow.deleted_at.is_null())
        .order_by(NoteRow.created_at, ascending=False)
        .limit(limit)
    )
    return [
        TimelineItem(
            at=r["captured_at"] or r["created_at"],
            kind="note",
            title=r["text"][:80],
            detail=r["text"],
            ref_id=r["id"],
            actor_name=r["author_name"],
        )
        for r in rows
    ]


timeline.register("notes", _note_source)
timeline.register("audit", _audit_source)
timeline.register("contracts", _contract_source)


async def audit_trail(*, actor: Actor, account_id: uuid.UUID, page: PageParams) -> AuditPage:
    """The audit trail of an account in scope (managers and HQ)."""
    scope.require(actor, "audit.read")
    await ensure_visible(actor=actor, account_id=account_id)
    return await audit.trail(account_id=account_id, page=page)


async def purge_deleted(*, before: datetime.datetime) -> int:
    """Remove rows soft-deleted before ``before`` for good (the sync horizon moves past them)."""
    purged = 0
    for table in (ContactRow, HoldingRow, NoteRow):
        gone = await table.delete().where(table.deleted_at.is_not_null(), table.deleted_at < before).returning(table.id)
        purged += len(gone)
    await AccountRow.update({AccountRow.parent: None}).where(
        AccountRow.parent.is_in(
            AccountRow.select(AccountRow.id).where(AccountRow.deleted_at.is_not_null(), AccountRow.deleted_at < before)
        )
    )
    gone = (
        await AccountRow.delete()
        .where(AccountRow.deleted_at.is_not_null(), AccountRow.deleted_at < before)
        .returning(AccountRow.id)
    )
    return purged + len(gone)
