"""Planning and writing contacts, holdings and revenue files against the accounts they name."""

import datetime
import json
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from fieldcrm.accounts.imports._accounts import _account_ids, _chunks, _contact_names, _differs, _Plan, _record_import
from fieldcrm.accounts.imports._parsing import _ROLES, _norm_choice, _Row, _Sheet
from fieldcrm.accounts.imports._validation import _checked, _date, _month, _number_text, _phones, _shown, _yuan_to_cents
from fieldcrm.accounts.schemas import (
    ContactCreate,
    ContactPatch,
    HoldingCreate,
    HoldingPatch,
)
from fieldcrm.accounts.schemas import RevenueMonth as RevenueMonthIn
from fieldcrm.accounts.services import fold
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.accounts.tables import Holding as HoldingRow
from fieldcrm.accounts.tables import Revenue as RevenueRow
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_date, as_uuid, executemany
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org.schemas import Actor

# ---------------------------------------------------------------- contacts

_CONTACT_FIELDS = ("title", "phones", "email", "decision_role", "notes")
_KEYS = frozenset({"id", "account"})


def _contact_view(row: dict[str, Any]) -> dict[str, Any]:
    phones = row["phones"]
    phones = json.loads(phones or "[]") if isinstance(phones, str) else list(phones or [])
    return {
        "name": row["name"],
        "title": row["title"],
        "phones": phones,
        "email": row["email"],
        "decision_role": row["decision_role"],
        "notes": row["notes"],
    }


async def _plan_contacts(sheet: _Sheet) -> _Plan:
    accounts = await _account_ids(sheet)
    existing: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(accounts.values()))):
        rows = (
            await ContactRow.select()
            .where(ContactRow.account.is_in(list(chunk)), ContactRow.deleted_at.is_null())
            .order_by(ContactRow.created_at)
        )
        for r in rows:
            existing.setdefault((as_uuid(r["account"]), r["name"]), r)
    seen: dict[tuple[str, str], int] = {}
    plan = _Plan()
    for row in sheet.rows:
        name = row.cells.get("name")
        values = _checked(
            row,
            sheet,
            ContactPatch,
            {
                k: (
                    k,
                    _phones(row.cells[k])
                    if k == "phones"
                    else _norm_choice(row.cells[k], _ROLES)
                    if k == "decision_role"
                    else row.cells[k],
                )
                for k in ("name", *_CONTACT_FIELDS)
                if k in row.cells
            },
        )
        if name is None:
            row.error(sheet.column("name"), "the contact's name is empty")
        elif (key := (row.cells.get("account_code", ""), name)) in seen:
            row.error(sheet.column("name"), f"{_shown(name)}: this contact of {key[0]} is already on line {seen[key]}")
        else:
            seen[key] = row.line
        if row.errors or name is None:
            continue
        account_id = accounts[row.cells["account_code"]]
        before = existing.get((account_id, name))
        if before is None:
            created = ContactCreate(**values)
            plan.inserts.append(msgspec.structs.asdict(created) | {"id": new_id(), "account": account_id})
            continue
        before_view = _contact_view(before)
        after = before_view | values
        if _differs(before_view, after):
            plan.updates.append((before_view | {"id": as_uuid(before["id"]), "account": account_id}, after))
        else:
            plan.unchanged += 1
    return plan


async def _write_contacts(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    await executemany(
        "INSERT INTO contacts (id, account, name, title, phones, email, decision_role, notes, version, created_at, "
        "updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULL)",
        [
            (
                c["id"],
                c["account"],
                c["name"],
                c["title"],
                json.dumps(c["phones"]),
                c["email"],
                c["decision_role"],
                c["notes"],
                now,
                now,
            )
            for c in plan.inserts
        ],
    )
    await executemany(
        "UPDATE contacts SET title = ?, phones = ?, email = ?, decision_role = ?, notes = ?, version = version + 1, "
        "updated_at = ? WHERE id = ?",
        [
            (a["title"], json.dumps(a["phones"]), a["email"], a["decision_role"], a["notes"], now, b["id"])
            for b, a in plan.updates
        ],
    )
    # New contacts' names join their accounts' search text.
    touched = sorted({c["account"] for c in plan.inserts})
    names = await _contact_names(touched)
    accounts: dict[uuid.UUID, dict[str, Any]] = {}
    for chunk in _chunks(touched):
        query = AccountRow.select(AccountRow.id, AccountRow.name, AccountRow.code)
        for r in await query.where(AccountRow.id.is_in(list(chunk))):
            accounts[as_uuid(r["id"])] = r
    await executemany(
        "UPDATE accounts SET search_text = ? WHERE id = ?",
        [(fold(" ".join([a["name"], a["code"], *names.get(i, [])])), i) for i, a in accounts.items()],
    )
    await _record_import(
        actor,
        "contact",
        created=[
            (c["id"], c["account"], {k: v for k, v in c.items() if k not in _KEYS and v is not None})
            for c in plan.inserts
        ],
        changed=[(b["id"], b["account"], {k: v for k, v in b.items() if k not in _KEYS}, a) for b, a in plan.updates],
    )


# ---------------------------------------------------------------- holdings

_HOLDING_VIEW = ("product_code", "product", "quantity", "monthly_fee_cents", "contract_start", "contract_end")


async def _stored_holdings(
    account_ids: Sequence[uuid.UUID],
) -> tuple[dict[tuple[uuid.UUID, str], dict[str, Any]], dict[tuple[uuid.UUID, str], dict[str, Any]]]:
    """Live holdings of the accounts, by (account, product code) and by (account, product name)."""
    by_code: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    by_name: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(account_ids))):
        rows = (
            await HoldingRow.select()
            .where(HoldingRow.account.is_in(list(chunk)), HoldingRow.deleted_at.is_null())
            .order_by(HoldingRow.created_at)
        )
        for r in rows:
            account_id = as_uuid(r["account"])
            if r["product_code"]:
                by_code.setdefault((account_id, r["product_code"]), r)
            # By name, the oldest holding without a code comes first, then the oldest with one.
            current = by_name.get((account_id, r["product"]))
            if current is None or (current["product_code"] and not r["product_code"]):
                by_name[(account_id, r["product"])] = r
    return by_code, by_name


