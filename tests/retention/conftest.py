"""Fixtures of the retention tests: a frozen clock and an account for each risk reason (and one with none)."""

import datetime
import itertools
import uuid
from dataclasses import dataclass, field

import pytest

from fieldcrm.accounts.tables import Account, Revenue
from fieldcrm.cases.tables import Case
from fieldcrm.contracts.tables import AccountArrears, Contract
from fieldcrm.retention import scoring, services
from fieldcrm.sales.tables import Opportunity, OpportunityStage
from tests.factories import Org, make_account, make_holding

# 10:00 in Shanghai on a Friday: far from midnight in the business zone.
NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 12, 4)
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    """The retention domain's clock stands at NOW."""
    monkeypatch.setattr(scoring, "utcnow", lambda: NOW)
    monkeypatch.setattr(services, "business_today", lambda now=None: TODAY)
    return NOW


def month(year: int, number: int) -> datetime.date:
    return datetime.date(year, number, 1)


async def revenue(account_id: uuid.UUID, amounts: dict[datetime.date, int]) -> None:
    """Monthly revenue rows (cents)."""
    for first, cents in amounts.items():
        await Revenue.insert(Revenue(account=account_id, month=first, amount_cents=cents))


# Steady revenue over the 15 months the rules look at: 2025-09 .. 2026-11.
STEADY = {month(2025 + (m > 12) * 0, ((m - 1) % 12) + 1): 100_00 for m in range(9, 13)} | {
    month(2026, m): 100_00 for m in range(1, 12)
}


async def complaint(account_id: uuid.UUID, owner: uuid.UUID, *, created: datetime.datetime, **fields: object) -> None:
    state = fields.pop("state", "open")
    due = fields.pop("due_at", created + datetime.timedelta(days=30))
    await Case.insert(
        Case(
            account=account_id,
            owner=owner,
            type=fields.pop("type", "complaint"),
            priority="normal",
            title="投诉",
            state=state,
            due_at=due,
            resolved_at=fields.pop("resolved_at", None),
            created_at=created,
        )
    )


@dataclass
class Fixture:
    """Account ids by the reason each one should carry ("none": no reason at all)."""

    accounts: dict[str, uuid.UUID] = field(default_factory=dict)


async def reason_fixture(org: Org) -> Fixture:
    """One account per reason, steady revenue and a recent visit on all, so each has exactly its own reason."""
    fx = Fixture()
    names = [
        "none",
        "revenue_falling",
        "revenue_falling_yoy",
        "contract_ending",
        "holding_ending",
        "lines_dropping",
        "open_complaint",
        "repeated_complaints",
        "sla_breach",
        "visit_overdue",
        "lost_opportunity",
        "unpaid_bills",
    ]
    for name in names:
        account = await make_account(org, name=f"客户 {name}")
        fx.accounts[name] = account
        await Account.update(
            {Account.last_visited_on: TODAY - datetime.timedelta(days=3), Account.status: "active"}
        ).where(Account.id == account)
        if name == "revenue_falling":
            await revenue(account, STEADY | {month(2026, m): 50_00 for m in (9, 10, 11)})
        elif name == "revenue_falling_yoy":
            # the last 3 months equal the 3 before, but a year earlier they were twice as much
            await revenue(account, STEADY | {month(2025, m): 300_00 for m in (9, 10, 11)})
        else:
            await revenue(account, STEADY)
    rep = org.rep_a.id
    a = fx.accounts
    await Contract.insert(
        Contract(
            number=f"C-2026-{next(_seq):05d}",
            year=2026,
            seq=next(_seq),
            account=a["contract_ending"],
            status="active",
            start_on=datetime.date(2025, 1, 1),
            end_on=TODAY + datetime.timedelta(days=45),
        )
    )
    # a contract ending beyond the window and one already renewed do not count
    await Contract.insert(
        Contract(
            number=f"C-2026-{next(_seq):05d}",
            year=2026,
            seq=next(_seq),
            account=a["none"],
            status="active",
            end_on=TODAY + datetime.timedelta(days=200),
        )
    )
    await make_holding(org, a["holding_ending"], contract_end=TODAY + datetime.timedelta(days=80))
    await make_holding(org, a["none"], contract_end=TODAY + datetime.timedelta(days=120))
    await Account.update({Account.member_lines: 20}).where(Account.id.is_in(list(a.values())))
    await complaint(
        a["open_complaint"], rep, created=NOW - datetime.timedelta(days=200), due_at=NOW + datetime.timedelta(days=5)
    )
    for days in (10, 40):
        await complaint(
            a["repeated_complaints"],
            rep,
            created=NOW - datetime.timedelta(days=days),
            state="resolved",
            resolved_at=NOW - datetime.timedelta(days=days - 1),
        )
    # an old resolved complaint and a fault resolved in time do not count
    await complaint(
        a["none"],
        rep,
        created=NOW - datetime.timedelta(days=300),
        state="resolved",
        resolved_at=NOW - datetime.timedelta(days=299),
    )
    await complaint(
        a["sla_breach"],
        rep,
        created=NOW - datetime.timedelta(days=20),
        type="fault",
        due_at=NOW - datetime.timedelta(days=2),
    )
    await Account.update({Account.last_visited_on: TODAY - datetime.timedelta(days=100), Account.tier: "A"}).where(
        Account.id == a["visit_overdue"]
    )
    await OpportunityStage.insert(OpportunityStage(key="lost_x", name="Lost", kind="lost", position=9))
    await Opportunity.insert(
        Opportunity(
            account=a["lost_opportunity"],
            owner=rep,
            name="扩容",
            stage="lost_x",
            amount_cents=10_000_00,
            closed_at=NOW - datetime.timedelta(days=30),
        )
    )
    await AccountArrears.insert(
        AccountArrears(
            account=a["unpaid_bills"], oldest_due_on=TODAY - datetime.timedelta(days=40), outstanding_cents=5_000_00
        )
    )
    return fx
