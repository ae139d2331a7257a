"""Bills, payments, arrears aging, collection contacts, and the jobs that turn arrears into tasks.

Days past due are counted in the business time zone (``FIELDCRM_TIMEZONE``): a bill due on the 20th is
current all through the 20th there, 1 day overdue from midnight, whatever the server's clock zone.
Buckets: current (not yet due), 1-30, 31-60, 61-90 and 90+ days past due.
"""

import datetime
import uuid
import zoneinfo
from collections.abc import Mapping
from typing import Any

from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.audit import services as audit
from fieldcrm.contracts import messages
from fieldcrm.contracts.config import contract_settings
from fieldcrm.contracts.schemas import (
    Aging,
    ArrearsPage,
    ArrearsRow,
    BillOut,
    BillPage,
    Collection,
    CollectionCreate,
    CollectionPage,
    PaymentOut,
    PaymentPage,
)
from fieldcrm.contracts.tables import Bill, CollectionContact, Payment
from fieldcrm.lib.db import as_date, as_uuid, required, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.settings import get_settings
from fieldcrm.tasks import services as tasks
from fieldcrm.tasks.schemas import TaskCreate

OPEN = ("open", "partial")


def business_today(now: datetime.datetime | None = None) -> datetime.date:
    """Today in the business time zone."""
    return (now or utcnow()).astimezone(zoneinfo.ZoneInfo(get_settings().timezone)).date()


def bucket_of(days_overdue: int) -> str:
    """The aging bucket of a bill so many days past due."""
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


def _visible(actor: Actor, owner: Any) -> list[Any]:
    limit = scope.owner_filter(actor, owner)
    return [limit] if limit is not None else []


async def _account(actor: Actor, account_id: uuid.UUID) -> dict[str, Any]:
    query = AccountRow.select(AccountRow.id, AccountRow.name, AccountRow.owner).where(
        AccountRow.id == account_id, AccountRow.deleted_at.is_null(), *_visible(actor, AccountRow.owner)
    )
    row = await query.first()
    if row is None:
        msg = f"account {account_id} not found"
        raise NotFound(msg, field="accountId")
    return row


# ---------------------------------------------------------------- bills and payments


def _bill_out(r: Mapping[str, Any], today: datetime.date) -> BillOut:
    due = as_date(r["due_on"])
    outstanding = max(0, r["amount_due_cents"] - r["paid_cents"]) if r["status"] in OPEN else 0
    return BillOut(
        id=r["id"],
        bill_number=r["bill_number"],
        account_id=r["account"],
        account_name=r["account_name"],
        period=r["period"],
        amount_due_cents=r["amount_due_cents"],
        paid_cents=r["paid_cents"],
        outstanding_cents=outstanding,
        issued_on=as_date(r["issued_on"]) if r["issued_on"] is not None else None,
        due_on=due,
        days_overdue=max(0, (today - due).days) if outstanding else 0,
        status=r["status"],
    )


