"""Bills and payments as the billing system sends them: upserted by its numbers, inside the caller's transaction.

The integration surface (fieldcrm.integrations.batches) validates a whole batch first and calls these
only when every row is good, so a batch is applied all or nothing.
"""

import datetime
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fieldcrm.contracts.tables import Bill, Payment
from fieldcrm.lib.db import as_date, as_uuid, executemany

T = TypeVar("T")
CHUNK = 500


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bill_status(amount_due_cents: int, paid_cents: int, *, void: bool = False) -> str:
    """open, partial, paid or void, from the amounts."""
    if void:
        return "void"
    if paid_cents >= amount_due_cents:
        return "paid"
    return "partial" if paid_cents > 0 else "open"


@dataclass
class BillRow:
    """A bill to store: the billing system's values and the account they resolved to."""

    bill_number: str
    account_id: uuid.UUID
    period: str
    amount_due_cents: int
    paid_cents: int
    due_on: datetime.date
    issued_on: datetime.date | None
    void: bool


@dataclass
class PaymentRow:
    """A payment to store."""

    payment_ref: str
    account_id: uuid.UUID
    bill_number: str | None
    amount_cents: int
    paid_on: datetime.date
    method: str


@dataclass
class Counts:
    """New, changed and unchanged rows of one kind."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


async def stored_bills(numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Stored bills by number (account, amounts, dates), for validation and upserts."""
    stored: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(numbers))):
        rows = await Bill.select(
            Bill.id,
            Bill.bill_number,
            Bill.account,
            Bill.period,
            Bill.amount_due_cents,
            Bill.paid_cents,
            Bill.due_on,
            Bill.issued_on,
            Bill.status,
        ).where(Bill.bill_number.is_in(list(chunk)))
        stored.update({r["bill_number"]: r for r in rows})
    return stored


def _bill_values(b: BillRow) -> tuple[Any, ...]:
    return (
        b.account_id,
        b.period,
        b.amount_due_cents,
        b.paid_cents,
        b.due_on,
        b.issued_on,
        bill_status(b.amount_due_cents, b.paid_cents, void=b.void),
    )


def _stored_values(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        as_uuid(r["account"]),
        r["period"],
        r["amount_due_cents"],
        r["paid_cents"],
        as_date(r["due_on"]),
        as_date(r["issued_on"]) if r["issued_on"] is not None else None,
        r["status"],
    )


async def upsert_bills(bills: Sequence[BillRow], *, now: datetime.datetime) -> Counts:
    """Insert new bills and update changed ones, by bill number (the caller holds the write transaction)."""
    counts = Counts()
    stored = await stored_bills([b.bill_number for b in bills])
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for b in bills:
        values = _bill_values(b)
        old = stored.get(b.bill_number)
        if old is None:
            inserts.append((uuid.uuid4(), b.bill_number, *values, now, now))
        elif _stored_values(old) != values:
            updates.append((*values, now, as_uuid(old["id"])))
        else:
            counts.unchanged += 1
    await executemany(
        "INSERT INTO bills (id, bill_number, account, period, amount_due_cents, paid_cents, due_on, issued_on, status, "
        "collection_task_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
        inserts,
    )
    await executemany(
        "UPDATE bills SET account = ?, period = ?, amount_due_cents = ?, paid_cents = ?, due_on = ?, issued_on = ?, "
        "status = ?, updated_at = ? WHERE id = ?",
        updates,
    )
    counts.inserted, counts.updated = len(inserts), len(updates)
    if inserts or updates:  # a bill that moved to another account changes both accounts' arrears
        touched = {b.account_id for b in bills} | {as_uuid(r["account"]) for r in stored.values()}
        await refresh_arrears(sorted(touched), now=now)
    return counts


async def stored_payments(refs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Stored payments by reference."""
    stored: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(refs))):
        rows = await Payment.select(
            Payment.id,
            Payment.payment_ref,
            Payment.account,
            Payment.bill,
            Payment.amount_cents,
            Payment.paid_on,
            Payment.method,
        ).where(Payment.payment_ref.is_in(list(chunk)))
        stored.update({r["payment_ref"]: r for r in rows})
    return stored


async def upsert_payments(payments: Sequence[PaymentRow], *, now: datetime.datetime) -> Counts:
    """Insert new payments and update changed ones, by reference; bills are linked by number (already stored)."""
    counts = Counts()
    numbers = [p.bill_number for p in payments if p.bill_number]
    bill_ids = {n: as_uuid(r["id"]) for n, r in (await stored_bills(numbers)).items()}
    stored = await stored_payments([p.payment_ref for p in payments])
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for p in payments:
        values = (
            p.account_id,
            bill_ids.get(p.bill_number) if p.bill_number else None,
            p.amount_cents,
            p.paid_on,
            p.method,
        )
        old = stored.get(p.payment_ref)
        if old is None:
            inserts.append((uuid.uuid4(), p.payment_ref, *values, now, now))
            continue
        old_values = (
            as_uuid(old["account"]),
            as_uuid(old["bill"]) if old["bill"] is not None else None,
            old["amount_cents"],
            as_date(old["paid_on"]),
            old["method"],
        )
        if old_values != values:
            updates.append((*values, now, as_uuid(old["id"])))
        else:
            counts.unchanged += 1
    await executemany(
        "INSERT INTO payments (id, payment_ref, account, bill, amount_cents, paid_on, method, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        inserts,
    )
    await executemany(
        "UPDATE payments SET account = ?, bill = ?, amount_cents = ?, paid_on = ?, method = ?, updated_at = ? "
        "WHERE id = ?",
        updates,
    )
    counts.inserted, counts.updated = len(inserts), len(updates)
    return counts


async def refresh_arrears(account_ids: Sequence[uuid.UUID], *, now: datetime.datetime) -> None:
    """Rewrite the accounts' arrears rows from their bills (inside the caller's write transaction)."""
    ids = sorted(set(account_ids))
    for chunk in _chunks(ids):
        marks = ", ".join("{}" for _ in chunk)
        rows = await Bill.raw(
            "SELECT account, MIN(due_on) AS oldest, SUM(amount_due_cents - paid_cents) AS outstanding FROM bills "  # noqa: S608
            f"WHERE account IN ({marks}) AND status IN ('open', 'partial') AND amount_due_cents > paid_cents "
            "GROUP BY account",
            *chunk,
        )
        await Bill.raw(f"DELETE FROM account_arrears WHERE account IN ({marks})", *chunk)  # noqa: S608
        await executemany(
            "INSERT INTO account_arrears (id, account, oldest_due_on, outstanding_cents, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(uuid.uuid4(), as_uuid(r["account"]), as_date(r["oldest"]), int(r["outstanding"]), now) for r in rows],
        )
