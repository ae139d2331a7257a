"""Use cases of contracts: numbering, drafts from accepted quotes, signing and the status machine, tariffs.

A contract is seen by whoever sees its account (``scope.owner_filter`` on the account's owner).
Statuses::

    draft --sign--> signed --activate--> active --(renewal window, the worker)--> expiring
    active | expiring --renew--> renewed (a draft successor is made)   --end--> ended
    signed | active | expiring --terminate--> terminated
"""

import datetime
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.audit import services as audit
from fieldcrm.contracts.schemas import (
    AccountCommercial,
    Contract,
    ContractCreate,
    ContractLine,
    ContractPage,
    ContractPatch,
    ContractSummary,
    ContractTransition,
    Document,
    Tariff,
    TariffIn,
    TariffsPut,
)
from fieldcrm.contracts.tables import AgreedTariff, ContractCounter, ContractDocument, ContractQuote
from fieldcrm.contracts.tables import Contract as ContractRow
from fieldcrm.contracts.tables import ContractLine as LineRow
from fieldcrm.integrations import webhooks
from fieldcrm.lib.db import as_date, as_uuid, required, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.sales.tables import Product
from fieldcrm.sales.tables import Quote as QuoteRow
from fieldcrm.sales.tables import QuoteLine as QuoteLineRow

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "sign": (frozenset({"draft"}), "signed"),
    "activate": (frozenset({"signed"}), "active"),
    "renew": (frozenset({"active", "expiring"}), "renewed"),
    "end": (frozenset({"active", "expiring"}), "ended"),
    "terminate": (frozenset({"signed", "active", "expiring"}), "terminated"),
}
LIVE = frozenset({"signed", "active", "expiring"})  # statuses whose tariffs are in force
_HINTS = {
    "draft": "it can be edited, then signed",
    "signed": "it becomes active on its start date (or activate it)",
    "active": "it runs until its end date",
    "expiring": "its renewal is open: renew or end it",
    "renewed": "a successor contract took over",
    "ended": "it is over",
    "terminated": "it was terminated",
}


def allowed_actions(status: str) -> list[str]:
    """The moves a person may make from a status."""
    return sorted(a for a, (sources, _) in TRANSITIONS.items() if status in sources)


# ---------------------------------------------------------------- numbering


async def next_number(year: int) -> tuple[int, str]:
    """The year's next contract number, C-2026-00001 (inside the caller's write transaction).

    Gap-free: the counter row is incremented in the transaction that inserts the contract, so a
    rollback gives the number back; on PostgreSQL the UPDATE holds the year's row until commit.
    """
    await ContractCounter.insert(ContractCounter(year=year, last=0)).on_conflict(
        target=ContractCounter.year, action="DO NOTHING"
    )
    rows = (
        await ContractCounter.update({ContractCounter.last: ContractCounter.last + 1})
        .where(ContractCounter.year == year)
        .returning(ContractCounter.last)
    )
    seq = int(rows[0]["last"])
    return seq, f"C-{year}-{seq:05d}"


# ---------------------------------------------------------------- reading

_COLUMNS = (
    *ContractRow.all_columns(),
    ContractRow.account.name.as_alias("account_name"),
    ContractRow.account.owner.as_alias("account_owner"),
    ContractRow.account.tier.as_alias("account_tier"),
)


def _visible(actor: Actor) -> list[Any]:
    limit = scope.owner_filter(actor, ContractRow.account.owner)
    return [limit] if limit is not None else []


async def _row(actor: Actor, contract_id: uuid.UUID) -> dict[str, Any]:
    row = await ContractRow.select(*_COLUMNS).where(ContractRow.id == contract_id, *_visible(actor)).first()
    if row is None:
        msg = f"contract {contract_id} not found"
        raise NotFound(msg)
    return row


def _opt_date(value: Any) -> datetime.date | None:
    return as_date(value) if value is not None else None


def _tariff_out(r: Mapping[str, Any]) -> Tariff:
    return Tariff(
        id=r["id"],
        product_id=r["product"],
        product_code=r["product_code"],
        product_name=r["product_name"],
        price_cents=r["price_cents"],
        discount_bp=r["discount_bp"],
        valid_from=_opt_date(r["valid_from"]),
        valid_to=_opt_date(r["valid_to"]),
    )


