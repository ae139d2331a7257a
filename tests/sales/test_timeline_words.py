"""The customer 360 timeline tells a quote's story once, in parts a client can put in its own words."""

import uuid

import httpx

from tests.factories import Org, make_account
from tests.sales.helpers import act, product, quote


async def test_an_approved_quote_names_the_manager_and_the_raw_change_log_stays_out(
    client: httpx.AsyncClient, org: Org
) -> None:
    account = await make_account(org, "rep_a")
    line = await product(client, org, price=100_000, limit_bp=500)
    body = await quote(
        client, org.rep_a, account, [{"productId": line, "quantity": 1, "discountBp": 1200}], title="5G 专网"
    )
    assert (await act(client, org.rep_a, body["id"], "submit")).status_code == 200
    inbox = (await client.get("/api/approvals", headers=org.manager_a.headers)).json()["items"]
    [item] = [i for i in inbox if i["subjectId"] == body["id"]]
    # The decider's card can say what the quote is without parsing its title.
    assert (item["facts"]["quote_label"], item["facts"]["quote_title"]) == (body["number"], "5G 专网")
    r = await client.post(
        f"/api/approvals/{item['stepId']}/decision",
        json={"decision": "approve", "comment": "同意"},
        headers={**org.manager_a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text

    overview = (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).json()
    kinds = [i["kind"] for i in overview["timeline"]]
    # One readable row for the quote; none of the change log's "quote wf.start" / "quote submit" rows.
    assert kinds.count("quote") == 1, kinds
    assert not [k for k in kinds if k.startswith(("quote.", "opportunity."))], kinds
    [row] = [i for i in overview["timeline"] if i["kind"] == "quote"]
    assert row["actorName"] == "Manager A"  # who decided, not the rep who asked
    assert row["data"] == {"state": "approved", "label": body["number"], "name": "5G 专网", "amountCents": 88_000}


async def test_a_draft_quote_still_names_its_owner(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line = await product(client, org)
    await quote(client, org.rep_a, account, [{"productId": line, "quantity": 1}])
    overview = (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).json()
    [row] = [i for i in overview["timeline"] if i["kind"] == "quote"]
    assert (row["actorName"], row["data"]["state"]) == ("Rep A", "draft")