def _holding_values(row: _Row, sheet: _Sheet) -> dict[str, Any]:
    cells = row.cells
    raw: dict[str, tuple[str, Any]] = {k: (k, cells[k]) for k in ("product_code", "product") if k in cells}
    if "quantity" in cells:
        raw["quantity"] = ("quantity", _number_text(cells["quantity"]))
    if "monthly_fee" in cells:
        cents = _yuan_to_cents(row, sheet.column("monthly_fee"), cells["monthly_fee"])
        if cents is not None:
            raw["monthly_fee_cents"] = ("monthly_fee", cents)
    for name in ("contract_start", "contract_end"):
        if name in cells and (day := _date(row, sheet.column(name), cells[name])) is not None:
            raw[name] = (name, day)
    return _checked(row, sheet, HoldingPatch, raw)


def _holding_key(row: _Row, sheet: _Sheet, seen: dict[tuple[str, str], int]) -> None:
    """Report a row naming no product, or the same product of the same account as an earlier row."""
    cells = row.cells
    key_text = cells.get("product_code") or cells.get("product")
    if key_text is None:
        row.error(sheet.column("product"), "give the product code or the product name")
        return
    key = (cells.get("account_code", ""), key_text)
    if key in seen:
        column = sheet.column("product_code" if cells.get("product_code") else "product")
        row.error(column, f"{_shown(key_text)}: this product of {key[0]} is already on line {seen[key]}")
    else:
        seen[key] = row.line


async def _plan_holdings(sheet: _Sheet) -> _Plan:
    accounts = await _account_ids(sheet)
    by_code, by_name = await _stored_holdings(list(accounts.values()))
    seen: dict[tuple[str, str], int] = {}
    plan = _Plan()
    for row in sheet.rows:
        cells = row.cells
        values = _holding_values(row, sheet)
        _holding_key(row, sheet, seen)
        if row.errors:
            continue
        account_id = accounts[cells["account_code"]]
        before = by_code.get((account_id, cells["product_code"])) if cells.get("product_code") else None
        if before is None and "product" in cells:
            # No code given, or a code seen for the first time on a holding recorded without one.
            candidate = by_name.get((account_id, cells["product"]))
            if candidate is not None and (not cells.get("product_code") or not candidate["product_code"]):
                before = candidate
        before_view = {k: before[k] for k in _HOLDING_VIEW} if before else {}
        for k in ("contract_start", "contract_end"):
            if before_view.get(k) is not None:
                before_view[k] = as_date(before_view[k])
        after = before_view | values
        start, end = after.get("contract_start"), after.get("contract_end")
        if start and end and end < start:
            row.error(sheet.column("contract_end"), f"{end.isoformat()}: the contract ends before it starts ({start})")
        elif before is None and "product" not in values:
            row.error(sheet.column("product"), "a new holding needs the product name")
        elif before is None:
            created = msgspec.structs.asdict(HoldingCreate(**values))
            plan.inserts.append(created | {"id": new_id(), "account": account_id})
        elif _differs(before_view, after):
            plan.updates.append((before_view | {"id": as_uuid(before["id"]), "account": account_id}, after))
        else:
            plan.unchanged += 1
    return plan