def _summary(r: Mapping[str, Any]) -> ContractSummary:
    return ContractSummary(
        id=r["id"],
        number=r["number"],
        account_id=r["account"],
        account_name=r["account_name"],
        title=r["title"],
        status=r["status"],
        start_on=_opt_date(r["start_on"]),
        end_on=_opt_date(r["end_on"]),
        auto_renew=bool(r["auto_renew"]),
        total_cents=r["total_cents"],
    )


async def _read(contract_id: uuid.UUID) -> Contract:
    r = required(await ContractRow.select(*_COLUMNS).where(ContractRow.id == contract_id).first())
    lines = await LineRow.select().where(LineRow.contract == contract_id).order_by(LineRow.position)
    tariffs = (
        await AgreedTariff.select().where(AgreedTariff.contract == contract_id).order_by(AgreedTariff.product_code)
    )
    documents = (
        await ContractDocument.select()
        .where(ContractDocument.contract == contract_id)
        .order_by(ContractDocument.created_at)
    )
    quotes = await ContractQuote.select(ContractQuote.quote).where(ContractQuote.contract == contract_id)
    signatories = r["signatories"]
    return Contract(
        id=r["id"],
        number=r["number"],
        account_id=r["account"],
        account_name=r["account_name"],
        title=r["title"],
        status=r["status"],
        start_on=_opt_date(r["start_on"]),
        end_on=_opt_date(r["end_on"]),
        auto_renew=bool(r["auto_renew"]),
        notice_days=r["notice_days"],
        signed_on=_opt_date(r["signed_on"]),
        signatories=list(json.loads(signatories) if isinstance(signatories, str) else signatories or []),
        currency=r["currency"],
        total_cents=r["total_cents"],
        quote_ids=[as_uuid(q["quote"]) for q in quotes],
        lines=[
            ContractLine(
                position=x["position"],
                product_id=x["product"],
                product_code=x["product_code"],
                product_name=x["product_name"],
                unit=x["unit"],
                quantity=x["quantity"],
                list_price_cents=x["list_price_cents"],
                unit_price_cents=x["unit_price_cents"],
                discount_bp=x["discount_bp"],
                total_cents=x["total_cents"],
            )
            for x in lines
        ],
        tariffs=[_tariff_out(t) for t in tariffs],
        documents=[
            Document(
                id=d["id"],
                filename=d["filename"],
                media_type=d["media_type"],
                size=d["size"],
                sha256=d["sha256"],
                created_at=d["created_at"],
            )
            for d in documents
        ],
        renewal_opened_at=r["renewal_opened_at"],
        renewed_by_id=r["renewed_by"],
        allowed_actions=allowed_actions(r["status"]),
        version=r["version"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


async def get_contract(*, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """One contract with its lines, tariffs and documents."""
    scope.require(actor, "contracts.read")
    await _row(actor, contract_id)
    return await _read(contract_id)


async def list_contracts(
    *,
    actor: Actor,
    page: PageParams,
    account_id: uuid.UUID | None = None,
    status: str | None = None,
    ending_before: datetime.date | None = None,
) -> ContractPage:
    """Contracts the actor sees, by end date (soonest first), then number."""
    scope.require(actor, "contracts.read")
    conditions = _visible(actor)
    if account_id is not None:
        conditions.append(ContractRow.account == account_id)
    if status is not None:
        conditions.append(ContractRow.status == status)
    if ending_before is not None:
        conditions.append(ContractRow.end_on <= ending_before)
    query = ContractRow.select(*_COLUMNS).order_by(ContractRow.end_on).order_by(ContractRow.number)
    count = ContractRow.count()
    for c in conditions:
        query, count = query.where(c), count.where(c)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await count
    return ContractPage(items=[_summary(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


# ---------------------------------------------------------------- writing


async def _account(actor: Actor, account_id: uuid.UUID) -> dict[str, Any]:
    query = AccountRow.select(AccountRow.id, AccountRow.name, AccountRow.owner, AccountRow.tier).where(
        AccountRow.id == account_id, AccountRow.deleted_at.is_null()
    )
    if (limit := scope.owner_filter(actor, AccountRow.owner)) is not None:
        query = query.where(limit)
    row = await query.first()
    if row is None:
        msg = f"account {account_id} not found"
        raise NotFound(msg, field="accountId")
    return row


def _check_dates(start: datetime.date | None, end: datetime.date | None) -> None:
    if start and end and end < start:
        msg = f"the contract ends ({end}) before it starts ({start})"
        raise InvalidInput(msg, field="endOn")


async def _insert_contract(
    *, actor: Actor | None, account_id: uuid.UUID, values: dict[str, Any], now: datetime.datetime
) -> tuple[uuid.UUID, str]:
    year = now.year
    seq, number = await next_number(year)
    contract_id = values.pop("id", None) or new_id()
    await ContractRow.insert(
        ContractRow(
            id=contract_id,
            number=number,
            year=year,
            seq=seq,
            account=account_id,
            created_by=actor.id if actor is not None and actor.service_scopes is None else None,
            created_at=now,
            updated_at=now,
            **values,
        )
    )
    return contract_id, number


async def _products(ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Product.select(Product.id, Product.code, Product.name).where(Product.id.is_in(list(ids)))
    return {as_uuid(r["id"]): r for r in rows}


async def _write_tariffs(contract_id: uuid.UUID, account_id: uuid.UUID, tariffs: Sequence[TariffIn]) -> None:
    products = await _products({t.product_id for t in tariffs})
    seen: set[uuid.UUID] = set()
    for i, t in enumerate(tariffs):
        field = f"tariffs[{i}]"
        if t.product_id not in products:
            msg = f"tariff {i + 1}: no product {t.product_id} in the catalogue"
            raise InvalidInput(msg, field=f"{field}.productId")
        if t.price_cents is None and t.discount_bp is None:
            msg = f"tariff {i + 1}: give the agreed price (priceCents) or discount (discountBp)"
            raise InvalidInput(msg, field=f"{field}.priceCents")
        if t.valid_from and t.valid_to and t.valid_to < t.valid_from:
            msg = f"tariff {i + 1}: valid to {t.valid_to} is before valid from {t.valid_from}"
            raise InvalidInput(msg, field=f"{field}.validTo")
        if t.product_id in seen:
            msg = f"tariff {i + 1}: {products[t.product_id]['code']} has a tariff already in this list"
            raise InvalidInput(msg, field=f"{field}.productId")
        seen.add(t.product_id)
    await AgreedTariff.delete().where(AgreedTariff.contract == contract_id)
    if tariffs:
        await AgreedTariff.insert(
            *(
                AgreedTariff(
                    contract=contract_id,
                    account=account_id,
                    product=t.product_id,
                    product_code=products[t.product_id]["code"],
                    product_name=products[t.product_id]["name"],
                    price_cents=t.price_cents,
                    discount_bp=t.discount_bp,
                    valid_from=t.valid_from,
                    valid_to=t.valid_to,
                )
                for t in tariffs
            )
        )


async def create_contract(*, actor: Actor, data: ContractCreate, now: datetime.datetime | None = None) -> Contract:
    """A draft contract for an account the actor sees; numbered C-YYYY-NNNNN in the year it is made."""
    scope.require(actor, "contracts.write")
    _check_dates(data.start_on, data.end_on)
    now = now or utcnow()
    async with write_transaction():
        await _account(actor, data.account_id)
        values = {
            "title": data.title,
            "start_on": data.start_on,
            "end_on": data.end_on,
            "auto_renew": data.auto_renew,
            "notice_days": data.notice_days,
        }
        contract_id, number = await _insert_contract(actor=actor, account_id=data.account_id, values=values, now=now)
        await _write_tariffs(contract_id, data.account_id, data.tariffs)
        await audit.record(
            actor=actor,
            entity="contract",
            entity_id=contract_id,
            account_id=data.account_id,
            action="create",
            changes={"number": [None, number]},
        )
        return await _read(contract_id)


def _quote_tariff(line: Mapping[str, Any]) -> TariffIn | None:
    if line["product"] is None:
        return None
    price = line["unit_price_cents"]
    discount = line["discount_bp"] or None
    return TariffIn(product_id=as_uuid(line["product"]), price_cents=price, discount_bp=discount)


async def draft_from_quote(*, actor: Actor, quote_id: uuid.UUID, now: datetime.datetime | None = None) -> uuid.UUID:
    """The draft contract of an accepted quote (inside the caller's transaction): lines copied exactly.

    Once per quote: a quote that already has a contract returns that contract's id.
    """
    existing = await ContractQuote.select(ContractQuote.contract).where(ContractQuote.quote == quote_id).first()
    if existing is not None:
        return as_uuid(existing["contract"])
    quote = required(await QuoteRow.select().where(QuoteRow.id == quote_id).first())
    lines = await QuoteLineRow.select().where(QuoteLineRow.quote == quote_id).order_by(QuoteLineRow.position)
    now = now or utcnow()
    values = {"title": quote["title"], "currency": quote["currency"], "total_cents": quote["total_cents"]}
    account_id = as_uuid(quote["account"])
    contract_id, number = await _insert_contract(actor=actor, account_id=account_id, values=values, now=now)
    await ContractQuote.insert(ContractQuote(contract=contract_id, quote=quote_id))
    if lines:
        await LineRow.insert(
            *(
                LineRow(
                    contract=contract_id,
                    position=x["position"],
                    product=x["product"],
                    product_code=x["product_code"],
                    product_name=x["product_name"],
                    unit=x["unit"],
                    quantity=x["quantity"],
                    list_price_cents=x["list_price_cents"],
                    unit_price_cents=x["unit_price_cents"],
                    discount_bp=x["discount_bp"],
                    total_cents=x["total_cents"],
                )
                for x in lines
            )
        )
    tariffs: dict[uuid.UUID, TariffIn] = {}
    for x in lines:
        t = _quote_tariff(x)
        if t is not None:
            tariffs.setdefault(t.product_id, t)  # the first line of a product sets its tariff
    await _write_tariffs(contract_id, account_id, list(tariffs.values()))
    await audit.record(
        actor=actor,
        entity="contract",
        entity_id=contract_id,
        account_id=account_id,
        action="create",
        changes={"number": [None, number], "quote": [None, quote["number"]]},
    )
    return contract_id


async def update_contract(*, actor: Actor, contract_id: uuid.UUID, data: ContractPatch) -> Contract:
    """Change a draft (dates, renewal terms, signatories); a signed contract changes by amendment."""
    scope.require(actor, "contracts.write")
    changes = changed_fields(data)
    async with write_transaction():
        row = await _row(actor, contract_id)
        if row["status"] != "draft":
            msg = f"{row['number']} is {row['status']}; only a draft can be edited ({_HINTS[row['status']]})"
            raise Conflict(msg, extra={"contractStatus": row["status"]})
        start = changes.get("start_on", _opt_date(row["start_on"]))
        end = changes.get("end_on", _opt_date(row["end_on"]))
        _check_dates(start, end)
        values: dict[Any, Any] = {getattr(ContractRow, k): v for k, v in changes.items()}
        values |= {ContractRow.updated_at: utcnow(), ContractRow.version: ContractRow.version + 1}
        await ContractRow.update(values).where(ContractRow.id == contract_id)
        await audit.record(
            actor=actor,
            entity="contract",
            entity_id=contract_id,
            account_id=row["account"],
            action="update",
            before={k: row[k] for k in changes},
            after=changes,
        )
        return await _read(contract_id)


async def put_tariffs(*, actor: Actor, contract_id: uuid.UUID, data: TariffsPut) -> Contract:
    """Replace the agreed tariffs; on a signed or running contract this is an amendment (webhook contract.amended)."""
    scope.require(actor, "contracts.write")
    async with write_transaction():
        row = await _row(actor, contract_id)
        if row["status"] not in {"draft", *LIVE}:
            msg = f"{row['number']} is {row['status']}: {_HINTS[row['status']]}; its tariffs are final"
            raise Conflict(msg, extra={"contractStatus": row["status"]})
        if row["status"] in LIVE:
            scope.require(actor, "contracts.sign")  # amending what was signed is for leaders
        before = [_tariff_out(t) for t in await AgreedTariff.select().where(AgreedTariff.contract == contract_id)]
        await _write_tariffs(contract_id, as_uuid(row["account"]), data.tariffs)
        await ContractRow.update(
            {ContractRow.updated_at: utcnow(), ContractRow.version: ContractRow.version + 1}
        ).where(ContractRow.id == contract_id)
        contract = await _read(contract_id)
        await audit.record(
            actor=actor,
            entity="contract",
            entity_id=contract_id,
            account_id=row["account"],
            action="update",
            changes={"tariffs": [[t.product_code for t in before], [t.product_code for t in contract.tariffs]]},
        )
        if row["status"] in LIVE:
            await webhooks.emit("contract.amended", _event(contract))
        return contract


def _event(contract: Contract) -> dict[str, Any]:
    return {
        "contractId": str(contract.id),
        "number": contract.number,
        "accountId": str(contract.account_id),
        "status": contract.status,
        "startOn": contract.start_on.isoformat() if contract.start_on else None,
        "endOn": contract.end_on.isoformat() if contract.end_on else None,
        "totalCents": contract.total_cents,
        "tariffs": [
            {"productCode": t.product_code, "priceCents": t.price_cents, "discountBp": t.discount_bp}
            for t in contract.tariffs
        ],
    }


async def _successor(actor: Actor | None, row: Mapping[str, Any], *, status: str, now: datetime.datetime) -> uuid.UUID:
    """A contract for the next term with the same lines and tariffs."""
    start, end = _opt_date(row["start_on"]), _opt_date(row["end_on"])
    new_start = end + datetime.timedelta(days=1) if end else None
    new_end = new_start + (end - start) if new_start and start and end else None
    values = {
        "title": row["title"],
        "start_on": new_start,
        "end_on": new_end,
        "auto_renew": row["auto_renew"],
        "notice_days": row["notice_days"],
        "currency": row["currency"],
        "total_cents": row["total_cents"],
        "status": status,
        "signed_on": now.date() if status != "draft" else None,
        "signatories": row["signatories"] if status != "draft" else [],
    }
    successor, _ = await _insert_contract(actor=actor, account_id=as_uuid(row["account"]), values=values, now=now)
    lines = await LineRow.select().where(LineRow.contract == row["id"])
    if lines:
        await LineRow.insert(
            *(LineRow(**{k: v for k, v in x.items() if k != "id"} | {"contract": successor}) for x in lines)
        )
    tariffs = await AgreedTariff.select().where(AgreedTariff.contract == row["id"])
    if tariffs:
        await AgreedTariff.insert(
            *(
                AgreedTariff(
                    **{k: v for k, v in t.items() if k not in {"id", "valid_from", "valid_to", "created_at"}}
                    | {"contract": successor}
                )
                for t in tariffs
            )
        )
    return successor


async def transition(
    *, actor: Actor, contract_id: uuid.UUID, data: ContractTransition, now: datetime.datetime | None = None
) -> Contract:
    """Move a contract on; an illegal move answers 409 naming the moves allowed now."""
    scope.require(actor, "contracts.write")
    now = now or utcnow()
    async with write_transaction():
        row = await _row(actor, contract_id)
        status = row["status"]
        sources, target = TRANSITIONS[data.action]
        if status not in sources:
            allowed = allowed_actions(status)
            msg = (
                f"cannot {data.action} {row['number']}: it is {status} ({_HINTS[status]}); "
                f"allowed now: {', '.join(allowed) or 'none'}"
            )
            raise Conflict(msg, extra={"contractStatus": status, "allowed": allowed})
        values: dict[Any, Any] = {
            ContractRow.status: target,
            ContractRow.updated_at: now,
            ContractRow.version: ContractRow.version + 1,
        }
        if data.action in {"sign", "terminate", "renew"}:
            scope.require(actor, "contracts.sign")
        if data.action == "sign":
            if row["start_on"] is None or row["end_on"] is None:
                msg = f"{row['number']} needs a start and an end date before it is signed"
                raise InvalidInput(msg, field="startOn" if row["start_on"] is None else "endOn")
            signatories = data.signatories if data.signatories is not None else row["signatories"]
            if isinstance(signatories, str):
                signatories = json.loads(signatories)
            if not signatories:
                msg = "name who signed (signatories)"
                raise InvalidInput(msg, field="signatories")
            values[ContractRow.signed_on] = data.signed_on or now.date()
            values[ContractRow.signatories] = list(signatories)
        if data.action == "renew":
            values[ContractRow.renewed_by] = await _successor(actor, row, status="draft", now=now)
        await ContractRow.update(values).where(ContractRow.id == contract_id)
        await audit.record(
            actor=actor,
            entity="contract",
            entity_id=contract_id,
            account_id=row["account"],
            action=data.action,
            changes={"status": [status, target], **({"comment": [None, data.comment]} if data.comment else {})},
        )
        contract = await _read(contract_id)
        if data.action == "sign":
            await webhooks.emit("contract.signed", _event(contract), now=now)
        return contract


# ---------------------------------------------------------------- for other domains


async def agreed_terms(
    account_id: uuid.UUID, product_ids: set[uuid.UUID], on: datetime.date
) -> dict[uuid.UUID, tuple[int | None, int | None]]:
    """(price cents, discount bp) agreed with the account per product on a day: the newest live contract wins."""
    if not product_ids:
        return {}
    rows = (
        await AgreedTariff.select(
            AgreedTariff.product,
            AgreedTariff.price_cents,
            AgreedTariff.discount_bp,
            AgreedTariff.valid_from,
            AgreedTariff.valid_to,
            AgreedTariff.contract.start_on.as_alias("start_on"),
            AgreedTariff.contract.end_on.as_alias("end_on"),
        )
        .where(
            AgreedTariff.account == account_id,
            AgreedTariff.product.is_in(list(product_ids)),
            AgreedTariff.contract.status.is_in(list(LIVE)),
        )
        .order_by(AgreedTariff.contract.start_on, ascending=False)
    )
    terms: dict[uuid.UUID, tuple[int | None, int | None]] = {}
    for r in rows:
        start = _opt_date(r["valid_from"]) or _opt_date(r["start_on"])
        end = _opt_date(r["valid_to"]) or _opt_date(r["end_on"])
        if (start is None or start <= on) and (end is None or on <= end):
            terms.setdefault(as_uuid(r["product"]), (r["price_cents"], r["discount_bp"]))
    return terms


async def account_commercial(
    *, actor: Actor, account_id: uuid.UUID, today: datetime.date | None = None
) -> AccountCommercial:
    """For the customer 360: live contracts, the next renewal date, tariffs in force, money owed."""
    scope.require(actor, "contracts.read")
    await _account(actor, account_id)
    from fieldcrm.contracts import receivables  # noqa: PLC0415 - receivables imports this module

    today = today or receivables.business_today()
    rows = (
        await ContractRow.select(*_COLUMNS)
        .where(ContractRow.account == account_id, ContractRow.status.is_in(["draft", *LIVE]))
        .order_by(ContractRow.end_on)
    )
    live = [r for r in rows if r["status"] in LIVE]
    ends = [_opt_date(r["end_on"]) for r in live if r["end_on"] is not None]
    tariffs = []
    if live:
        found = await AgreedTariff.select().where(AgreedTariff.contract.is_in([r["id"] for r in live]))
        tariffs = [_tariff_out(t) for t in found]
    outstanding, overdue = await receivables.owed(account_id, today)
    return AccountCommercial(
        account_id=account_id,
        contracts=[_summary(r) for r in rows],
        next_renewal_on=min((e for e in ends if e is not None), default=None),
        tariffs=tariffs,
        outstanding_cents=outstanding,
        overdue_cents=overdue,
    )


async def contract_row(actor: Actor, contract_id: uuid.UUID) -> dict[str, Any]:
    """The contract's row if the actor sees it (404 otherwise), for the domain's other modules."""
    return await _row(actor, contract_id)


async def read_contract(contract_id: uuid.UUID) -> Contract:
    """The contract's API shape (the caller has checked it may be seen)."""
    return await _read(contract_id)


async def renew_automatically(row: Mapping[str, Any], *, now: datetime.datetime) -> uuid.UUID:
    """The signed successor of an auto-renewing contract past its end (inside the caller's transaction)."""
    return await _successor(None, row, status="signed", now=now)
