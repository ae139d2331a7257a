"""Planning and writing an accounts file: look-ups, owners, units, parents and loops, bulk writes, audit."""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from fieldcrm.accounts import geo
from fieldcrm.accounts.imports._model import IN_CHUNK, T
from fieldcrm.accounts.imports._parsing import _STATUS, _norm_choice, _Row, _Sheet
from fieldcrm.accounts.imports._validation import _checked, _number_text, _shown
from fieldcrm.accounts.schemas import (
    AccountCreate,
    AccountPatch,
)
from fieldcrm.accounts.services import fold
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, executemany
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit, User

# ---------------------------------------------------------------- look-ups


def _chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _live_accounts_by_code(codes: Sequence[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(set(codes))):
        rows = await AccountRow.select(AccountRow.id, AccountRow.code).where(
            AccountRow.code.is_in(list(chunk)), AccountRow.deleted_at.is_null()
        )
        found.update({r["code"]: as_uuid(r["id"]) for r in rows})
    return found


async def _account_ids(sheet: _Sheet) -> dict[str, uuid.UUID]:
    """Account ids of the rows' account_code cells; rows naming no live account get an error."""
    codes = [row.cells["account_code"] for row in sheet.rows if "account_code" in row.cells]
    found = await _live_accounts_by_code(codes)
    column = sheet.column("account_code")
    for row in sheet.rows:
        code = row.cells.get("account_code")
        if code is None:
            row.error(column, "the account code is empty")
        elif code not in found:
            row.error(column, f"{_shown(code)}: no account has this code")
    return found


# ---------------------------------------------------------------- accounts

_ACCOUNT_FIELDS = (
    "name",
    "industry",
    "address",
    "city",
    "latitude",
    "longitude",
    "visit_radius_m",
    "status",
    "member_lines",
    "notes",
)
_AUDITED = (
    "code",
    "name",
    "industry",
    "owner",
    "org_unit",
    "address",
    "city",
    "latitude",
    "longitude",
    "visit_radius_m",
    "status",
    "parent",
    "member_lines",
    "notes",
    "deleted_at",
)


def _differs(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether any field of ``before`` has another value in ``after`` (both hold Python values, not text)."""
    return any(after.get(k) != v for k, v in before.items())


@dataclass
class _Plan:
    """What the good rows would write."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (before, after)
    unchanged: int = 0


async def _owners(actor: Actor | None, usernames: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(usernames))):
        columns = (User.id, User.username, User.org_unit, User.is_active)
        query = User.select(*columns).where(User.username.is_in(list(chunk)))
        if actor is not None and (limit := scope.user_filter(actor)) is not None:
            query = query.where(limit)
        found.update({r["username"]: r for r in await query})
    return found


async def _units(actor: Actor | None, values: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Org units by id text or by name (a name may match several)."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    names = sorted(set(values))
    found: dict[str, list[dict[str, Any]]] = {}
    columns = (OrgUnit.id, OrgUnit.name, OrgUnit.path)
    for chunk in _chunks(names):
        for r in await OrgUnit.select(*columns).where(OrgUnit.name.is_in(list(chunk)), OrgUnit.deleted_at.is_null()):
            found.setdefault(r["name"], []).append(r)
    for id_chunk in _chunks(ids):
        for r in await OrgUnit.select(*columns).where(OrgUnit.id.is_in(list(id_chunk)), OrgUnit.deleted_at.is_null()):
            found[str(as_uuid(r["id"]))] = [r]
    if actor is not None:
        found = {k: [u for u in v if scope.unit_in_subtree(actor, u["path"])] for k, v in found.items()}
    return found


async def _parents_of(ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    out: dict[uuid.UUID, uuid.UUID | None] = {}
    for chunk in _chunks(sorted(ids)):
        for r in await AccountRow.select(AccountRow.id, AccountRow.parent).where(AccountRow.id.is_in(list(chunk))):
            out[as_uuid(r["id"])] = as_uuid(r["parent"]) if r["parent"] else None
    return out


async def _loops(afters: dict[uuid.UUID, dict[str, Any]]) -> set[uuid.UUID]:
    """Accounts of the file whose new parent chain comes back to them."""
    parent_of: dict[uuid.UUID, uuid.UUID | None] = {i: a["parent"] for i, a in afters.items()}
    frontier = {p for p in parent_of.values() if p is not None and p not in parent_of}
    while frontier:
        loaded = await _parents_of(frontier)
        for account_id in frontier:
            parent_of[account_id] = loaded.get(account_id)
        frontier = {p for p in loaded.values() if p is not None and p not in parent_of}
    looped = set()
    for start in afters:
        seen = {start}
        current = parent_of.get(start)
        while current is not None:
            if current in seen:
                looped.add(start)
                break
            seen.add(current)
            current = parent_of.get(current)
    return looped


@dataclass
class _AccountFile:
    """An accounts file with everything its rows refer to, loaded in a few batched queries."""

    sheet: _Sheet
    rows_by_code: dict[str, _Row]  # the first line of each code
    existing: dict[str, dict[str, Any]]  # stored accounts (deleted ones too) by code
    ids: dict[str, uuid.UUID]  # every code of the file -> its stored id or a new one
    owners: dict[str, dict[str, Any]]
    units: dict[str, list[dict[str, Any]]]
    parents: dict[str, uuid.UUID]  # parent codes -> ids (live accounts, and every account of the file)


def _codes(sheet: _Sheet) -> dict[str, _Row]:
    column = sheet.column("code")
    rows_by_code: dict[str, _Row] = {}
    for row in sheet.rows:
        code = row.cells.get("code")
        if code is None:
            row.error(column, "the code is empty; every account needs its billing system code")
            continue
        if _checked(row, sheet, AccountPatch, {"code": ("code", code)}) and code in rows_by_code:
            row.error(column, f"{_shown(code)}: this code is already on line {rows_by_code[code].line}")
        rows_by_code.setdefault(code, row)
    return rows_by_code


async def _load_account_file(actor: Actor | None, sheet: _Sheet) -> _AccountFile:
    rows_by_code = _codes(sheet)
    existing: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(rows_by_code)):
        for r in await AccountRow.select().where(AccountRow.code.is_in(list(chunk))):
            existing[r["code"]] = r
    ids = {code: as_uuid(existing[code]["id"]) if code in existing else new_id() for code in rows_by_code}
    outside = [c for r in sheet.rows if (c := r.cells.get("parent_code")) is not None and c not in ids]
    return _AccountFile(
        sheet=sheet,
        rows_by_code=rows_by_code,
        existing=existing,
        ids=ids,
        owners=await _owners(actor, [r.cells["owner"] for r in sheet.rows if "owner" in r.cells]),
        units=await _units(actor, [r.cells["org_unit"] for r in sheet.rows if "org_unit" in r.cells]),
        parents={**await _live_accounts_by_code(outside), **ids},
    )


def _stored_view(before: dict[str, Any]) -> dict[str, Any]:
    view = {k: before[k] for k in _AUDITED}
    view["owner"] = as_uuid(view["owner"])
    view["org_unit"] = as_uuid(view["org_unit"])
    view["parent"] = as_uuid(view["parent"]) if view["parent"] else None
    return view


def _account_cell(name: str, text: str) -> str:
    if name in {"visit_radius_m", "member_lines"}:
        return _number_text(text)
    if name == "status":
        return _norm_choice(text, _STATUS)
    return text


def _set_owner(f: _AccountFile, row: _Row, after: dict[str, Any], is_new: bool) -> None:
    username = row.cells.get("owner")
    if username is None:
        if is_new:
            row.error(f.sheet.column("owner"), "a new account needs an owner (the account manager's username)")
        return
    owner = f.owners.get(username)
    if owner is not None and as_uuid(owner["id"]) == after["owner"]:
        return  # unchanged: as in the REST API, only a new owner must be active
    if owner is None or not owner["is_active"]:
        row.error(f.sheet.column("owner"), f"{_shown(username)}: no active user has this username")
        return
    after["owner"] = as_uuid(owner["id"])
    if is_new and "org_unit" not in row.cells:
        after["org_unit"] = as_uuid(owner["org_unit"])  # as in the REST API, a new account gets its owner's unit


def _set_unit(f: _AccountFile, row: _Row, after: dict[str, Any]) -> None:
    text = row.cells.get("org_unit")
    if text is None:
        return
    matches = f.units.get(text, [])
    if any(as_uuid(u["id"]) == after["org_unit"] for u in matches):
        return
    if len(matches) == 1:
        after["org_unit"] = as_uuid(matches[0]["id"])
    elif matches:
        row.error(f.sheet.column("org_unit"), f"{_shown(text)}: several org units have this name; give its id")
    else:
        message = f"{_shown(text)}: no org unit in your part of the tree has this name or id"
        row.error(f.sheet.column("org_unit"), message)


def _set_parent(f: _AccountFile, row: _Row, after: dict[str, Any]) -> None:
    parent_code = row.cells.get("parent_code")
    if parent_code is None:
        return
    if parent_code == after["code"]:
        row.error(f.sheet.column("parent_code"), "an account cannot be its own parent group")
    elif parent_code not in f.parents:
        row.error(f.sheet.column("parent_code"), f"{_shown(parent_code)}: no account has this code")
    else:
        after["parent"] = f.parents[parent_code]


def _account_after(f: _AccountFile, row: _Row, code: str) -> dict[str, Any]:
    """The account as the row would leave it (errors go on the row)."""
    before = f.existing.get(code)
    cells = {name: (name, _account_cell(name, row.cells[name])) for name in _ACCOUNT_FIELDS if name in row.cells}
    values = _checked(row, f.sheet, AccountPatch, cells)
    if before is None:
        defaults = msgspec.structs.asdict(AccountCreate(code=code, name="-"))
        after = {k: v for k, v in defaults.items() if k in _AUDITED}
        after |= {"owner": None, "org_unit": None, "parent": None, "deleted_at": None}
        if "name" not in row.cells:
            row.error(f.sheet.column("name"), "a new account needs a name")
    else:
        after = _stored_view(before) | {"deleted_at": None}  # an import restores a deleted account
    after.update(values)
    _set_owner(f, row, after, before is None)
    _set_unit(f, row, after)
    _set_parent(f, row, after)
    located = all(k in values for k in ("latitude", "longitude") if k in row.cells)  # else already reported
    if located and (after["latitude"] is None) != (after["longitude"] is None):
        missing = "latitude" if after["latitude"] is None else "longitude"
        row.error(f.sheet.column(missing), "give latitude and longitude together, or neither")
    after["id"] = f.ids[code]
    return after


def _fail_members_of_bad_groups(f: _AccountFile, afters: dict[uuid.UUID, tuple[_Row, dict[str, Any]]]) -> None:
    """A member whose parent group is a new account on a bad line of this file cannot be written either."""
    bad = {f.ids[c] for c, r in f.rows_by_code.items() if r.errors and c not in f.existing}
    changed = True
    while changed:
        changed = False
        for account_id, (row, after) in afters.items():
            if not row.errors and "parent_code" in row.cells and after["parent"] in bad:
                message = f"{row.cells['parent_code']}: that parent group's line has errors"
                row.error(f.sheet.column("parent_code"), message)
                bad.add(account_id)
                changed = True


async def _plan_accounts(actor: Actor | None, sheet: _Sheet) -> _Plan:
    f = await _load_account_file(actor, sheet)
    afters = {}
    for code, row in f.rows_by_code.items():
        after = _account_after(f, row, code)
        afters[after["id"]] = (row, after)
    _fail_members_of_bad_groups(f, afters)
    if any("parent_code" in r.cells for r in sheet.rows):
        for account_id in await _loops({i: a for i, (r, a) in afters.items() if not r.errors}):
            afters[account_id][0].error(sheet.column("parent_code"), "this parent would make the groups a loop")
    plan = _Plan()
    for row, after in afters.values():
        before = f.existing.get(after["code"])
        if row.errors:
            continue
        if before is None:
            plan.inserts.append(after)
            continue
        before_view = _stored_view(before) | {"id": after["id"]}
        if _differs(before_view, after):
            after["search_text"] = before["search_text"]
            plan.updates.append((before_view, after))
        else:
            plan.unchanged += 1
    return plan


_INSERT_ACCOUNT = (
    "INSERT INTO accounts (id, code, name, search_text, industry, tier, computed_tier, tier_override, "
    "tier_override_reason, revenue_12m_cents, revenue_share_rank, owner, org_unit, address, city, latitude, "
    "longitude, h3_r3, h3_r5, h3_r7, visit_radius_m, status, parent, member_lines, notes, version, created_at, "
    "updated_at, deleted_at) VALUES "
    "(?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, 0, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?, NULL)"
)
_UPDATE_ACCOUNT = (
    "UPDATE accounts SET name = ?, search_text = ?, industry = ?, owner = ?, org_unit = ?, address = ?, city = ?, "
    "latitude = ?, longitude = ?, h3_r3 = ?, h3_r5 = ?, h3_r7 = ?, "
    "visit_radius_m = ?, status = ?, parent = ?, member_lines = ?, notes = ?, "
    "version = version + 1, updated_at = ?, deleted_at = NULL WHERE id = ?"
)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


async def _contact_names(account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    names: dict[uuid.UUID, list[str]] = {}
    for chunk in _chunks(list(account_ids)):
        rows = await ContactRow.select(ContactRow.account, ContactRow.name).where(
            ContactRow.account.is_in(list(chunk)), ContactRow.deleted_at.is_null()
        )
        for r in rows:
            names.setdefault(as_uuid(r["account"]), []).append(r["name"])
    return names


async def _write_accounts(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    await executemany(
        _INSERT_ACCOUNT,
        [
            (
                a["id"],
                a["code"],
                a["name"],
                fold(f"{a['name']} {a['code']}"),
                a["industry"],
                a["owner"],
                a["org_unit"],
                a["address"],
                a["city"],
                _float(a["latitude"]),
                _float(a["longitude"]),
                *geo.cells(_float(a["latitude"]), _float(a["longitude"])).values(),
                a["visit_radius_m"],
                a["status"],
                a["member_lines"],
                a["notes"],
                now,
                now,
            )
            for a in plan.inserts
        ],
    )
    renamed = [a["id"] for b, a in plan.updates if a["name"] != b["name"]]
    contact_names = await _contact_names(renamed)
    rows = []
    for before, a in plan.updates:
        search = a["search_text"]
        if a["name"] != before["name"]:
            search = fold(" ".join([a["name"], a["code"], *contact_names.get(a["id"], [])]))
        rows.append(
            (
                a["name"],
                search,
                a["industry"],
                a["owner"],
                a["org_unit"],
                a["address"],
                a["city"],
                _float(a["latitude"]),
                _float(a["longitude"]),
                *geo.cells(_float(a["latitude"]), _float(a["longitude"])).values(),
                a["visit_radius_m"],
                a["status"],
                a["parent"],
                a["member_lines"],
                a["notes"],
                now,
                a["id"],
            )
        )
    await executemany(_UPDATE_ACCOUNT, rows)
    # New members may name new groups: set parents once every account of the file exists.
    await executemany(
        "UPDATE accounts SET parent = ? WHERE id = ?", [(a["parent"], a["id"]) for a in plan.inserts if a["parent"]]
    )
    await _record_import(
        actor,
        "account",
        created=[(a["id"], a["id"], {k: a[k] for k in _AUDITED if a[k] is not None}) for a in plan.inserts],
        changed=[(a["id"], a["id"], b, {k: a[k] for k in (*_AUDITED, "id")}) for b, a in plan.updates],
    )


async def _record_import(
    actor: Actor | None,
    entity: str,
    *,
    created: list[tuple[Any, Any, dict[str, Any]]],
    changed: list[tuple[Any, Any, dict[str, Any], dict[str, Any]]],
) -> None:
    """Audit one import: a create diff per new row and a before/after diff per updated one, in one write."""
    entries = [
        audit.entry_row(
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            action="import",
            changes=audit.diff(None, after),
        )
        for entity_id, account_id, after in created
    ]
    entries += [
        audit.entry_row(
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            action="import",
            changes=audit.diff(before, after),
        )
        for entity_id, account_id, before, after in changed
    ]
    await audit.record_many(entries)