async def _write_holdings(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    await executemany(
        "INSERT INTO holdings (id, account, product_code, product, quantity, monthly_fee_cents, contract_start, "
        "contract_end, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            (
                h["id"],
                h["account"],
                h["product_code"],
                h["product"],
                h["quantity"],
                h["monthly_fee_cents"],
                h["contract_start"],
                h["contract_end"],
                now,
                now,
            )
            for h in plan.inserts
        ],
    )
    await executemany(
        "UPDATE holdings SET product_code = ?, product = ?, quantity = ?, monthly_fee_cents = ?, contract_start = ?, "
        "contract_end = ?, updated_at = ? WHERE id = ?",
        [
            (
                a["product_code"],
                a["product"],
                a["quantity"],
                a["monthly_fee_cents"],
                a["contract_start"],
                a["contract_end"],
                now,
                b["id"],
            )
            for b, a in plan.updates
        ],
    )
    await _record_import(
        actor,
        "holding",
        created=[(h["id"], h["account"], {k: h[k] for k in _HOLDING_VIEW if h[k] is not None}) for h in plan.inserts],
        changed=[(b["id"], b["account"], {k: b[k] for k in _HOLDING_VIEW}, a) for b, a in plan.updates],
    )


# ---------------------------------------------------------------- revenue


_VALID_MONTH = _ZERO = {"month": "2000-01", "amountCents": 0}  # the other field's value when one field is checked


def _revenue_cells(row: _Row, sheet: _Sheet) -> tuple[str | None, int | None]:
    """The row's month (YYYY-MM) and amount in cents, or None where the cell is bad (reported on the row)."""
    cells = row.cells
    month = _month(row, sheet.column("month"), cells["month"]) if "month" in cells else None
    cents = _yuan_to_cents(row, sheet.column("amount"), cells["amount"]) if "amount" in cells else None
    for name in ("month", "amount"):
        if name not in cells:
            row.error(sheet.column(name), f"the {name} is empty")
    # The REST rules of one month's revenue, one field at a time (the other set to a valid value).
    if month is not None and not _checked(row, sheet, RevenueMonthIn, {"month": ("month", month)}, _VALID_MONTH):
        month = None
    if cents is not None and not _checked(row, sheet, RevenueMonthIn, {"amount_cents": ("amount", cents)}, _ZERO):
        cents = None
    return month, cents


async def _stored_revenue(
    account_ids: set[uuid.UUID], first: datetime.date, last: datetime.date
) -> dict[tuple[uuid.UUID, datetime.date], int]:
    stored: dict[tuple[uuid.UUID, datetime.date], int] = {}
    for chunk in _chunks(sorted(account_ids)):
        rows = await RevenueRow.select(RevenueRow.account, RevenueRow.month, RevenueRow.amount_cents).where(
            RevenueRow.account.is_in(list(chunk)), RevenueRow.month >= first, RevenueRow.month <= last
        )
        stored.update({(as_uuid(r["account"]), as_date(r["month"])): r["amount_cents"] for r in rows})
    return stored


async def _plan_revenue(sheet: _Sheet) -> _Plan:
    accounts = await _account_ids(sheet)
    wanted: list[tuple[uuid.UUID, datetime.date, int]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        month, cents = _revenue_cells(row, sheet)
        if month is not None and "account_code" in row.cells:
            key = (row.cells["account_code"], month)
            if key in seen:
                message = f"{month}: the revenue of {key[0]} in this month is already on line {seen[key]}"
                row.error(sheet.column("month"), message)
            else:
                seen[key] = row.line
        if not row.errors and month is not None and cents is not None:
            wanted.append((accounts[row.cells["account_code"]], datetime.date.fromisoformat(month + "-01"), cents))
    stored = {}
    if wanted:
        stored = await _stored_revenue({w[0] for w in wanted}, min(w[1] for w in wanted), max(w[1] for w in wanted))
    plan = _Plan()
    for account_id, month_start, cents in wanted:
        old = stored.get((account_id, month_start))
        item = {"account": account_id, "month": month_start, "amount_cents": cents, "old": old}
        if old is None:
            plan.inserts.append(item)
        elif old != cents:
            plan.updates.append(({"amount_cents": old}, item))
        else:
            plan.unchanged += 1
    return plan


async def _write_revenue(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    items = plan.inserts + [a for _, a in plan.updates]
    await executemany(
        "INSERT INTO revenue (id, account, month, amount_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (account, month) DO UPDATE "
        "SET amount_cents = excluded.amount_cents, updated_at = excluded.updated_at",
        [(new_id(), r["account"], r["month"], r["amount_cents"], now, now) for r in items],
    )
    by_account: dict[uuid.UUID, dict[str, Any]] = {}
    for r in items:
        by_account.setdefault(r["account"], {})[r["month"].strftime("%Y-%m")] = [r["old"], r["amount_cents"]]
    await audit.record_many(
        [
            audit.entry_row(
                actor=actor,
                entity="revenue",
                entity_id=account_id,
                account_id=account_id,
                action="import",
                changes=changes,
            )
            for account_id, changes in by_account.items()
        ]
    )
