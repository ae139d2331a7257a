"""Cases and delivery projects: work orders on the engine, SLAs per priority, escalation, search by scope."""

import datetime
import uuid
from typing import Any

import httpx
import pytest

from fieldcrm.workflow import services as workflow
from tests.factories import Org, Person, make_account


async def _case(client: httpx.AsyncClient, who: Person, account: uuid.UUID, **fields: Any) -> dict[str, Any]:
    body = {"accountId": str(account), "type": "complaint", "title": "账单多扣费", **fields}
    r = await client.post("/api/cases", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def _inbox(client: httpx.AsyncClient, who: Person, subject_id: str) -> list[dict[str, Any]]:
    r = await client.get("/api/approvals", headers=who.headers)
    assert r.status_code == 200, r.text
    return [i for i in r.json()["items"] if i["subjectId"] == subject_id]


async def _done(client: httpx.AsyncClient, who: Person, step_id: str) -> None:
    r = await client.post(
        f"/api/approvals/{step_id}/decision",
        json={"decision": "approve", "comment": ""},
        headers={**who.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text


def _hours(later: str, earlier: str) -> float:
    return (datetime.datetime.fromisoformat(later) - datetime.datetime.fromisoformat(earlier)).total_seconds() / 3600


@pytest.mark.parametrize(
    ("priority", "resolution_hours", "accept_hours"),
    [("urgent", 8, 0.5), ("high", 24, 1), ("normal", 72, 4), ("low", 168, 8)],
)
async def test_each_priority_has_its_sla(
    client: httpx.AsyncClient, org: Org, priority: str, resolution_hours: float, accept_hours: float
) -> None:
    case = await _case(client, org.rep_a, await make_account(org, "rep_a"), priority=priority)
    assert case["state"] == "open"
    assert _hours(case["dueAt"], case["createdAt"]) == pytest.approx(resolution_hours)
    [step] = case["steps"]
    assert step["name"] == "accept"
    assert _hours(step["dueAt"], case["createdAt"]) == pytest.approx(accept_hours, abs=0.01)


async def test_a_complaint_runs_accept_investigate_resolve_confirm(client: httpx.AsyncClient, org: Org) -> None:
    case = await _case(client, org.manager_a, await make_account(org, "rep_a"))
    assert case["ownerId"] == str(org.rep_a.id)  # the account manager handles it, whoever opened it
    done = []
    for expected in ("accept", "investigate", "resolve", "confirm"):
        [item] = await _inbox(client, org.rep_a, case["id"])
        assert item["stepName"] == expected
        await _done(client, org.rep_a, item["stepId"])
        done.append(expected)
        body = (await client.get(f"/api/cases/{case['id']}", headers=org.rep_a.headers)).json()
        assert body["lastStep"] == expected
    assert body["state"] == "resolved" and body["resolvedAt"] is not None


async def test_a_fault_investigates_and_arranges_the_visit_in_parallel(client: httpx.AsyncClient, org: Org) -> None:
    case = await _case(client, org.rep_a, await make_account(org, "rep_a"), type="fault", priority="high")
    [accept] = await _inbox(client, org.rep_a, case["id"])
    await _done(client, org.rep_a, accept["stepId"])
    parallel = await _inbox(client, org.rep_a, case["id"])
    assert sorted(i["stepName"] for i in parallel) == ["arrange_visit", "investigate"]
    body = (await client.get(f"/api/cases/{case['id']}", headers=org.rep_a.headers)).json()
    assert body["state"] == "in_progress"
    await _done(client, org.rep_a, parallel[0]["stepId"])
    assert [i["stepName"] for i in await _inbox(client, org.rep_a, case["id"])] == [parallel[1]["stepName"]]


async def test_an_overdue_step_escalates_to_the_account_managers_manager(client: httpx.AsyncClient, org: Org) -> None:
    case = await _case(client, org.rep_a, await make_account(org, "rep_a"), priority="urgent")
    assert await _inbox(client, org.manager_a, case["id"]) == []
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1)
    result = await workflow.sla_scan(now=later)
    assert result.escalated >= 1
    [item] = await _inbox(client, org.manager_a, case["id"])
    assert item["stepName"] == "accept"
    r = await client.get("/api/cases", params={"overdue": "true"}, headers=org.manager_a.headers)
    assert r.json()["total"] == 0  # the case itself is due in 8 hours; only its first step is late


async def test_cases_are_scoped_by_the_account_owner(client: httpx.AsyncClient, org: Org) -> None:
    mine = await _case(client, org.rep_a, await make_account(org, "rep_a"))
    theirs = await _case(client, org.rep_c, await make_account(org, "rep_c"))
    for who, expected in (
        ("rep_a", {mine["id"]}),
        ("rep_a2", set()),
        ("manager_a", {mine["id"]}),
        ("manager_c", {theirs["id"]}),
        ("hq", {mine["id"], theirs["id"]}),
    ):
        r = await client.get("/api/cases", headers=org.people[who].headers)
        assert {i["id"] for i in r.json()["items"]} == expected, who
    r = await client.get(f"/api/cases/{theirs['id']}", headers=org.rep_a.headers)
    assert r.status_code == 404
    r = await client.post(
        "/api/cases",
        json={"accountId": str(theirs["accountId"]), "type": "fault", "title": "x"},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 404


async def _won(client: httpx.AsyncClient, who: Person, account: uuid.UUID, name: str) -> str:
    r = await client.post(
        "/api/opportunities", json={"accountId": str(account), "name": name, "stage": "won"}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_won_opportunity_starts_a_delivery_project(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a", name="济南钢铁集团")
    r = await client.post(
        "/api/opportunities",
        json={"accountId": str(account), "name": "open", "stage": "proposal"},
        headers=org.rep_a.headers,
    )
    r = await client.post("/api/projects", json={"opportunityId": r.json()["id"]}, headers=org.rep_a.headers)
    assert r.status_code == 409 and "won" in r.json()["detail"]
    won = await _won(client, org.rep_a, account, "5G 专网")
    r = await client.post(
        "/api/projects", json={"opportunityId": won, "startDate": "2026-03-01"}, headers=org.rep_a.headers
    )
    assert r.status_code == 201, r.text
    project = r.json()
    assert (project["name"], project["state"], project["startDate"]) == ("5G 专网", "active", "2026-03-01")
    assert [s["name"] for s in project["steps"]] == ["demand_confirmed"]
    assert project["steps"][0]["warnAt"] < project["steps"][0]["dueAt"]
    r = await client.post("/api/projects", json={"opportunityId": won}, headers=org.rep_a.headers)
    assert r.status_code == 409
    for expected in ("demand_confirmed", "resource_survey", "installation", "customer_acceptance"):
        [item] = await _inbox(client, org.rep_a, project["id"])
        assert item["stepName"] == expected
        await _done(client, org.rep_a, item["stepId"])
    body = (await client.get(f"/api/projects/{project['id']}", headers=org.rep_a.headers)).json()
    assert (body["state"], body["lastStep"]) == ("completed", "customer_acceptance")
    overview = (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).json()
    kinds = {i["kind"] for i in overview["timeline"]}
    assert {"project", "opportunity"} <= kinds


async def test_project_search_by_name_date_manager_and_customer_within_scope(
    client: httpx.AsyncClient, org: Org
) -> None:
    made: dict[str, str] = {}
    for owner, name, customer, start in (
        ("rep_a", "5G 专网一期", "济南钢铁集团", "2026-01-10"),
        ("rep_a2", "物联网卡", "山东高速", "2026-02-10"),
        ("rep_b", "云专线", "济南钢铁集团二公司", "2026-03-10"),
        ("rep_c", "5G 专网二期", "武汉地铁", "2026-04-10"),
    ):
        account = await make_account(org, owner, name=customer)
        who = org.people[owner]
        won = await _won(client, who, account, name)
        r = await client.post("/api/projects", json={"opportunityId": won, "startDate": start}, headers=who.headers)
        assert r.status_code == 201, r.text
        made[name] = r.json()["id"]

    async def names(who: str, **params: str) -> set[str]:
        r = await client.get("/api/projects", params=params, headers=org.people[who].headers)
        assert r.status_code == 200, r.text
        return {i["name"] for i in r.json()["items"]}

    assert await names("rep_a") == {"5G 专网一期"}
    assert await names("manager_a") == {"5G 专网一期", "物联网卡"}
    assert await names("director", q="5g") == {"5G 专网一期"}
    assert await names("hq", q="5G 专网") == {"5G 专网一期", "5G 专网二期"}
    assert await names("director", q="钢铁") == {"5G 专网一期", "云专线"}
    assert await names("hq", startFrom="2026-02-01", startTo="2026-03-31") == {"物联网卡", "云专线"}
    assert await names("director", ownerId=str(org.rep_b.id)) == {"云专线"}
    assert await names("manager_a", ownerId=str(org.rep_c.id)) == set()
    r = await client.get(f"/api/projects/{made['5G 专网二期']}", headers=org.director.headers)
    assert r.status_code == 404
