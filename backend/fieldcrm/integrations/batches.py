"""Inbound billing batches: bills, payments, holdings and monthly revenue in one JSON body.

A batch is checked whole before anything is written, then applied in one transaction (all or
nothing). Its id makes it idempotent: the same body again answers the first result; a different
body under the same id is a conflict. Bodies are compared by the SHA-256 of their canonical JSON
(keys sorted, no insignificant whitespace), so a re-serialised copy is still "the same batch".
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import msgspec

from fieldcrm.audit import services as audit
from fieldcrm.contracts import billing
from fieldcrm.integrations import account_rows
from fieldcrm.integrations.config import integration_settings
from fieldcrm.integrations.principal import is_service
from fieldcrm.integrations.schemas import (
    BatchResult,
    BillIn,
    HoldingIn,
    PaymentIn,
    RevenueIn,
    RowError,
    SectionCounts,
)
from fieldcrm.integrations.tables import BillingBatch
from fieldcrm.lib.db import as_uuid, is_unique_violation, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

SECTIONS: dict[str, type[msgspec.Struct]] = {
    "bills": BillIn,
    "payments": PaymentIn,
    "holdings": HoldingIn,
    "revenue": RevenueIn,
}
BATCH_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")
MAX_ERRORS_SHOWN = 200
_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_FIELD = re.compile(r"field `([^`]+)`")


class BatchRejected(InvalidInput):
    """Some rows are wrong: nothing was applied."""

    title = "Batch rejected"


def _field_and_message(error: msgspec.ValidationError) -> tuple[str, str]:
    text = str(error)
    if match := _AT.search(text):
        return match.group(1), text[: match.start()]
    if match := _FIELD.search(text):
        return match.group(1), text
    return "", text


def canonical_sha256(document: Any) -> str:
    """The SHA-256 of a JSON document with sorted keys and no insignificant whitespace."""
    return hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()


class _Checked:
    """The batch's rows as Structs, and every error found in them."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[int, Any]]] = {name: [] for name in SECTIONS}
        self.errors: list[RowError] = []

    def error(self, section: str, row: int, field: str, message: str) -> None:
        self.errors.append(RowError(section=section, row=row, field=field, message=message))


def _parse(document: object) -> tuple[dict[str, Any], int]:
    if not isinstance(document, dict):
        msg = 'the body must be a JSON object: {"bills": [...], "payments": [...], "holdings": [...], "revenue": [...]}'
        raise InvalidInput(msg)
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        msg = f"unknown section {unknown[0]!r}; a batch has bills, payments, holdings and revenue"
        raise InvalidInput(msg, field=unknown[0])
    rows = 0
    for name in SECTIONS:
        section = document.get(name, [])
        if not isinstance(section, list):
            msg = f"{name} must be a list of rows"
            raise InvalidInput(msg, field=name)
        rows += len(section)
    return document, rows


def _convert(document: dict[str, Any], checked: _Checked) -> None:
    for name, struct in SECTIONS.items():
        for number, raw in enumerate(document.get(name, []), start=1):
            try:
                checked.rows[name].append((number, msgspec.convert(raw, struct)))
            except msgspec.ValidationError as exc:
                field, message = _field_and_message(exc)
                checked.error(name, number, field, message)


def _duplicates(checked: _Checked, section: str, key: Callable[[Any], Any], field: str, what: str) -> None:
    seen: dict[Any, int] = {}
    for number, row in checked.rows[section]:
        k = key(row)
        if k in seen:
            checked.error(section, number, field, f"{what} is already on row {seen[k]} of {section}")
        else:
            seen[k] = number


