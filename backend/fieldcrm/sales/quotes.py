"""Quotes: gap-free numbers per year, exact totals, revisions, the state machine, approval on the workflow engine.

States and the actions that move them (anything else answers 409 with the reason):

    draft --submit--> submitted --(workflow)--> approved | rejected | returned
    submitted --withdraw--> draft          returned --reopen--> draft
    approved --send--> sent --accept--> accepted
    approved | sent --expire--> expired

Only a draft can be edited. An edit made offline that arrives once the quote has left draft is kept
as a new draft revision (same number, revision + 1) instead of being lost.
"""

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.contracts import services as contracts
from fieldcrm.integrations import webhooks
from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_uuid, engine, required, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import catalogue
from fieldcrm.sales.money import line_amounts, quote_amounts
from fieldcrm.sales.schemas import (
    Quote,
    QuoteCreate,
    QuoteLine,
    QuoteLineIn,
    QuotePage,
    QuotePatch,
    QuoteSummary,
    QuoteTransition,
)
from fieldcrm.sales.scoping import account_in_scope, owned_under, through_account
from fieldcrm.sales.tables import Opportunity as OppRow
from fieldcrm.sales.tables import Quote as QuoteRow
from fieldcrm.sales.tables import QuoteCounter
from fieldcrm.sales.tables import QuoteLine as LineRow

# action -> (states it may start from, the state it leads to). approve/reject/return belong to the workflow.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "submitted"),
    "withdraw": (frozenset({"submitted"}), "draft"),
    "reopen": (frozenset({"returned"}), "draft"),
    "send": (frozenset({"approved"}), "sent"),
    "accept": (frozenset({"sent"}), "accepted"),
    "expire": (frozenset({"approved", "sent"}), "expired"),
}
WORKFLOW_ACTIONS = frozenset({"approve", "reject", "return"})
_HINTS = {
    "submitted": "it waits for approval; withdraw it first to change it",
    "approved": "it is approved; send it to the customer, or start a new revision to change it",
    "rejected": "it was rejected; start a new revision",
    "returned": "it was returned for changes; reopen it (back to draft) first",
    "sent": "it was sent to the customer; record acceptance, or start a new revision",
    "accepted": "the customer accepted it; nothing more can happen to it",
    "expired": "it expired; start a new revision",
    "draft": "it is still a draft; submit it first",
}

COLUMNS = (
    *QuoteRow.all_columns(),
    QuoteRow.account.name.as_alias("account_name"),
    QuoteRow.owner.display_name.as_alias("owner_name"),
)


def label(row: Mapping[str, Any]) -> str:
    """``Q-2026-00001`` or ``Q-2026-00001 rev 2``."""
    return row["number"] if row["revision"] == 1 else f"{row['number']} rev {row['revision']}"


def _line_out(row: Mapping[str, Any]) -> QuoteLine:
    amounts = line_amounts(
        quantity=row["quantity"],
        list_price_cents=row["list_price_cents"],
        unit_price_cents=row["unit_price_cents"],
        discount_bp=row["discount_bp"],
    )
    return QuoteLine(
        id=row["id"],
        position=row["position"],
        product_id=row["product"],
        product_code=row["product_code"],
        product_name=row["product_name"],
        unit=row["unit"],
        quantity=row["quantity"],
        list_price_cents=row["list_price_cents"],
        unit_price_cents=row["unit_price_cents"],
        discount_bp=row["discount_bp"],
        max_discount_bp=row["max_discount_bp"],
        discount_cents=amounts.discount_cents,
        total_cents=row["total_cents"],
    )


