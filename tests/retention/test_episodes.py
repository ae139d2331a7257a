"""Episodes: matching the best strategy, tasks once per episode, closing by hand and by itself, outcomes."""

import asyncio
import datetime
from typing import Any

import httpx
import pytest

from fieldcrm.accounts.tables import Account
from fieldcrm.retention import episodes, scoring
from fieldcrm.retention.tables import Episode, RiskScore
from fieldcrm.tasks.tables import Task
from tests.factories import Org
from tests.retention.conftest import NOW, reason_fixture

UNPAID = {
    "name": "欠费客户挽留",
    "priority": 10,
    "conditions": {"reasons": ["unpaid_bills"]},
    "advice": "先核对账单，再上门",
    "actions": [
        {"title": "致电 {account} 核对欠费", "kind": "call", "who": "account_manager", "dueInDays": 2},
        {"title": "{account}：经理陪访", "kind": "visit", "who": "manager", "dueInDays": 7},
    ],
}
HIGH = {
    "name": "高风险通用",
    "priority": 5,
    "conditions": {"bands": ["high"]},
    "actions": [{"title": "拜访 {account}"}],
}
TIER_A = {
    "name": "A 类欠费",
    "priority": 50,
    "conditions": {"reasons": ["unpaid_bills"], "tiers": ["A"]},
    "actions": [{"title": "总监拜访 {account}", "who": "director"}],
}


