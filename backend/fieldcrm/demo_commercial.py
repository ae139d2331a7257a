"""The demo company's commercial side: contracts with agreed tariffs, a year of bills and payments, integrations.

Written inside the demo's transaction once the sync triggers are back on. Most A and B accounts
have a signed contract (numbered by the contracts' own yearly counter, with the audit entries that
drafting, signing and activating write), priced from the catalogue with agreed discounts. The
renewal calendar and the collection run are the contracts domain's own jobs, run once as the worker
would: contracts near their end open their renewal (and a renewal task), old unpaid bills get a
collection task. Bills and payments go in through the billing upsert the billing system's batches
use, so the arrears rows are what the app keeps.

Two service accounts (the billing system, the data warehouse) get a token each, printed once in the
summary; one webhook points at a receiver on this machine that the demo does not run, so its
deliveries fail and, after their retries, are dead-lettered, which harms nothing.
"""

import dataclasses
import datetime
import random
import time
import uuid
from collections import defaultdict
from typing import Any

import msgspec

from fieldcrm.accounts.services import add_months
from fieldcrm.accounts.tables import Account, Contact
from fieldcrm.audit import services as audit
from fieldcrm.audit.tables import AuditEntry
from fieldcrm.contracts import billing, receivables, renewals
from fieldcrm.contracts import services as contracts
from fieldcrm.contracts.schemas import ContractTransition
from fieldcrm.contracts.tables import AgreedTariff, Bill, Contract, ContractCounter
from fieldcrm.demo_sales import _actors
from fieldcrm.integrations import config as integration_config
from fieldcrm.integrations import service_accounts, webhooks
from fieldcrm.integrations.schemas import ServiceAccountCreate, WebhookCreate
from fieldcrm.lib.db import insert_rows
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.sales.tables import Product
from fieldcrm.tasks.services import business_today

_LOCAL = datetime.timezone(datetime.timedelta(hours=8))
_COVERED = 0.85  # share of live A and B accounts with a contract
_TITLES = ("年度通信服务协议", "专线及云服务框架合同", "集团信息化服务合同", "综合通信业务协议")
_METHODS = ("bank_transfer", "bank_transfer", "bank_transfer", "wechat_pay", "alipay", "cheque")
# How an account pays: share of accounts; the shares add up to 1.
_PAYERS = (("prompt", 0.74), ("late", 0.13), ("slipping", 0.08), ("chronic", 0.05))
WEBHOOK_URL = "http://127.0.0.1:9/fieldcrm-demo-webhook"  # the discard port: nothing listens there
SERVICE_ACCOUNTS = (
    ("计费系统 billing", ("billing:write", "billing:read", "accounts:read"), "每日账单与缴费批量推送"),
    ("数据仓库 data warehouse", ("accounts:read", "contracts:read", "billing:read"), "夜间抽取客户、合同与欠费"),
)


def _moment(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), _LOCAL).astimezone(datetime.UTC)


@dataclasses.dataclass
class _Made:
    contracts: list[Contract] = dataclasses.field(default_factory=list)
    tariffs: list[AgreedTariff] = dataclasses.field(default_factory=list)
    entries: list[AuditEntry] = dataclasses.field(default_factory=list)
    bills: list[billing.BillRow] = dataclasses.field(default_factory=list)
    payments: list[billing.PaymentRow] = dataclasses.field(default_factory=list)