def quote_out(row: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> Quote:
    """A quote row (selected with COLUMNS) and its line rows as the API shape."""
    return Quote(
        id=row["id"],
        number=row["number"],
        revision=row["revision"],
        previous_id=row["previous"],
        account_id=row["account"],
        account_name=row["account_name"],
        opportunity_id=row["opportunity"],
        owner_id=row["owner"],
        owner_name=row["owner_name"],
        title=row["title"],
        state=row["state"],
        state_comment=row["state_comment"],
        valid_until=row["valid_until"],
        notes=row["notes"],
        currency=row["currency"],
        list_total_cents=row["list_total_cents"],
        total_cents=row["total_cents"],
        discount_bp=row["discount_bp"],
        deepest_excess_bp=row["deepest_excess_bp"],
        lines=[_line_out(r) for r in lines],
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _summary_out(row: Mapping[str, Any]) -> QuoteSummary:
    return QuoteSummary(
        id=row["id"],
        number=row["number"],
        revision=row["revision"],
        account_id=row["account"],
        account_name=row["account_name"],
        owner_id=row["owner"],
        title=row["title"],
        state=row["state"],
        total_cents=row["total_cents"],
        discount_bp=row["discount_bp"],
        valid_until=row["valid_until"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- numbering


async def next_number(year: int) -> tuple[int, str]:
    """The next number of ``year`` (inside the caller's write transaction).

    Gap-free: the counter row is incremented in the same transaction that inserts the quote, so a
    rollback gives the number back. On PostgreSQL the UPDATE locks the year's row until commit (concurrent
    creators queue); on SQLite the single writer serialises them.
    """
    await QuoteCounter.insert(QuoteCounter(year=year, last=0)).on_conflict(
        target=QuoteCounter.year, action="DO NOTHING"
    )
    rows = (
        await QuoteCounter.update({QuoteCounter.last: QuoteCounter.last + 1})
        .where(QuoteCounter.year == year)
        .returning(QuoteCounter.last)
    )
    seq = int(rows[0]["last"])
    return seq, f"Q-{year}-{seq:05d}"


# ---------------------------------------------------------------- reads


async def _row(actor: Actor, quote_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    query = QuoteRow.select(*COLUMNS).where(QuoteRow.id == quote_id, *through_account(actor, QuoteRow.account))
    row = await query.first()
    if row is None:
        msg = f"quote {quote_id} not found"
        raise NotFound(msg)
    if lock and not isinstance(engine(), FieldcrmSQLiteEngine):
        # Two writers on one quote (a decision and an edit) queue here instead of both reading "draft".
        await QuoteRow.select(QuoteRow.id).where(QuoteRow.id == quote_id).lock_rows("UPDATE")
        row = required(await QuoteRow.select(*COLUMNS).where(QuoteRow.id == quote_id).first())
    return row


async def _lines(quote_id: uuid.UUID) -> list[dict[str, Any]]:
    return list(await LineRow.select().where(LineRow.quote == quote_id).order_by(LineRow.position))


async def _read(quote_id: uuid.UUID) -> Quote:
    row = required(await QuoteRow.select(*COLUMNS).where(QuoteRow.id == quote_id).first())
    return quote_out(row, await _lines(quote_id))


async def get_quote(*, actor: Actor, quote_id: uuid.UUID) -> Quote:
    """One quote on an account the actor sees."""
    scope.require(actor, "sales.read")
    row = await _row(actor, quote_id)
    return quote_out(row, await _lines(quote_id))


async def list_quotes(
    *,
    actor: Actor,
    page: PageParams,
    account_id: uuid.UUID | None = None,
    state: str | None = None,
    owner_id: uuid.UUID | None = None,
    number: str | None = None,
) -> QuotePage:
    """Quotes in scope, newest first."""
    scope.require(actor, "sales.read")
    where = [
        *through_account(actor, QuoteRow.account),
        *owned_under(QuoteRow.account, owner_id=owner_id, unit_path=None),
    ]
    if account_id is not None:
        where.append(QuoteRow.account == account_id)
    if state:
        where.append(QuoteRow.state == state)
    if number:
        where.append(QuoteRow.number == number.strip().upper())
    query = QuoteRow.select(*COLUMNS).where(*where).order_by(QuoteRow.created_at, ascending=False)
    rows = await query.order_by(QuoteRow.id).limit(page.limit).offset(page.offset)
    total = await QuoteRow.count().where(*where)
    return QuotePage(items=[_summary_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


# ---------------------------------------------------------------- lines and totals


async def _priced_lines(
    lines: Sequence[QuoteLineIn], agreed: Mapping[uuid.UUID, tuple[int | None, int | None]] | None = None
) -> list[dict[str, Any]]:
    """Line values priced from the catalogue as it is now (list price and free-discount limit are copied).

    ``agreed``: the account's agreed tariffs (price, discount) per product; a line that names neither a
    price nor a discount starts from them. Approval still judges the depth below list as for any line.
    """
    products = await catalogue.products_by_id({line.product_id for line in lines})
    priced = []
    for position, line in enumerate(lines, start=1):
        product = products.get(line.product_id)
        if product is None:
            msg = f"line {position}: no product {line.product_id} in the catalogue"
            raise InvalidInput(msg, field=f"lines[{position - 1}].productId")
        if not product["active"]:
            msg = f"line {position}: {product['name']} ({product['code']}) is no longer sold"
            raise InvalidInput(msg, field=f"lines[{position - 1}].productId")
        unit_price = product["list_price_cents"] if line.unit_price_cents is None else line.unit_price_cents
        discount_bp = line.discount_bp
        if agreed and line.unit_price_cents is None and not line.discount_bp and line.product_id in agreed:
            agreed_price, agreed_discount = agreed[line.product_id]
            unit_price = agreed_price if agreed_price is not None else unit_price
            discount_bp = agreed_discount or 0
        priced.append(
            {
                "position": position,
                "product": line.product_id,
                "product_code": product["code"],
                "product_name": product["name"],
                "unit": product["unit"],
                "quantity": line.quantity,
                "list_price_cents": product["list_price_cents"],
                "unit_price_cents": unit_price,
                "discount_bp": discount_bp,
                "max_discount_bp": product["max_discount_bp"],
            }
        )
    return priced


def _copied_lines(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keep = (
        "position",
        "product",
        "product_code",
        "product_name",
        "unit",
        "quantity",
        "list_price_cents",
        "unit_price_cents",
        "discount_bp",
        "max_discount_bp",
    )
    return [{k: r[k] for k in keep} for r in rows]


async def _write_lines(quote_id: uuid.UUID, lines: list[dict[str, Any]]) -> dict[Any, Any]:
    """Replace the quote's lines; returns the quote's total columns."""
    amounts = [
        line_amounts(
            quantity=line["quantity"],
            list_price_cents=line["list_price_cents"],
            unit_price_cents=line["unit_price_cents"],
            discount_bp=line["discount_bp"],
        )
        for line in lines
    ]
    totals = quote_amounts(amounts)
    # The deepest line beyond its product's free limit (depth counts a unit price below list too).
    excess = max(
        (max(0, a.depth_bp - line["max_discount_bp"]) for a, line in zip(amounts, lines, strict=True)), default=0
    )
    await LineRow.delete().where(LineRow.quote == quote_id)
    if lines:
        await LineRow.insert(
            *(
                LineRow(quote=quote_id, total_cents=a.total_cents, **line)
                for a, line in zip(amounts, lines, strict=True)
            )
        )
    return {
        QuoteRow.list_total_cents: totals.list_total_cents,
        QuoteRow.total_cents: totals.total_cents,
        QuoteRow.discount_bp: totals.discount_bp,
        QuoteRow.deepest_excess_bp: excess,
    }


# ---------------------------------------------------------------- writes


async def _check_opportunity(opportunity_id: uuid.UUID | None, account_id: uuid.UUID) -> None:
    """The opportunity must be one of the account's (the account's scope was checked already)."""
    if opportunity_id is None:
        return
    row = await OppRow.select(OppRow.account).where(OppRow.id == opportunity_id, OppRow.deleted_at.is_null()).first()
    if row is None or as_uuid(row["account"]) != account_id:
        msg = f"opportunity {opportunity_id} is not one of this account's"
        raise InvalidInput(msg, field="opportunityId")


async def create_quote(*, actor: Actor, data: QuoteCreate, now: datetime.datetime | None = None) -> Quote:
    """Draft a quote for an account the actor sees; the server gives it the year's next number."""
    scope.require(actor, "quotes.write")
    quote_id = data.id or new_id()
    now = now or utcnow()
    async with write_transaction():
        account = await account_in_scope(actor, data.account_id)
        await _check_opportunity(data.opportunity_id, data.account_id)
        if await QuoteRow.exists().where(QuoteRow.id == quote_id):
            msg = f"quote {quote_id} already exists"
            raise Conflict(msg)
        agreed = await contracts.agreed_terms(data.account_id, {line.product_id for line in data.lines}, now.date())
        lines = await _priced_lines(data.lines, agreed)
        seq, number = await next_number(now.year)
        await QuoteRow.insert(
            QuoteRow(
                id=quote_id,
                number=number,
                year=now.year,
                seq=seq,
                account=data.account_id,
                opportunity=data.opportunity_id,
                owner=account["owner"],  # approvals route from the account's manager, whoever drafted it
                title=data.title,
                valid_until=data.valid_until,
                notes=data.notes,
                created_at=now,
                updated_at=now,
            )
        )
        totals = await _write_lines(quote_id, lines)
        await QuoteRow.update(totals).where(QuoteRow.id == quote_id)
        quote = await _read(quote_id)
        await audit.record(
            actor=actor,
            entity="quote",
            entity_id=quote_id,
            account_id=data.account_id,
            action="create",
            changes={"number": [None, number], "total_cents": [None, quote.total_cents]},
        )
    return quote


def _not_draft(row: Mapping[str, Any]) -> Conflict:
    msg = f"{label(row)} is {row['state']}, and only a draft can be edited: {_HINTS[row['state']]}"
    return Conflict(msg, extra={"state": row["state"]})


async def _apply_patch(quote_id: uuid.UUID, changes: dict[str, Any]) -> None:
    values: dict[Any, Any] = {}
    for field in ("title", "valid_until", "notes"):
        if field in changes:
            values[getattr(QuoteRow, field)] = changes[field]
    if "lines" in changes:
        values.update(await _write_lines(quote_id, await _priced_lines(changes["lines"])))
    values[QuoteRow.version] = QuoteRow.version + 1
    values[QuoteRow.updated_at] = utcnow()
    await QuoteRow.update(values).where(QuoteRow.id == quote_id)


async def update_quote(*, actor: Actor, quote_id: uuid.UUID, data: QuotePatch) -> Quote:
    """Change a draft (lines replace all lines); any other state answers 409 and says what to do instead."""
    scope.require(actor, "quotes.write")
    changes = changed_fields(data)
    async with write_transaction():
        row = await _row(actor, quote_id, lock=True)
        if row["state"] != "draft":
            raise _not_draft(row)
        if changes:
            await _apply_patch(quote_id, changes)
            await audit.record(
                actor=actor,
                entity="quote",
                entity_id=quote_id,
                account_id=row["account"],
                action="update",
                changes={k: [None, "changed"] for k in changes},
            )
        return await _read(quote_id)


async def update_quote_offline(*, actor: Actor, quote_id: uuid.UUID, data: QuotePatch) -> tuple[Quote, str | None]:
    """The sync twin of ``update_quote``: an edit that finds the quote past draft becomes a new draft revision.

    Returns the quote edited (or the new revision) and the state that forced a revision (None: edited in place).
    """
    scope.require(actor, "quotes.write")
    async with write_transaction():
        row = await _row(actor, quote_id, lock=True)
        if row["state"] == "draft":
            return await update_quote(actor=actor, quote_id=quote_id, data=data), None
        revision = await _new_revision(actor, row)
        changes = changed_fields(data)
        if changes:
            await _apply_patch(revision, changes)
        return await _read(revision), str(row["state"])


async def _new_revision(actor: Actor, row: Mapping[str, Any]) -> uuid.UUID:
    """A draft copy of the quote (same number, next revision), with the lines as they were priced."""
    last = await (
        QuoteRow.select(QuoteRow.revision)
        .where(QuoteRow.number == row["number"])
        .order_by(QuoteRow.revision, ascending=False)
        .first()
    )
    revision_id = new_id()
    await QuoteRow.insert(
        QuoteRow(
            id=revision_id,
            number=row["number"],
            year=row["year"],
            seq=row["seq"],
            revision=(last["revision"] if last else row["revision"]) + 1,
            previous=row["id"],
            account=row["account"],
            opportunity=row["opportunity"],
            owner=row["owner"],
            title=row["title"],
            valid_until=row["valid_until"],
            notes=row["notes"],
            currency=row["currency"],
        )
    )
    totals = await _write_lines(revision_id, _copied_lines(await _lines(row["id"])))
    await QuoteRow.update(totals).where(QuoteRow.id == revision_id)
    await audit.record(
        actor=actor,
        entity="quote",
        entity_id=revision_id,
        account_id=row["account"],
        action="create",
        changes={"number": [None, row["number"]], "revision_of": [None, str(row["id"])]},
    )
    return revision_id


async def revise_quote(*, actor: Actor, quote_id: uuid.UUID) -> Quote:
    """Start a new draft revision of a quote that has left draft (a draft is edited in place)."""
    scope.require(actor, "quotes.write")
    async with write_transaction():
        row = await _row(actor, quote_id, lock=True)
        if row["state"] in {"draft", "accepted"}:
            msg = f"{label(row)} is {row['state']}: " + (
                "edit it in place" if row["state"] == "draft" else "an accepted quote is final"
            )
            raise Conflict(msg, extra={"state": row["state"]})
        return await _read(await _new_revision(actor, row))


async def transition(*, actor: Actor, quote_id: uuid.UUID, data: QuoteTransition) -> Quote:
    """Move a quote on (see the module's state table); an illegal move answers 409 with the reason."""
    scope.require(actor, "quotes.write")
    async with write_transaction():
        row = await _row(actor, quote_id, lock=True)
        state = row["state"]
        if data.action in WORKFLOW_ACTIONS:
            msg = (
                f"a quote is {'returned' if data.action == 'return' else data.action + 'd'} by its approvers "
                "through the approval workflow (POST /api/approvals/{stepId}/decision), not directly"
            )
            raise Conflict(msg, extra={"state": state})
        sources, target = TRANSITIONS[data.action]
        if state not in sources:
            allowed = ", ".join(sorted(a for a, (src, _) in TRANSITIONS.items() if state in src)) or "none"
            msg = f"cannot {data.action} {label(row)}: it is {state} ({_HINTS[state]}); allowed now: {allowed}"
            raise Conflict(msg, extra={"state": state, "allowed": allowed})
        now = utcnow()
        values: dict[Any, Any] = {
            QuoteRow.state: target,
            QuoteRow.version: QuoteRow.version + 1,
            QuoteRow.updated_at: now,
            QuoteRow.state_comment: data.comment,
        }
        if data.action == "submit":
            _check_submittable(row, await _lines(quote_id), now.date())
            account = await account_in_scope(actor, row["account"])
            values[QuoteRow.submitted_at] = now
            values[QuoteRow.tier] = account["tier"]
            values[QuoteRow.decided_at] = None
        await QuoteRow.update(values).where(QuoteRow.id == quote_id)
        await audit.record(
            actor=actor,
            entity="quote",
            entity_id=quote_id,
            account_id=row["account"],
            action=data.action,
            changes={"state": [state, target]},
        )
        from fieldcrm.sales import approval  # noqa: PLC0415 - approval imports this module

        if data.action == "submit":
            await approval.start(actor=actor, quote_id=quote_id)
        elif data.action == "withdraw":
            await approval.cancel(actor=actor, quote_id=quote_id, reason=data.comment or "withdrawn by the rep")
        elif data.action == "accept":  # the draft contract and the event share the acceptance's transaction
            contract_id = await contracts.draft_from_quote(actor=actor, quote_id=quote_id, now=now)
            event = {"quoteId": str(quote_id), "number": row["number"], "contractId": str(contract_id)}
            await webhooks.emit("quote.accepted", event | {"accountId": str(row["account"])}, now=now)
        return await _read(quote_id)


def _check_submittable(row: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], today: datetime.date) -> None:
    if not lines:
        msg = f"{label(row)} has no lines; add at least one product before submitting"
        raise InvalidInput(msg, field="lines")
    if row["valid_until"] is not None and row["valid_until"] < today:
        msg = f"{label(row)} was valid until {row['valid_until']}; set a later validity date before submitting"
        raise InvalidInput(msg, field="validUntil")


async def set_outcome(*, quote_id: uuid.UUID, outcome: str, actor: Actor | None, comment: str) -> None:
    """The workflow decided (approved, rejected, returned); called in the decision's transaction."""
    row = required(await QuoteRow.select(QuoteRow.state, QuoteRow.account).where(QuoteRow.id == quote_id).first())
    if row["state"] != "submitted":
        msg = f"quote {quote_id} is {row['state']}, not submitted; the decision no longer applies"
        raise Conflict(msg)
    now = utcnow()
    await QuoteRow.update(
        {
            QuoteRow.state: outcome,
            QuoteRow.state_comment: comment,
            QuoteRow.decided_at: now,
            QuoteRow.updated_at: now,
            QuoteRow.version: QuoteRow.version + 1,
        }
    ).where(QuoteRow.id == quote_id)
    await audit.record(
        actor=actor,
        entity="quote",
        entity_id=quote_id,
        account_id=row["account"],
        action=outcome,
        changes={"state": ["submitted", outcome], **({"comment": [None, comment]} if comment else {})},
    )


async def expire_due(*, today: datetime.date | None = None) -> int:
    """Mark approved and sent quotes past their validity date expired (a worker job); returns how many."""
    today = today or utcnow().date()
    async with write_transaction():
        gone = (
            await QuoteRow.update(
                {QuoteRow.state: "expired", QuoteRow.updated_at: utcnow(), QuoteRow.version: QuoteRow.version + 1}
            )
            .where(QuoteRow.state.is_in(["approved", "sent"]), QuoteRow.valid_until < today)
            .returning(QuoteRow.id)
        )
    return len(gone)