async def _check(document: dict[str, Any]) -> tuple[_Checked, dict[str, Any]]:
    checked = _Checked()
    _convert(document, checked)
    _duplicates(checked, "bills", lambda b: b.bill_number, "billNumber", "this bill number")
    _duplicates(checked, "payments", lambda p: p.payment_ref, "paymentRef", "this payment reference")
    _duplicates(checked, "holdings", lambda h: (h.account_code, h.product_code), "productCode", "this product")
    _duplicates(checked, "revenue", lambda r: (r.account_code, r.month), "month", "this account's month")
    codes = [row.account_code for rows in checked.rows.values() for _, row in rows]
    accounts = await account_rows.accounts_by_code(codes)
    for name, rows in checked.rows.items():
        for number, row in rows:
            if row.account_code not in accounts:
                checked.error(name, number, "accountCode", f"no account has the code {row.account_code!r}")
    for number, h in checked.rows["holdings"]:
        if h.contract_start and h.contract_end and h.contract_end < h.contract_start:
            checked.error("holdings", number, "contractEnd", f"{h.contract_end} is before the start {h.contract_start}")
    in_batch = {b.bill_number: accounts.get(b.account_code) for _, b in checked.rows["bills"]}
    linked = [p.bill_number for _, p in checked.rows["payments"] if p.bill_number and p.bill_number not in in_batch]
    stored = {n: as_uuid(r["account"]) for n, r in (await billing.stored_bills(linked)).items()}
    for number, p in checked.rows["payments"]:
        if not p.bill_number or p.account_code not in accounts:
            continue
        owner = in_batch[p.bill_number] if p.bill_number in in_batch else stored.get(p.bill_number)
        if p.bill_number not in in_batch and owner is None:
            message = f"there is no bill {p.bill_number!r} (send it first, or in this batch)"
            checked.error("payments", number, "billNumber", message)
        elif owner != accounts[p.account_code]:
            checked.error("payments", number, "billNumber", f"bill {p.bill_number!r} is not a bill of {p.account_code}")
    return checked, accounts


def _result(row: dict[str, Any], *, replayed: bool) -> BatchResult:
    stored = row["result"]
    if isinstance(stored, str):
        stored = json.loads(stored)
    result = msgspec.convert(stored, BatchResult)
    return msgspec.structs.replace(result, replayed=replayed)


async def _apply(
    actor: Actor, checked: _Checked, accounts: dict[str, Any], now: datetime.datetime
) -> dict[str, SectionCounts]:
    bills = [
        billing.BillRow(
            bill_number=b.bill_number,
            account_id=accounts[b.account_code],
            period=b.period,
            amount_due_cents=b.amount_due_cents,
            paid_cents=b.paid_cents,
            due_on=b.due_on,
            issued_on=b.issued_on,
            void=b.void,
        )
        for _, b in checked.rows["bills"]
    ]
    payments = [
        billing.PaymentRow(
            payment_ref=p.payment_ref,
            account_id=accounts[p.account_code],
            bill_number=p.bill_number,
            amount_cents=p.amount_cents,
            paid_on=p.paid_on,
            method=p.method,
        )
        for _, p in checked.rows["payments"]
    ]
    holdings = [
        account_rows.HoldingRow(
            account_id=accounts[h.account_code],
            product_code=h.product_code,
            product=h.product,
            quantity=h.quantity,
            monthly_fee_cents=h.monthly_fee_cents,
            contract_start=h.contract_start,
            contract_end=h.contract_end,
        )
        for _, h in checked.rows["holdings"]
    ]
    revenue = [
        account_rows.RevenueRow(
            account_id=accounts[r.account_code],
            month=datetime.date.fromisoformat(r.month + "-01"),
            amount_cents=r.amount_cents,
        )
        for _, r in checked.rows["revenue"]
    ]
    b = await billing.upsert_bills(bills, now=now)
    p = await billing.upsert_payments(payments, now=now)
    h = await account_rows.upsert_holdings(actor, holdings, now=now)
    r = await account_rows.upsert_revenue(actor, revenue, now=now)
    return {
        "bills": SectionCounts(inserted=b.inserted, updated=b.updated, unchanged=b.unchanged),
        "payments": SectionCounts(inserted=p.inserted, updated=p.updated, unchanged=p.unchanged),
        "holdings": SectionCounts(inserted=h[0], updated=h[1], unchanged=h[2]),
        "revenue": SectionCounts(inserted=r[0], updated=r[1], unchanged=r[2]),
    }