class _Commercial:
    def __init__(self, *, seed: int, now: datetime.datetime) -> None:
        self.rng = random.Random(seed + 23)
        self.now = now
        self.today = business_today(now)
        self.made = _Made()

    def end_date(self) -> datetime.date:
        """When a contract ends: one in eight within 60 days, a few more within the A accounts' 90-day window."""
        roll = self.rng.random()
        if roll < 0.12:
            days = self.rng.randint(5, 60)
        elif roll < 0.17:
            days = self.rng.randint(61, 90)
        else:
            days = self.rng.randint(91, 900)
        return self.today + datetime.timedelta(days=days)

    def contract(
        self,
        account: dict[str, Any],
        rep: Actor,
        signer: Actor,
        signatory: str,
        products: list[dict[str, Any]],
    ) -> tuple[int, Contract]:
        """A contract (without its number yet) and its tariffs; returns (the year it was drafted, the row)."""
        rng = self.rng
        end = self.end_date()
        months = rng.choice((12, 24, 36))
        start = add_months(end, -months) + datetime.timedelta(days=1)
        if start > self.today - datetime.timedelta(days=20):
            start = self.today - datetime.timedelta(days=rng.randint(20, 200))
        drafted = _moment(start - datetime.timedelta(days=rng.randint(14, 40)), 9)
        signed = start - datetime.timedelta(days=rng.randint(1, 10))
        draft = rng.random() < 0.03  # a new agreement still being negotiated
        contract_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        row = Contract(
            id=contract_id,
            number="",
            year=drafted.year,
            seq=0,
            account=account["id"],
            title=rng.choice(_TITLES),
            status="draft" if draft else "active",
            start_on=start,
            end_on=end,
            auto_renew=rng.random() < 0.25,
            notice_days=rng.choice((30, 30, 60, 90)),
            signed_on=None if draft else signed,
            signatories=[] if draft else [signatory, signer.display_name],
            created_by=rep.id,
            version=1 if draft else 3,
            created_at=drafted,
            updated_at=drafted if draft else _moment(start, 0),
        )
        steps: list[tuple[str, datetime.datetime, Actor | None, dict[str, Any]]] = [("create", drafted, rep, {})]
        if not draft:
            steps.append(("sign", _moment(signed, 15), signer, {"status": ["draft", "signed"]}))
            steps.append(("activate", _moment(start, 0), None, {"status": ["signed", "active"]}))
        for action, at, actor, changes in steps:
            entry = audit.entry_row(
                actor=actor,
                entity="contract",
                entity_id=contract_id,
                account_id=account["id"],
                action=action,
                changes=changes,
            )
            entry.at = at
            self.made.entries.append(entry)
        for product in rng.sample(products, rng.randint(1, 3)):
            discount = rng.choice((300, 500, 800, 1000, 1500))
            priced = rng.random() < 0.4
            self.made.tariffs.append(
                AgreedTariff(
                    contract=contract_id,
                    account=account["id"],
                    product=product["id"],
                    product_code=product["code"],
                    product_name=product["name"],
                    price_cents=product["list_price_cents"] * (10_000 - discount) // 10_000 if priced else None,
                    discount_bp=None if priced else discount,
                    valid_from=start,
                    valid_to=end,
                    created_at=drafted,
                )
            )
        return drafted.year, row

    def bills(self, account: dict[str, Any], revenue: dict[datetime.date, int]) -> None:
        """Twelve monthly bills, issued on the 1st of the next month and due on the 15th, and their payments."""
        rng = self.rng
        payer = rng.choices([p for p, _ in _PAYERS], weights=[w for _, w in _PAYERS])[0]
        this_month = self.today.replace(day=1)
        unpaid_from = {"slipping": rng.randint(2, 3), "chronic": rng.randint(4, 7)}.get(payer, 0)
        for back in range(12, 0, -1):
            period = add_months(this_month, -back)
            amount = revenue.get(period) or account["revenue_12m_cents"] // 12
            if amount <= 0:
                continue
            issued = add_months(period, 1)
            due = issued + datetime.timedelta(days=14)
            number = f"BL{period:%Y%m}-{account['code']}"
            if back <= unpaid_from:
                paid_on = None
            elif payer == "prompt" or (payer != "late" and rng.random() < 0.9):
                paid_on = due - datetime.timedelta(days=rng.randint(0, 12))
            else:
                paid_on = due + datetime.timedelta(days=rng.randint(5, 50))
            if paid_on is not None and paid_on > self.today:
                paid_on = None  # not paid yet
            paid = 0
            if paid_on is not None:
                paid = amount
                self.made.payments.append(
                    billing.PaymentRow(
                        f"PY{period:%Y%m}-{account['code']}",
                        account["id"],
                        number,
                        amount,
                        paid_on,
                        rng.choice(_METHODS),
                    )
                )
            elif payer == "chronic" and back == unpaid_from:  # paid part of the oldest unpaid bill
                paid = amount // 4
                part_on = min(due + datetime.timedelta(days=20), self.today)
                self.made.payments.append(
                    billing.PaymentRow(
                        f"PY{period:%Y%m}-{account['code']}-1", account["id"], number, paid, part_on, "bank_transfer"
                    )
                )
            self.made.bills.append(
                billing.BillRow(number, account["id"], f"{period:%Y-%m}", amount, paid, due, issued, void=False)
            )


