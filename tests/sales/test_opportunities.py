"""Opportunities: stages and probabilities, lost reasons, offline merges and conflicts, the pipeline by scope."""

import uuid
from typing import Any

import httpx

from tests.factories import Org, make_account
from tests.sales.helpers import push


async def _opportunity(client: httpx.AsyncClient, who: Any, account: uuid.UUID, **fields: Any) -> dict[str, Any]:
    body = {"accountId": str(account), "name": fields.pop("name", "扩容专线"), **fields}
    r = await client.post("/api/opportunities", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_a_stage_brings_its_default_probability(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    created = await _opportunity(client, org.rep_a, account, stage="proposal", amountCents=1_000_000)
    assert (created["probability"], created["weightedCents"]) == (50, 500_000)
    assert created["ownerId"] == str(org.rep_a.id)
    r = await client.patch(
        f"/api/opportunities/{created['id']}", json={"stage": "negotiation"}, headers=org.rep_a.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["probability"], r.json()["version"]) == (75, 2)
    r = await client.put(
        "/api/opportunities/stages/proposal",
        json={"name": "Proposal", "probability": 40, "position": 30},
        headers=org.hq.headers,
    )
    assert r.status_code == 200, r.text
    stages = (await client.get("/api/opportunities/stages", headers=org.rep_a.headers)).json()
    assert [s["key"] for s in stages][:3] == ["lead", "qualified", "proposal"]
    assert {s["key"]: s["probability"] for s in stages}["proposal"] == 40
    r = await client.put(
        "/api/opportunities/stages/proposal", json={"name": "x", "probability": 1}, headers=org.rep_a.headers
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/opportunities",
        json={"accountId": str(account), "name": "x", "stage": "dreaming"},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 422
    assert "lead" in r.json()["detail"]


async def test_closing_as_lost_needs_a_reason(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    created = await _opportunity(client, org.rep_a, account)
    url = f"/api/opportunities/{created['id']}"
    r = await client.patch(url, json={"stage": "lost"}, headers=org.rep_a.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "lostReason"
    r = await client.patch(url, json={"stage": "lost", "lostReason": "   "}, headers=org.rep_a.headers)
    assert r.status_code == 422
    r = await client.patch(url, json={"stage": "lost", "lostReason": "竞争对手低价"}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["stage"], r.json()["probability"], r.json()["closedAt"] is not None) == ("lost", 0, True)
    r = await client.post(
        "/api/opportunities", json={"accountId": str(account), "name": "x", "stage": "lost"}, headers=org.rep_a.headers
    )
    assert r.status_code == 422


async def test_offline_edits_merge_and_a_stale_guarded_edit_is_a_visible_conflict(
    client: httpx.AsyncClient, org: Org
) -> None:
    account = await make_account(org, "rep_a")
    phone = uuid.uuid4()
    opp_id = str(uuid.uuid4())
    create = {
        "id": opp_id,
        "accountId": str(account),
        "name": "IoT 卡",
        "stage": "qualified",
        "amountCents": 100_000,
        "expectedClose": "2026-12-31",
    }
    result = await push(client, org.rep_a, phone, [{"id": 1, "name": "opportunity.create", "args": create}])
    assert result["results"][0]["status"] == "applied", result
    # The manager moves the stage and amount on the web (version 1 -> 2).
    r = await client.patch(
        f"/api/opportunities/{opp_id}",
        json={"stage": "proposal", "amountCents": 150_000, "baseVersion": 1},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 200, r.text
    # The rep, offline on version 1, changed the next step, the amount and the close date.
    changes = {"nextStep": "约客户 CIO 周三面谈", "amountCents": 120_000, "expectedClose": "2027-01-15"}
    result = await push(
        client,
        org.rep_a,
        phone,
        [{"id": 2, "name": "opportunity.update", "args": {"id": opp_id, "changes": changes, "baseVersion": 1}}],
    )
    outcome = result["results"][0]
    assert outcome["status"] == "applied"
    assert outcome["conflicts"] == {"amountCents": {"yours": 120_000, "server": 150_000}}
    now = (await client.get(f"/api/opportunities/{opp_id}", headers=org.rep_a.headers)).json()
    # Merged: the next step and the close date (nobody else moved it) are the rep's, the amount is the manager's.
    assert (now["nextStep"], now["expectedClose"], now["amountCents"], now["stage"]) == (
        "约客户 CIO 周三面谈",
        "2027-01-15",
        150_000,
        "proposal",
    )
    # A stale edit that agrees with the server is no conflict.
    result = await push(
        client,
        org.rep_a,
        phone,
        [
            {
                "id": 3,
                "name": "opportunity.update",
                "args": {"id": opp_id, "changes": {"stage": "proposal"}, "baseVersion": 1},
            }
        ],
    )
    assert result["results"][0]["status"] == "applied" and result["results"][0].get("conflicts") is None
    # Over REST a stale guarded edit changes nothing and answers 409 with the conflicts.
    r = await client.patch(
        f"/api/opportunities/{opp_id}",
        json={"stage": "won", "competitor": "X", "baseVersion": 1},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 409
    assert r.json()["conflicts"] == {"stage": {"yours": "won", "server": "proposal"}}
    assert (await client.get(f"/api/opportunities/{opp_id}", headers=org.rep_a.headers)).json()["competitor"] == ""


async def test_an_opportunity_out_of_scope_is_not_found_even_through_sync(client: httpx.AsyncClient, org: Org) -> None:
    theirs = await _opportunity(client, org.rep_c, await make_account(org, "rep_c"))
    result = await push(
        client,
        org.rep_a,
        uuid.uuid4(),
        [{"id": 1, "name": "opportunity.update", "args": {"id": theirs["id"], "changes": {"nextStep": "x"}}}],
    )
    assert (result["results"][0]["status"], result["results"][0]["code"]) == ("rejected", "not_found")
    for who, status in (("rep_a", 404), ("manager_a", 404), ("director", 404), ("manager_c", 200), ("hq", 200)):
        r = await client.get(f"/api/opportunities/{theirs['id']}", headers=org.people[who].headers)
        assert r.status_code == status, who


async def test_the_pipeline_sums_by_stage_within_scope(client: httpx.AsyncClient, org: Org) -> None:
    a = await make_account(org, "rep_a")
    a2 = await make_account(org, "rep_a2")
    b = await make_account(org, "rep_b")
    c = await make_account(org, "rep_c")
    await _opportunity(client, org.rep_a, a, stage="proposal", amountCents=100_001)  # 50 %: 50,000.5 -> 50,001
    await _opportunity(client, org.rep_a, a, stage="proposal", amountCents=300_000)
    await _opportunity(client, org.rep_a2, a2, stage="lead", amountCents=70_000)
    await _opportunity(client, org.rep_b, b, stage="negotiation", amountCents=200_000)
    await _opportunity(client, org.rep_c, c, stage="won", amountCents=999_999)

    async def pipeline(who: str, **params: str) -> dict[str, Any]:
        r = await client.get("/api/opportunities/pipeline", params=params, headers=org.people[who].headers)
        assert r.status_code == 200, r.text
        return {
            s["stage"]: (s["count"], s["amountCents"], s["weightedCents"]) for s in r.json()["stages"] if s["count"]
        }

    assert await pipeline("rep_a") == {"proposal": (2, 400_001, 200_001)}
    assert await pipeline("manager_a") == {"proposal": (2, 400_001, 200_001), "lead": (1, 70_000, 7_000)}
    assert await pipeline("manager_a", ownerId=str(org.rep_a2.id)) == {"lead": (1, 70_000, 7_000)}
    director = await pipeline("director")
    assert director == {
        "proposal": (2, 400_001, 200_001),
        "lead": (1, 70_000, 7_000),
        "negotiation": (1, 200_000, 150_000),
    }
    assert await pipeline("director", orgUnitId=str(org.units["team_b"])) == {"negotiation": (1, 200_000, 150_000)}
    assert await pipeline("hq", orgUnitId=str(org.units["south"])) == {"won": (1, 999_999, 999_999)}
    # A manager asking for another team's region gets nothing beyond their own scope.
    assert await pipeline("manager_a", orgUnitId=str(org.units["team_c"])) == {}
    r = await client.get("/api/opportunities/pipeline", headers=org.hq.headers)
    body = r.json()
    assert (body["openCount"], body["openAmountCents"]) == (4, 670_001)