async def _setup(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    fx = await reason_fixture(org)
    body = {"weights": {"revenueFalling": 70, "unpaidBills": 70}}
    r = await client.put("/api/retention/config", json=body, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    ids = {}
    for strategy in (UNPAID, HIGH, TIER_A):
        r = await client.post("/api/retention/strategies", json=strategy, headers=org.hq.headers)
        assert r.status_code == 201, r.text
        ids[strategy["name"]] = r.json()["strategyId"]
    await scoring.score_all(now=NOW)
    return {"accounts": fx.accounts, "strategies": ids}


async def _episodes(client: httpx.AsyncClient, who: Any) -> dict[str, dict[str, Any]]:
    r = await client.get("/api/retention/episodes", params={"limit": "100"}, headers=who.headers)
    assert r.status_code == 200, r.text
    return {e["accountName"].removeprefix("客户 "): e for e in r.json()["items"]}


async def test_matching_picks_the_highest_priority_strategy_whose_conditions_all_hold(
    client: httpx.AsyncClient, org: Org
) -> None:
    await _setup(client, org)
    result = await episodes.run(now=NOW)
    assert (result.opened, result.matched) == (3, 3)
    found = await _episodes(client, org.hq)
    assert set(found) == {"revenue_falling", "revenue_falling_yoy", "unpaid_bills"}
    # TIER_A has the highest priority but its tier condition does not hold; UNPAID beats HIGH
    assert found["unpaid_bills"]["strategy"]["name"] == "欠费客户挽留"
    assert found["revenue_falling"]["strategy"]["name"] == "高风险通用"
    assert found["unpaid_bills"]["tasksCreated"] == 2


async def test_tasks_once_per_episode_under_repeated_runs(client: httpx.AsyncClient, org: Org) -> None:
    setup = await _setup(client, org)
    for _ in range(3):
        await episodes.run(now=NOW)
    rows = await Task.select(Task.title, Task.assignee, Task.source_key, Task.remind_at).where(
        Task.source == "retention"
    )
    assert len(rows) == 2 + 1 + 1
    assert {r["remind_at"] for r in rows} == {NOW}  # the reminder job pushes them to the assignee
    assert len({r["source_key"] for r in rows}) == 4
    unpaid = {r["title"]: r["assignee"] for r in rows if "欠费" in r["title"] or "陪访" in r["title"]}
    assert unpaid == {"致电 客户 unpaid_bills 核对欠费": org.rep_a.id, "客户 unpaid_bills：经理陪访": org.manager_a.id}
    # a new strategy version does not touch the running episodes
    r = await client.put(
        f"/api/retention/strategies/{setup['strategies']['欠费客户挽留']}",
        json={**UNPAID, "actions": [{"title": "新版 {account}"}]},
        headers=org.hq.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    await episodes.run(now=NOW)
    assert await Task.count().where(Task.source == "retention") == 4
    found = await _episodes(client, org.hq)
    assert found["unpaid_bills"]["strategy"]["version"] == 1


@pytest.mark.postgres_only
async def test_concurrent_runs_make_each_task_once(client: httpx.AsyncClient, org: Org) -> None:
    await _setup(client, org)
    await asyncio.gather(*(episodes.run(now=NOW) for _ in range(4)))
    assert await Episode.count() == 3
    assert await Task.count().where(Task.source == "retention") == 4


async def test_closing_by_the_manager_needs_a_leader(client: httpx.AsyncClient, org: Org) -> None:
    await _setup(client, org)
    await episodes.run(now=NOW)
    episode = (await _episodes(client, org.rep_a))["unpaid_bills"]
    url = f"/api/retention/episodes/{episode['id']}"
    r = await client.post(url + "/close", json={"outcome": "partial"}, headers=org.rep_a.headers)
    assert r.status_code == 422, r.text
    assert "revenueKeptCents" in r.text
    r = await client.post(
        url + "/close", json={"outcome": "partial", "revenueKeptCents": 300_00}, headers=org.rep_a.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "closing"
    assert (await client.post(url + "/confirm", headers=org.rep_a.headers)).status_code == 403
    assert (await client.post(url + "/confirm", headers=org.manager_b.headers)).status_code == 404
    r = await client.post(url + "/confirm", headers=org.manager_a.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["outcome"], r.json()["revenueKeptCents"]) == ("closed", "partial", 300_00)
    # a closed account can get a new episode, by hand
    r = await client.post(
        "/api/retention/episodes", json={"accountId": episode["accountId"]}, headers=org.manager_a.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["openedReason"] == "manual"
    r = await client.post(
        "/api/retention/episodes", json={"accountId": episode["accountId"]}, headers=org.manager_a.headers
    )
    assert r.status_code == 409, r.text
    r = await client.post(
        "/api/retention/episodes", json={"accountId": episode["accountId"]}, headers=org.rep_a.headers
    )
    assert r.status_code == 403


async def test_automatic_closing(client: httpx.AsyncClient, org: Org) -> None:
    setup = await _setup(client, org)
    await episodes.run(now=NOW)
    accounts = setup["accounts"]
    await Account.update({Account.status: "lost"}).where(Account.id == accounts["unpaid_bills"])
    # revenue_falling has been in the low band for 61 days, revenue_falling_yoy for 59
    await RiskScore.update({RiskScore.band: "low", RiskScore.band_since: NOW - datetime.timedelta(days=61)}).where(
        RiskScore.account == accounts["revenue_falling"]
    )
    await RiskScore.update({RiskScore.band: "low", RiskScore.band_since: NOW - datetime.timedelta(days=59)}).where(
        RiskScore.account == accounts["revenue_falling_yoy"]
    )
    result = await episodes.run(now=NOW)
    assert (result.closed_lost, result.closed_retained, result.opened) == (1, 1, 0)
    found = await _episodes(client, org.hq)
    assert (found["unpaid_bills"]["outcome"], found["unpaid_bills"]["closedHow"]) == ("lost", "auto_lost")
    assert found["revenue_falling"]["outcome"] == "retained"
    assert found["revenue_falling_yoy"]["state"] == "open"


def test_wilson_interval_by_hand() -> None:
    # 8 of 10: p = 0.8, z = 1.96: centre = (0.8 + 0.19207) / 1.38415, half = 1.96 * sqrt(0.016 + 0.0096) / 1.38415
    low, high = episodes.wilson(8, 10) or (0.0, 0.0)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = episodes.wilson(0, 4) or (0.0, 0.0)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.4899)
    assert episodes.wilson(0, 0) is None


async def test_outcomes_per_strategy(client: httpx.AsyncClient, org: Org) -> None:
    await _setup(client, org)
    await episodes.run(now=NOW)
    found = await _episodes(client, org.hq)
    for name, outcome, kept, days in (
        ("revenue_falling", "retained", None, 10),
        ("revenue_falling_yoy", "lost", None, 30),
    ):
        r = await client.post(
            f"/api/retention/episodes/{found[name]['id']}/close",
            json={"outcome": outcome, **({"revenueKeptCents": kept} if kept else {})},
            headers=org.manager_a.headers,
        )
        assert r.status_code == 200, r.text
        await Episode.update({Episode.closed_at: NOW + datetime.timedelta(days=days)}).where(
            Episode.id == found[name]["id"]
        )
    r = await client.get("/api/retention/outcomes", headers=org.hq.headers)
    assert r.status_code == 200, r.text
    by_name = {o["name"]: o for o in r.json()["items"]}
    high = by_name["高风险通用"]
    assert (high["episodes"], high["closed"], high["retained"], high["lost"]) == (2, 2, 1, 1)
    assert high["retainedShare"] == 0.5
    assert (high["wilsonLow"], high["wilsonHigh"]) == (0.0945, 0.9055)
    assert high["medianDaysToClose"] == 20.0
    assert by_name["欠费客户挽留"]["closed"] == 0
    assert by_name["欠费客户挽留"]["retainedShare"] is None