async def _existing(batch_id: str, digest: str) -> BatchResult | None:
    row = await BillingBatch.select().where(BillingBatch.batch_key == batch_id).first()
    if row is None:
        return None
    if row["body_sha256"] != digest:
        msg = (
            f"batch {batch_id} was already applied with a different body; "
            "send changes under a new batch id (the first result stands)"
        )
        raise Conflict(msg, field="batchId", extra={"appliedSha256": row["body_sha256"], "sentSha256": digest})
    return _result(row, replayed=True)


async def apply_batch(
    *, actor: Actor, batch_id: str, body: object, now: datetime.datetime | None = None
) -> BatchResult:
    """Apply a billing batch all or nothing, once per batch id (the same body again answers the first result)."""
    scope.require(actor, "billing.write")
    if not BATCH_ID.match(batch_id):
        msg = "a batch id is 1 to 100 letters, digits, '.', '_', ':' or '-'"
        raise InvalidInput(msg, field="batchId")
    limit = integration_settings().batch_max_rows
    document, rows = _parse(body)
    if rows > limit:
        msg = f"a batch holds at most {limit} rows; this one has {rows}: split it into several batches"
        raise PayloadTooLarge(msg, extra={"limit": limit, "rows": rows})
    digest = canonical_sha256(document)
    if (done := await _existing(batch_id, digest)) is not None:
        return done
    checked, accounts = await _check(document)
    if checked.errors:
        errors = sorted(checked.errors, key=lambda e: (list(SECTIONS).index(e.section), e.row))
        first = errors[0]
        msg = (
            f"nothing was applied: {len(errors)} row(s) are wrong; the first is {first.section} row {first.row}"
            f"{' (' + first.field + ')' if first.field else ''}: {first.message}"
        )
        raise BatchRejected(
            msg,
            field=first.field or None,
            extra={"errors": [msgspec.to_builtins(e) for e in errors[:MAX_ERRORS_SHOWN]], "errorCount": len(errors)},
        )
    now = now or utcnow()
    try:
        async with write_transaction():
            if (done := await _existing(batch_id, digest)) is not None:  # another request applied it meanwhile
                return done
            counts = await _apply(actor, checked, accounts, now)
            result = BatchResult(
                batch_id=batch_id,
                status="applied",
                rows=rows,
                body_sha256=digest,
                applied_at=now,
                submitted_by=actor.display_name,
                bills=counts["bills"],
                payments=counts["payments"],
                holdings=counts["holdings"],
                revenue=counts["revenue"],
            )
            batch_row_id = new_id()
            await BillingBatch.insert(
                BillingBatch(
                    id=batch_row_id,
                    batch_key=batch_id,
                    body_sha256=digest,
                    service_account=actor.id if is_service(actor) else None,
                    submitted_by=actor.display_name,
                    rows=rows,
                    result=msgspec.to_builtins(result),
                    created_at=now,
                )
            )
            summary = {name: [None, msgspec.to_builtins(c)] for name, c in counts.items()}
            await audit.record(
                actor=actor, entity="billing_batch", entity_id=batch_row_id, action="import", changes=summary
            )
    except Exception as exc:
        if is_unique_violation(exc) and (done := await _existing(batch_id, digest)) is not None:
            return done
        raise
    return result


async def get_batch(*, actor: Actor, batch_id: str) -> BatchResult:
    """The result of an applied batch."""
    scope.require(actor, "billing.write")
    row = await BillingBatch.select().where(BillingBatch.batch_key == batch_id).first()
    if row is None:
        msg = f"no batch {batch_id} has been applied"
        raise NotFound(msg)
    return _result(row, replayed=True)
