"""Risk scoring: each fixture account gets exactly its reasons, weights move scores, bands change visibly."""

import datetime
from typing import Any

import httpx
import pytest

from fieldcrm.accounts.tables import Account
from fieldcrm.retention import scoring
from fieldcrm.retention.schemas import RiskConfigBody
from tests.factories import Org, Person
from tests.retention.conftest import NOW, reason_fixture

EXPECTED = {
    "none": set(),
    "revenue_falling": {"revenue_falling"},
    "revenue_falling_yoy": {"revenue_falling"},
    "contract_ending": {"contract_ending"},
    "holding_ending": {"contract_ending"},
    "lines_dropping": {"lines_dropping"},
    "open_complaint": {"open_complaint"},
    "repeated_complaints": {"repeated_complaints"},
    "sla_breach": {"sla_breach"},
    "visit_overdue": {"visit_overdue"},
    "lost_opportunity": {"lost_opportunity"},
    "unpaid_bills": {"unpaid_bills"},
}


async def _risks(client: httpx.AsyncClient, who: Person, **params: str) -> dict[str, dict[str, Any]]:
    r = await client.get("/api/retention/risks", params={"limit": "100", **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    return {item["accountName"].removeprefix("客户 "): item for item in r.json()["items"]}


async def test_each_account_gets_exactly_its_reasons(client: httpx.AsyncClient, org: Org) -> None:
    fx = await reason_fixture(org)
    await scoring.score_all(now=NOW - datetime.timedelta(days=7))
    await Account.update({Account.member_lines: 15}).where(Account.id == fx.accounts["lines_dropping"])
    run = await scoring.score_all(now=NOW)
    assert run.accounts == len(EXPECTED)
    risks = await _risks(client, org.hq)
    got = {name: {r["code"] for r in item["reasons"]} for name, item in risks.items()}
    assert got == EXPECTED
    by = {name: {r["code"]: r for r in item["reasons"]} for name, item in risks.items()}
    assert by["revenue_falling"]["revenue_falling"]["params"]["afterCents"] == 150_00
    assert by["revenue_falling"]["revenue_falling"]["params"]["beforeCents"] == 300_00
    assert by["revenue_falling_yoy"]["revenue_falling"]["params"]["yearAgoCents"] == 900_00
    assert by["contract_ending"]["contract_ending"]["params"]["days"] == 45
    assert by["holding_ending"]["contract_ending"]["params"]["days"] == 80
    assert by["lines_dropping"]["lines_dropping"]["params"] == {"peak": 20, "now": 15}
    assert by["repeated_complaints"]["repeated_complaints"]["params"]["count"] == 2
    assert by["visit_overdue"]["visit_overdue"]["params"]["days"] == 100 - 14
    assert by["unpaid_bills"]["unpaid_bills"]["params"]["amountCents"] == 5_000_00
    assert by["unpaid_bills"]["unpaid_bills"]["text"] == "欠费 5,000.00 元，最早 2026-10-25 到期"
    default = RiskConfigBody().weights
    assert risks["revenue_falling"]["score"] == default.revenue_falling
    assert risks["none"]["score"] == 0
    assert risks["none"]["band"] == "low"


async def test_weight_changes_move_scores_and_bands(client: httpx.AsyncClient, org: Org) -> None:
    await reason_fixture(org)
    await scoring.score_all(now=NOW)
    body = {"weights": {"revenueFalling": 70, "openComplaint": 40}, "thresholds": {"watch": 30, "high": 60}}
    r = await client.put("/api/retention/config", json=body, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.json()["weights"]["revenueFalling"] == 70
    run = await scoring.score_all(now=NOW + datetime.timedelta(days=1))
    assert run.config_version == 2
    risks = await _risks(client, org.hq)
    assert (risks["revenue_falling"]["score"], risks["revenue_falling"]["band"]) == (70, "high")
    assert (risks["open_complaint"]["score"], risks["open_complaint"]["band"]) == (40, "watch")
    assert risks["open_complaint"]["configVersion"] == 2
    high = await _risks(client, org.hq, band="high")
    assert set(high) == {"revenue_falling", "revenue_falling_yoy"}
    reason = await _risks(client, org.hq, reason="open_complaint")
    assert set(reason) == {"open_complaint"}
    # the band change is on the 360 timeline and audited
    account = risks["revenue_falling"]["accountId"]
    r = await client.get(f"/api/accounts/{account}/overview", headers=org.hq.headers)
    assert r.status_code == 200, r.text
    text = r.text
    assert "timeline.retention.band" in text


async def test_bad_configuration_names_the_field(client: httpx.AsyncClient, org: Org) -> None:
    r = await client.put(
        "/api/retention/config", json={"thresholds": {"watch": 70, "high": 60}}, headers=org.hq.headers
    )
    assert r.status_code == 422, r.text
    assert "thresholds.watch" in r.text
    r = await client.put("/api/retention/config", json={"weights": {"revenueFalling": 150}}, headers=org.hq.headers)
    assert r.status_code in (400, 422), r.text
    assert "revenueFalling" in r.text
    r = await client.put("/api/retention/config", json={}, headers=org.manager_a.headers)
    assert r.status_code == 403
    r = await client.get("/api/retention/config", headers=org.hq.headers)
    assert r.json()["version"] == 1


@pytest.mark.parametrize("who", ["rep_a", "rep_b", "manager_b", "director"])
async def test_the_list_follows_the_scope(client: httpx.AsyncClient, org: Org, who: str) -> None:
    await reason_fixture(org)  # every account is rep_a's
    await scoring.score_all(now=NOW)
    risks = await _risks(client, org.people[who])
    assert len(risks) == (0 if who in {"rep_b", "manager_b"} else len(EXPECTED))
