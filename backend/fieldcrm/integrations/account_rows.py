"""Holdings and monthly revenue from a billing batch, upserted by the billing system's codes.

The CSV imports (fieldcrm.accounts.imports) write the same tables from files; sharing one row-applying
path with them is left until that module settles (see docs/integration.md).
"""

import datetime
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fieldcrm.accounts.tables import Account, Holding, Revenue
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_date, as_uuid, executemany
from fieldcrm.org.schemas import Actor

T = TypeVar("T")
CHUNK = 500


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def accounts_by_code(codes: Sequence[str]) -> dict[str, uuid.UUID]:
    """Live accounts by their billing-system code."""
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(set(codes))):
        rows = await Account.select(Account.id, Account.code).where(
            Account.code.is_in(list(chunk)), Account.deleted_at.is_null()
        )
        found.update({r["code"]: as_uuid(r["id"]) for r in rows})
    return found


@dataclass
class HoldingRow:
    """A holding to store."""

    account_id: uuid.UUID
    product_code: str
    product: str
    quantity: int
    monthly_fee_cents: int
    contract_start: datetime.date | None
    contract_end: datetime.date | None


@dataclass
class RevenueRow:
    """A month's revenue to store (month = its first day)."""

    account_id: uuid.UUID
    month: datetime.date
    amount_cents: int


def _opt_date(value: Any) -> datetime.date | None:
    return as_date(value) if value is not None else None


async def upsert_holdings(actor: Actor, rows: Sequence[HoldingRow], *, now: datetime.datetime) -> tuple[int, int, int]:
    """(inserted, updated, unchanged): by (account, product code) among the account's live holdings."""
    stored: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for chunk in _chunks(sorted({r.account_id for r in rows})):
        found = (
            await Holding.select()
            .where(Holding.account.is_in(list(chunk)), Holding.deleted_at.is_null(), Holding.product_code != "")
            .order_by(Holding.created_at)
        )
        for h in found:
            stored.setdefault((as_uuid(h["account"]), h["product_code"]), h)
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    entries = []
    unchanged = 0
    for r in rows:
        values = (r.product, r.quantity, r.monthly_fee_cents, r.contract_start, r.contract_end)
        old = stored.get((r.account_id, r.product_code))
        if old is None:
            holding_id = uuid.uuid4()
            inserts.append((holding_id, r.account_id, r.product_code, *values, now, now))
            changes = {"product_code": [None, r.product_code], "product": [None, r.product]}
            entries.append((holding_id, r.account_id, "import", changes))
            continue
        old_values = (
            old["product"],
            old["quantity"],
            old["monthly_fee_cents"],
            _opt_date(old["contract_start"]),
            _opt_date(old["contract_end"]),
        )
        if old_values == values:
            unchanged += 1
            continue
        updates.append((*values, now, as_uuid(old["id"])))
        names = ("product", "quantity", "monthly_fee_cents", "contract_start", "contract_end")
        changes = audit.diff(dict(zip(names, old_values, strict=True)), dict(zip(names, values, strict=True)))
        entries.append((as_uuid(old["id"]), r.account_id, "import", changes))
    await executemany(
        "INSERT INTO holdings (id, account, product_code, product, quantity, monthly_fee_cents, contract_start, "
        "contract_end, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        inserts,
    )
    await executemany(
        "UPDATE holdings SET product = ?, quantity = ?, monthly_fee_cents = ?, contract_start = ?, contract_end = ?, "
        "updated_at = ? WHERE id = ?",
        updates,
    )
    await audit.record_many(
        [
            audit.entry_row(actor=actor, entity="holding", entity_id=i, account_id=a, action=act, changes=c)
            for i, a, act, c in entries
        ]
    )
    return len(inserts), len(updates), unchanged


async def upsert_revenue(actor: Actor, rows: Sequence[RevenueRow], *, now: datetime.datetime) -> tuple[int, int, int]:
    """(inserted, updated, unchanged): one amount per (account, month)."""
    stored: dict[tuple[uuid.UUID, datetime.date], int] = {}
    if rows:
        first, last = min(r.month for r in rows), max(r.month for r in rows)
        for chunk in _chunks(sorted({r.account_id for r in rows})):
            found = await Revenue.select(Revenue.account, Revenue.month, Revenue.amount_cents).where(
                Revenue.account.is_in(list(chunk)), Revenue.month >= first, Revenue.month <= last
            )
            stored.update({(as_uuid(f["account"]), as_date(f["month"])): f["amount_cents"] for f in found})
    writes = []
    by_account: dict[uuid.UUID, dict[str, list[Any]]] = {}
    inserted = updated = 0
    for r in rows:
        old = stored.get((r.account_id, r.month))
        if old == r.amount_cents:
            continue
        inserted += old is None
        updated += old is not None
        writes.append((uuid.uuid4(), r.account_id, r.month, r.amount_cents, now, now))
        by_account.setdefault(r.account_id, {})[r.month.strftime("%Y-%m")] = [old, r.amount_cents]
    await executemany(
        "INSERT INTO revenue (id, account, month, amount_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (account, month) DO UPDATE "
        "SET amount_cents = excluded.amount_cents, updated_at = excluded.updated_at",
        writes,
    )
    await audit.record_many(
        [
            audit.entry_row(actor=actor, entity="revenue", entity_id=a, account_id=a, action="import", changes=c)
            for a, c in by_account.items()
        ]
    )
    return inserted, updated, len(rows) - inserted - updated