async def _number(rows: list[tuple[int, Contract]]) -> list[Contract]:
    """Number the contracts in the order they were drafted, from each year's counter (as next_number does)."""
    rows.sort(key=lambda pair: (pair[1].created_at, str(pair[1].id)))
    by_year: dict[int, list[Contract]] = defaultdict(list)
    for year, row in rows:
        by_year[year].append(row)
    for year, made in sorted(by_year.items()):
        await ContractCounter.insert(ContractCounter(year=year, last=0)).on_conflict(
            target=ContractCounter.year, action="DO NOTHING"
        )
        updated = (
            await ContractCounter.update({ContractCounter.last: ContractCounter.last + len(made)})
            .where(ContractCounter.year == year)
            .returning(ContractCounter.last)
        )
        first = int(updated[0]["last"]) - len(made) + 1
        for seq, row in enumerate(made, start=first):
            row.seq = seq
            row.number = f"C-{year}-{seq:05d}"
    return [row for _, row in rows]


async def _integrations(hq: Actor) -> list[str]:
    """The two service accounts (their tokens, shown once) and the webhook; what to print."""
    lines = []
    for name, scopes, label in SERVICE_ACCOUNTS:
        made = await service_accounts.create_service_account(
            actor=hq,
            data=ServiceAccountCreate(name=name, scopes=list(scopes), token_label=label),  # type: ignore[arg-type]
        )
        lines.append(f"service account {name!r} ({', '.join(scopes)}) token {made.token.token}")
    # The receiver is on this machine: allow plain http to 127.0.0.1 for the registration only.
    settings = integration_config.integration_settings()
    integration_config.use_integration_settings(msgspec.structs.replace(settings, webhook_allow_loopback_http=True))
    try:
        hook = await webhooks.create_webhook(
            actor=hq,
            data=WebhookCreate(
                url=WEBHOOK_URL,
                secret="fieldcrm-demo-webhook-secret",  # noqa: S106 - a demo receiver that does not exist
                events=["contract.signed", "case.opened", "case.closed"],
                description="演示：本机接收端（未运行，投递失败无影响）",
            ),
        )
    finally:
        integration_config.use_integration_settings(None)
    lines.append(f"webhook {hook.url} ({', '.join(hook.events)})")
    return lines


