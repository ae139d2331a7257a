"""The demo company's contracts, money and integrations: what HQ and a rep find (fieldcrm.demo_commercial)."""

import datetime
from collections import Counter

from fieldcrm.accounts.tables import Account
from fieldcrm.contracts import receivables
from fieldcrm.contracts.tables import AgreedTariff, Bill, Contract, Payment
from fieldcrm.demo import build_demo
from fieldcrm.demo_commercial import WEBHOOK_URL
from fieldcrm.demo_sales import _actors
from fieldcrm.integrations import service_accounts
from fieldcrm.integrations.tables import ServiceAccount, Webhook, WebhookDelivery
from fieldcrm.lib.db import as_date
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.tables import User
from fieldcrm.tasks.services import business_today
from fieldcrm.tasks.tables import Task


async def test_contracts_bills_arrears_and_integrations_of_the_demo() -> None:
    summary = await build_demo(accounts=200, seed=7)
    today = business_today()

    # Most live A and B accounts have a contract; contracts are numbered by the yearly counter, gap-free.
    key = await Account.select(Account.id).where(
        Account.tier.is_in(["A", "B"]), Account.status.is_in(["active", "at_risk"]), Account.deleted_at.is_null()
    )
    contracts = await Contract.select()
    covered = {c["account"] for c in contracts}
    assert len(covered & {a["id"] for a in key}) >= 0.7 * len(key)
    by_year: dict[int, list[int]] = {}
    for c in contracts:
        by_year.setdefault(c["year"], []).append(c["seq"])
        assert c["number"] == f"C-{c['year']}-{c['seq']:05d}"
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in by_year.values())

    statuses = Counter(c["status"] for c in contracts)
    assert statuses["active"] > statuses["expiring"] > 0 and statuses["renewed"] > 0, statuses
    soon = [
        c
        for c in contracts
        if c["status"] in {"active", "expiring"} and as_date(c["end_on"]) <= today + datetime.timedelta(days=60)
    ]
    assert len(soon) >= 3
    # The renewal calendar has run as the worker would: renewals open, each with its task.
    renewal_tasks = await Task.count().where(Task.source == "contract", Task.kind != "collection")
    assert renewal_tasks >= statuses["expiring"]
    assert await AgreedTariff.count() >= len(contracts)

    # Twelve months of bills per contracted account, most paid, arrears in several aging buckets.
    bills = await Bill.select(Bill.account, Bill.status, Bill.due_on, Bill.amount_due_cents, Bill.paid_cents)
    per_account = Counter(b["account"] for b in bills)
    assert max(per_account.values()) == 12 and set(per_account) <= covered
    paid = sum(b["status"] == "paid" for b in bills)
    assert paid > 0.7 * len(bills)
    buckets = Counter(
        receivables.bucket_of((today - as_date(b["due_on"])).days) for b in bills if b["status"] in {"open", "partial"}
    )
    assert {"1-30", "31-60", "90+"} <= set(buckets), buckets
    assert any(b["status"] == "partial" for b in bills)
    assert await Payment.count() > paid * 0.9
    hq = next(iter((await _actors(User.username == "hq")).values()))
    aging = await receivables.arrears(actor=hq, page=PageParams(limit=50), totals=True)
    assert aging.total > 0 and aging.scope_total is not None
    assert aging.scope_total.d1_30_cents > 0 and aging.scope_total.d90_plus_cents > 0
    assert await Task.count().where(Task.kind == "collection") > 0  # old unpaid bills: the owner chases them

    # Two service accounts with their scopes; their tokens are printed once and work.
    accounts = {r["name"]: r for r in await ServiceAccount.select()}
    assert len(accounts) == 2
    tokens = [part.split(" token ")[1].split(";")[0].strip() for part in summary.split("service account ")[1:]]
    assert len(tokens) == 2
    for token in tokens:
        actor = await service_accounts.authenticate(token)
        assert actor is not None and actor.service_scopes
    # One webhook at a receiver on this machine; nothing is queued for it by the demo itself.
    hooks = await Webhook.select()
    assert [h["url"] for h in hooks] == [WEBHOOK_URL]
    assert await WebhookDelivery.count() == 0
