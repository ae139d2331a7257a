"""A submitted quote runs on the workflow engine: routed by its discount, decided by the right people."""

import uuid
from typing import Any

import httpx

from tests.factories import Org, Person, make_account
from tests.sales.helpers import act, product, quote


async def _inbox(client: httpx.AsyncClient, who: Person) -> list[dict[str, Any]]:
    r = await client.get("/api/approvals", headers=who.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _decide(
    client: httpx.AsyncClient, who: Person, step_id: str, decision: str, comment: str = ""
) -> httpx.Response:
    return await client.post(
        f"/api/approvals/{step_id}/decision",
        json={"decision": decision, "comment": comment},
        headers={**who.headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def _state(client: httpx.AsyncClient, who: Person, quote_id: str) -> str:
    r = await client.get(f"/api/quotes/{quote_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


async def _submitted(client: httpx.AsyncClient, org: Org, discount_bp: int, *, limit_bp: int = 10_000) -> str:
    account = await make_account(org, "rep_a")
    item = await product(client, org, price=100_000, limit_bp=limit_bp)
    body = await quote(client, org.rep_a, account, [{"productId": item, "quantity": 1, "discountBp": discount_bp}])
    r = await act(client, org.rep_a, body["id"], "submit")
    assert r.status_code == 200, r.text
    return str(body["id"])


async def test_a_small_discount_approves_itself(client: httpx.AsyncClient, org: Org) -> None:
    quote_id = await _submitted(client, org, 500)
    assert await _state(client, org.rep_a, quote_id) == "approved"
    assert await _inbox(client, org.manager_a) == []


async def test_up_to_15_percent_goes_to_the_reps_manager_who_approves(client: httpx.AsyncClient, org: Org) -> None:
    quote_id = await _submitted(client, org, 1200)
    assert await _state(client, org.rep_a, quote_id) == "submitted"
    for other in (org.manager_b, org.manager_c, org.rep_a2):
        assert [i for i in await _inbox(client, other) if i["subjectId"] == quote_id] == []
    [item] = [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == quote_id]
    assert item["facts"]["discount_bp"] == 1200
    assert item["facts"]["total_cents"] == 88_000
    r = await _decide(client, org.manager_a, item["stepId"], "approve", "ok")
    assert r.status_code == 200, r.text
    assert await _state(client, org.rep_a, quote_id) == "approved"
    assert (await act(client, org.rep_a, quote_id, "send")).json()["state"] == "sent"
    assert (await act(client, org.rep_a, quote_id, "accept")).json()["state"] == "accepted"


async def test_up_to_30_percent_needs_the_manager_then_the_director(client: httpx.AsyncClient, org: Org) -> None:
    quote_id = await _submitted(client, org, 2500)
    [step] = [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == quote_id]
    assert [i for i in await _inbox(client, org.director) if i["subjectId"] == quote_id] == []
    assert (await _decide(client, org.manager_a, step["stepId"], "approve")).status_code == 200
    assert await _state(client, org.rep_a, quote_id) == "submitted"
    [step] = [i for i in await _inbox(client, org.director) if i["subjectId"] == quote_id]
    assert (await _decide(client, org.director, step["stepId"], "approve")).status_code == 200
    assert await _state(client, org.rep_a, quote_id) == "approved"


async def test_returned_and_rejected_quotes(client: httpx.AsyncClient, org: Org) -> None:
    quote_id = await _submitted(client, org, 1000)
    [step] = [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == quote_id]
    assert (await _decide(client, org.manager_a, step["stepId"], "return", "单价再核对")).status_code == 200
    body = (await client.get(f"/api/quotes/{quote_id}", headers=org.rep_a.headers)).json()
    assert (body["state"], body["stateComment"]) == ("returned", "单价再核对")
    r = await client.patch(f"/api/quotes/{quote_id}", json={"title": "x"}, headers=org.rep_a.headers)
    assert r.status_code == 409 and "reopen" in r.json()["detail"]
    assert (await act(client, org.rep_a, quote_id, "reopen")).json()["state"] == "draft"
    assert (await act(client, org.rep_a, quote_id, "submit")).json()["state"] == "submitted"
    [step] = [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == quote_id]
    assert (await _decide(client, org.manager_a, step["stepId"], "reject", "太低")).status_code == 200
    assert await _state(client, org.rep_a, quote_id) == "rejected"


async def test_withdrawing_takes_the_quote_out_of_the_inbox(client: httpx.AsyncClient, org: Org) -> None:
    quote_id = await _submitted(client, org, 1000)
    assert [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == quote_id]
    r = await act(client, org.rep_a, quote_id, "withdraw", "改价")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "draft"
    assert [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == quote_id] == []


async def test_a_line_beyond_its_products_limit_routes_by_that_lines_depth(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    free = await product(client, org, price=1_000_000, limit_bp=10_000)
    strict = await product(client, org, price=10_000, limit_bp=500)
    lines = [{"productId": free, "quantity": 1}, {"productId": strict, "quantity": 1, "discountBp": 1200}]
    body = await quote(client, org.rep_a, account, lines)
    assert body["discountBp"] == 12  # 1,200 cents off 1,010,000: 0.12 % overall
    assert body["deepestExcessBp"] == 700
    assert (await act(client, org.rep_a, body["id"], "submit")).json()["state"] == "submitted"
    [item] = [i for i in await _inbox(client, org.manager_a) if i["subjectId"] == body["id"]]
    assert item["facts"]["discount_bp"] == 1200
    assert item["facts"]["overall_discount_bp"] == 12
    assert item["facts"]["excess_bp"] == 700