async def build_commercial(*, seed: int, now: datetime.datetime) -> str:
    """Contracts, tariffs, bills, payments, service accounts and a webhook; returns a summary."""
    started = time.monotonic()
    work = _Commercial(seed=seed, now=now)
    rng = work.rng
    reps = await _actors(User.role == "rep", User.is_active.eq(True))
    leaders = await _actors(User.role.is_in(["manager", "director"]), User.is_active.eq(True))
    managers = {a.org_unit_id: a for a in leaders.values() if a.role == "manager"}
    hq = next(iter((await _actors(User.role == "hq_admin", User.is_active.eq(True))).values()), None)
    products = sorted(
        await Product.select(Product.id, Product.code, Product.name, Product.list_price_cents).where(
            Product.active.eq(True)
        ),
        key=lambda r: r["code"],
    )
    accounts = sorted(
        await Account.select(Account.id, Account.code, Account.owner, Account.tier, Account.revenue_12m_cents).where(
            Account.deleted_at.is_null(),
            Account.status.is_in(["active", "at_risk"]),
            Account.tier.is_in(["A", "B"]),
        ),
        key=lambda r: str(r["id"]),
    )
    chosen = [a for a in accounts if a["owner"] in reps and rng.random() < _COVERED]
    ids = [a["id"] for a in chosen]
    signatories: dict[Any, str] = {}
    revenue: dict[Any, dict[datetime.date, int]] = defaultdict(dict)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for c in await Contact.select(Contact.account, Contact.name, Contact.decision_role).where(
            Contact.account.is_in(part), Contact.decision_role == "decision_maker"
        ):
            signatories.setdefault(c["account"], c["name"])
        rows = await Account.raw(
            "SELECT account, month, amount_cents FROM revenue WHERE account IN ("  # noqa: S608 - marks only
            + ", ".join("{}" for _ in part)
            + ")",
            *part,
        )
        for r in rows:
            month = r["month"] if isinstance(r["month"], datetime.date) else datetime.date.fromisoformat(r["month"])
            revenue[str(r["account"])][month] = int(r["amount_cents"])
    numbered: list[tuple[int, Contract]] = []
    for account in chosen:
        rep = reps[account["owner"]]
        signer = managers.get(rep.org_unit_id) or hq
        if signer is None or not products:
            break
        numbered.append(work.contract(account, rep, signer, signatories.get(account["id"], "客户代表"), products))
        work.bills(account, revenue.get(str(account["id"]), {}))
    rows = await _number(numbered)
    await insert_rows(Contract, rows)
    await insert_rows(AgreedTariff, work.made.tariffs)
    await audit.record_many(work.made.entries)
    await billing.upsert_bills(work.made.bills, now=now)
    await billing.upsert_payments(work.made.payments, now=now)
    moved = await renewals.run_calendar(now=now)  # the worker's job: renewals open near the end
    expiring = await Contract.select(Contract.id, Contract.account.owner.as_alias("owner")).where(
        Contract.status == "expiring"
    )
    renewed = 0
    for row in sorted(expiring, key=lambda r: str(r["id"]))[:3]:  # a few already renewed: their successor drafts
        owner = reps.get(row["owner"])
        signer = managers.get(owner.org_unit_id) if owner else None
        if signer is None:
            continue
        await contracts.transition(
            actor=signer,
            contract_id=row["id"],
            data=ContractTransition(action="renew", comment="客户同意续约"),
            now=now,
        )
        renewed += 1
    collections = await receivables.open_collection_tasks(now=now)
    arrears = await receivables_summary(now)
    integration = await _integrations(hq) if hq is not None else []
    return (
        f"{len(rows)} contracts ({moved['expiring']} in renewal, {renewed} renewed), "
        f"{len(work.made.tariffs)} agreed tariffs, {len(work.made.bills)} bills, {len(work.made.payments)} payments "
        f"(arrears {arrears}; {collections} collection tasks) ({time.monotonic() - started:.1f}s); "
        + "; ".join(integration)
    )


async def receivables_summary(now: datetime.datetime) -> str:
    """Unpaid bills by aging bucket, e.g. ``1-30 12, 90+ 4``."""
    today = business_today(now)
    rows = await Bill.select(Bill.due_on).where(Bill.status.is_in(list(receivables.OPEN)))
    buckets: dict[str, int] = defaultdict(int)
    for r in rows:
        due = r["due_on"] if isinstance(r["due_on"], datetime.date) else datetime.date.fromisoformat(r["due_on"])
        buckets[receivables.bucket_of((today - due).days)] += 1
    order = ("current", "1-30", "31-60", "61-90", "90+")
    return ", ".join(f"{b} {buckets[b]}" for b in order if buckets[b]) or "none"