async def list_bills(
    *,
    actor: Actor,
    page: PageParams,
    account_id: uuid.UUID | None = None,
    status: str | None = None,
    unpaid: bool | None = None,
    today: datetime.date | None = None,
) -> BillPage:
    """Bills of the accounts the actor sees, the latest due first."""
    scope.require(actor, "billing.read")
    today = today or business_today()
    conditions = _visible(actor, Bill.account.owner)
    if account_id is not None:
        conditions.append(Bill.account == account_id)
    if status is not None:
        conditions.append(Bill.status == status)
    if unpaid:
        conditions.append(Bill.status.is_in(list(OPEN)))
    query = (
        Bill.select(*Bill.all_columns(), Bill.account.name.as_alias("account_name"))
        .order_by(Bill.due_on, ascending=False)
        .order_by(Bill.bill_number)
    )
    count = Bill.count()
    for c in conditions:
        query, count = query.where(c), count.where(c)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await count
    return BillPage(items=[_bill_out(r, today) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def list_payments(*, actor: Actor, page: PageParams, account_id: uuid.UUID | None = None) -> PaymentPage:
    """Payments of the accounts the actor sees, the latest first."""
    scope.require(actor, "billing.read")
    conditions = _visible(actor, Payment.account.owner)
    if account_id is not None:
        conditions.append(Payment.account == account_id)
    query = (
        Payment.select(*Payment.all_columns(), Payment.bill.bill_number.as_alias("bill_number"))
        .order_by(Payment.paid_on, ascending=False)
        .order_by(Payment.payment_ref)
    )
    count = Payment.count()
    for c in conditions:
        query, count = query.where(c), count.where(c)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await count
    items = [
        PaymentOut(
            id=r["id"],
            payment_ref=r["payment_ref"],
            account_id=r["account"],
            bill_number=r["bill_number"],
            amount_cents=r["amount_cents"],
            paid_on=as_date(r["paid_on"]),
            method=r["method"],
        )
        for r in rows
    ]
    return PaymentPage(items=items, total=total, next_cursor=page.next_cursor(total))


async def owed(account_id: uuid.UUID, today: datetime.date) -> tuple[int, int]:
    """(outstanding, overdue) cents of an account's open bills."""
    rows = await Bill.select(Bill.amount_due_cents, Bill.paid_cents, Bill.due_on).where(
        Bill.account == account_id, Bill.status.is_in(list(OPEN))
    )
    outstanding = overdue = 0
    for r in rows:
        left = max(0, r["amount_due_cents"] - r["paid_cents"])
        outstanding += left
        if as_date(r["due_on"]) < today:
            overdue += left
    return outstanding, overdue


# ---------------------------------------------------------------- arrears


def _aging_sql(today: datetime.date) -> tuple[str, list[Any]]:
    # Bucket edges as due dates, so the database compares dates and the zone arithmetic stays here.
    d = [today - datetime.timedelta(days=n) for n in (30, 60, 90)]
    left = "(b.amount_due_cents - b.paid_cents)"
    sql = (
        f"SUM(CASE WHEN b.due_on >= {{}} THEN {left} ELSE 0 END) AS current_cents, "
        f"SUM(CASE WHEN b.due_on < {{}} AND b.due_on >= {{}} THEN {left} ELSE 0 END) AS d1_30_cents, "
        f"SUM(CASE WHEN b.due_on < {{}} AND b.due_on >= {{}} THEN {left} ELSE 0 END) AS d31_60_cents, "
        f"SUM(CASE WHEN b.due_on < {{}} AND b.due_on >= {{}} THEN {left} ELSE 0 END) AS d61_90_cents, "
        f"SUM(CASE WHEN b.due_on < {{}} THEN {left} ELSE 0 END) AS d90_plus_cents, "
        f"SUM({left}) AS total_cents"
    )
    return sql, [today, today, d[0], d[0], d[1], d[1], d[2], d[2]]


def _aging(r: Mapping[str, Any]) -> Aging:
    return Aging(
        current_cents=int(r["current_cents"] or 0),
        d1_30_cents=int(r["d1_30_cents"] or 0),
        d31_60_cents=int(r["d31_60_cents"] or 0),
        d61_90_cents=int(r["d61_90_cents"] or 0),
        d90_plus_cents=int(r["d90_plus_cents"] or 0),
        total_cents=int(r["total_cents"] or 0),
    )


async def arrears(
    *,
    actor: Actor,
    page: PageParams,
    min_days: int = 1,
    owner_id: uuid.UUID | None = None,
    totals: bool = False,
    today: datetime.date | None = None,
) -> ArrearsPage:
    """Accounts in the actor's scope with bills unpaid ``min_days`` or more past due, the most overdue first.

    Accounts owing since the same day come in a fixed but arbitrary order (by id), so paging never sorts.

    The page comes from ``account_arrears`` (one row per account with unpaid bills, kept with the bills,
    in order of its oldest unpaid due date); only the page's accounts' bills are aged. ``totals`` adds the
    aging of the whole scope, which reads every unpaid bill in it.
    """
    scope.require(actor, "billing.read")
    today = today or business_today()
    owner_condition, owner_args = scope.owner_sql(actor, "a.owner")
    cutoff = today - datetime.timedelta(days=min_days)
    where = f"a.id = ar.account AND a.deleted_at IS NULL AND {owner_condition} AND ar.oldest_due_on <= {{}}"
    args: list[Any] = [*owner_args, cutoff]
    if owner_id is not None:
        where += " AND a.owner = {}"
        args.append(owner_id)
    # CROSS JOIN keeps SQLite walking account_arrears in due-date order (the page is then an index range, not
    # a sort of every account); PostgreSQL plans it like any join.
    base = f"FROM account_arrears ar CROSS JOIN accounts a WHERE {where}"
    rows = await Bill.raw(
        f"SELECT ar.account AS account_id, a.code, a.name, a.owner, ar.oldest_due_on AS oldest {base} "
        "ORDER BY ar.oldest_due_on, ar.account LIMIT {} OFFSET {}",  # the order of an index: no sort
        *args,
        page.limit,
        page.offset,
    )
    counted = await Bill.raw(f"SELECT COUNT(*) AS n {base}", *args)
    total = int(counted[0]["n"] or 0) if counted else 0
    aging, aging_args = _aging_sql(today)
    unpaid = "b.status IN ('open', 'partial') AND b.amount_due_cents > b.paid_cents"
    by_account: dict[str, Aging] = {}
    if rows:
        marks = ", ".join("{}" for _ in rows)
        aged = await Bill.raw(
            f"SELECT b.account, {aging} FROM bills b WHERE b.account IN ({marks}) AND {unpaid} GROUP BY b.account",  # noqa: S608
            *aging_args,
            *[as_uuid(r["account_id"]) for r in rows],
        )
        by_account = {str(as_uuid(r["account"])): _aging(r) for r in aged}
    scope_total = None
    if totals:
        summed = await Bill.raw(
            f"SELECT {aging} FROM bills b JOIN account_arrears ar ON ar.account = b.account "  # noqa: S608
            f"CROSS JOIN accounts a WHERE {where} AND {unpaid}",
            *aging_args,
            *args,
        )
        scope_total = _aging(summed[0]) if summed else Aging()
    items = []
    for r in rows:
        oldest = as_date(r["oldest"])
        account_id = as_uuid(r["account_id"])
        items.append(
            ArrearsRow(
                account_id=account_id,
                account_code=r["code"],
                account_name=r["name"],
                owner_id=as_uuid(r["owner"]),
                oldest_due_on=oldest,
                days_overdue=max(0, (today - oldest).days),
                aging=by_account.get(str(account_id), Aging()),
            )
        )
    return ArrearsPage(
        items=items,
        total=total,
        next_cursor=page.next_cursor(total),
        as_of=today,
        scope_total=scope_total,
    )


# ---------------------------------------------------------------- collection contacts


def _collection_out(r: Mapping[str, Any]) -> Collection:
    return Collection(
        id=r["id"],
        account_id=r["account"],
        account_name=r["account_name"],
        bill_id=r["bill"],
        kind=r["kind"],
        promised_on=as_date(r["promised_on"]) if r["promised_on"] is not None else None,
        promised_cents=r["promised_cents"],
        reason=r["reason"],
        note=r["note"],
        status=r["status"],
        recorded_by_name=r["recorded_by_name"],
        captured_at=r["captured_at"],
        created_at=r["created_at"],
    )


_COLLECTION_COLUMNS = (*CollectionContact.all_columns(), CollectionContact.account.name.as_alias("account_name"))


def _check_collection(data: CollectionCreate) -> None:
    if data.kind == "promise":
        if data.promised_on is None:
            msg = "a promise to pay needs the date the customer promised (promisedOn)"
            raise InvalidInput(msg, field="promisedOn")
        if data.promised_cents is None:
            msg = "a promise to pay needs the amount promised (promisedCents)"
            raise InvalidInput(msg, field="promisedCents")
    if data.kind == "dispute" and not data.reason.strip():
        msg = "a dispute needs the customer's reason"
        raise InvalidInput(msg, field="reason")


async def record_collection(*, actor: Actor, data: CollectionCreate) -> Collection:
    """Record a collection contact on an account the actor sees (REST and the sync mutation collection.record)."""
    scope.require(actor, "collections.write")
    _check_collection(data)
    contact_id = data.id or new_id()
    async with write_transaction():
        await _account(actor, data.account_id)
        existing = (
            await CollectionContact.select(*_COLLECTION_COLUMNS).where(CollectionContact.id == contact_id).first()
        )
        if existing is not None:
            if as_uuid(existing["account"]) == data.account_id and existing["kind"] == data.kind:
                return _collection_out(existing)  # the same offline record sent again
            msg = f"collection contact {contact_id} already exists"
            raise Conflict(msg)
        if data.bill_id is not None:
            bill = await Bill.select(Bill.account).where(Bill.id == data.bill_id).first()
            if bill is None or as_uuid(bill["account"]) != data.account_id:
                msg = f"bill {data.bill_id} is not one of this account's"
                raise InvalidInput(msg, field="billId")
        now = utcnow()
        await CollectionContact.insert(
            CollectionContact(
                id=contact_id,
                account=data.account_id,
                bill=data.bill_id,
                kind=data.kind,
                promised_on=data.promised_on,
                promised_cents=data.promised_cents,
                reason=data.reason,
                note=data.note,
                status="open" if data.kind == "promise" else "recorded",
                recorded_by=actor.id if actor.service_scopes is None else None,
                recorded_by_name=actor.display_name,
                captured_at=data.captured_at,
                created_at=now,
                updated_at=now,
            )
        )
        await audit.record(
            actor=actor,
            entity="collection",
            entity_id=contact_id,
            account_id=data.account_id,
            action="create",
            after={"kind": data.kind, "promised_on": data.promised_on, "promised_cents": data.promised_cents},
        )
        row = required(
            await CollectionContact.select(*_COLLECTION_COLUMNS).where(CollectionContact.id == contact_id).first()
        )
    return _collection_out(row)


async def list_collections(
    *, actor: Actor, page: PageParams, account_id: uuid.UUID | None = None, kind: str | None = None
) -> CollectionPage:
    """Collection contacts on the accounts the actor sees, newest first."""
    scope.require(actor, "billing.read")
    conditions = _visible(actor, CollectionContact.account.owner)
    if account_id is not None:
        conditions.append(CollectionContact.account == account_id)
    if kind is not None:
        conditions.append(CollectionContact.kind == kind)
    query = (
        CollectionContact.select(*_COLLECTION_COLUMNS)
        .order_by(CollectionContact.created_at, ascending=False)
        .order_by(CollectionContact.id)
    )
    count = CollectionContact.count()
    for c in conditions:
        query, count = query.where(c), count.where(c)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await count
    return CollectionPage(items=[_collection_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


# ---------------------------------------------------------------- the jobs


async def _locales(user_ids: set[Any]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.locale).where(User.id.is_in(list(user_ids)))
    return {str(r["id"]): r["locale"] for r in rows}


async def open_collection_tasks(*, now: datetime.datetime | None = None) -> int:
    """A collection task for the account's owner for every bill unpaid beyond the configured age, once per bill."""
    now = now or utcnow()
    today = business_today(now)
    age = contract_settings().collection_age_days
    cutoff = today - datetime.timedelta(days=age)
    rows = await Bill.select(
        Bill.id,
        Bill.bill_number,
        Bill.account,
        Bill.amount_due_cents,
        Bill.paid_cents,
        Bill.due_on,
        Bill.account.name.as_alias("account_name"),
        Bill.account.owner.as_alias("owner"),
    ).where(
        Bill.status.is_in(list(OPEN)),
        Bill.collection_task_at.is_null(),
        Bill.due_on <= cutoff,
        Bill.account.deleted_at.is_null(),
    )
    locales = await _locales({r["owner"] for r in rows})
    made = 0
    for r in rows:
        left = r["amount_due_cents"] - r["paid_cents"]
        if left <= 0:
            continue
        days = (today - as_date(r["due_on"])).days
        title = messages.text(
            "task.collection",
            locales.get(str(r["owner"]), "zh-CN"),
            {"account": r["account_name"], "bill": r["bill_number"], "amount": messages.yuan(left), "days": days},
        )
        async with write_transaction():
            await tasks.create_task(
                actor=None,
                data=TaskCreate(
                    title=title[:200],
                    due_date=today,
                    account_id=as_uuid(r["account"]),
                    assignee_id=as_uuid(r["owner"]),
                    kind="collection",
                    priority="high",
                ),
                source="contract",
                source_key=f"collection:{r['id']}",
            )
            await Bill.update({Bill.collection_task_at: now}).where(Bill.id == r["id"])
        made += 1
    return made


async def settle_promises(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Promises whose date has passed: kept when the account paid the amount since, else broken (a follow-up task)."""
    now = now or utcnow()
    today = business_today(now)
    rows = await CollectionContact.select(
        *_COLLECTION_COLUMNS, CollectionContact.account.owner.as_alias("owner")
    ).where(
        CollectionContact.kind == "promise",
        CollectionContact.status == "open",
        CollectionContact.promised_on < today,
    )
    locales = await _locales({r["owner"] for r in rows})
    kept = broken = 0
    for r in rows:
        made = r["created_at"]
        since = business_today(made) if isinstance(made, datetime.datetime) else as_date(made)
        paid = await Payment.select(Payment.amount_cents).where(
            Payment.account == r["account"], Payment.paid_on >= since, Payment.paid_on <= as_date(r["promised_on"])
        )
        async with write_transaction():
            if sum(p["amount_cents"] for p in paid) >= (r["promised_cents"] or 0):
                await CollectionContact.update(
                    {CollectionContact.status: "kept", CollectionContact.updated_at: now}
                ).where(CollectionContact.id == r["id"])
                kept += 1
                continue
            title = messages.text(
                "task.broken_promise",
                locales.get(str(r["owner"]), "zh-CN"),
                {
                    "account": r["account_name"],
                    "date": as_date(r["promised_on"]).isoformat(),
                    "amount": messages.yuan(r["promised_cents"] or 0),
                },
            )
            await tasks.create_task(
                actor=None,
                data=TaskCreate(
                    title=title[:200],
                    due_date=today,
                    account_id=as_uuid(r["account"]),
                    assignee_id=as_uuid(r["owner"]),
                    kind="collection",
                    priority="high",
                ),
                source="contract",
                source_key=f"promise:{r['id']}",
            )
            await CollectionContact.update(
                {
                    CollectionContact.status: "broken",
                    CollectionContact.followup_at: now,
                    CollectionContact.updated_at: now,
                }
            ).where(CollectionContact.id == r["id"])
            broken += 1
    return {"kept": kept, "broken": broken}
