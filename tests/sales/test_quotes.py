"""Quotes over the API: numbers, totals, the state machine, drafts only, revisions, printing, scope."""

import asyncio
import datetime
import uuid
from typing import Any

import httpx
import pytest

from fieldcrm.lib.errors import InvalidInput
from fieldcrm.sales import quotes as quote_services
from fieldcrm.sales.schemas import QuoteCreate, QuoteTransition
from fieldcrm.sales.tables import Quote as QuoteRow
from tests.factories import Org, make_account
from tests.sales.helpers import act, product, push, quote

pytestmark = pytest.mark.usefixtures("clean_database")


async def test_a_quote_is_numbered_and_priced_by_the_server(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org, price=12_345, limit_bp=1000)
    body = await quote(
        client,
        org.rep_a,
        account,
        [
            {"productId": line_product, "quantity": 3, "discountBp": 1000},
            {"productId": line_product, "quantity": 1, "unitPriceCents": 10_000},
        ],
        validUntil="2099-12-31",
    )
    year = datetime.datetime.now(tz=datetime.UTC).year
    assert body["number"] == f"Q-{year}-00001"
    assert body["state"] == "draft"
    assert body["revision"] == 1
    first, second = body["lines"]
    # 3 x 123.45 = 370.35, 10 % off = 37.035 -> 37.04 (half up); 333.31 left.
    assert (first["discountCents"], first["totalCents"]) == (3704, 33_331)
    assert second["totalCents"] == 10_000
    assert body["totalCents"] == 43_331
    assert body["listTotalCents"] == 4 * 12_345
    # (49,380 - 43,331) / 49,380 = 12.2499 % -> 1225 bp
    assert body["discountBp"] == 1225
    again = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 1}])
    assert again["number"] == f"Q-{year}-00002"


async def test_concurrent_creates_get_distinct_consecutive_numbers(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org)

    async def one() -> httpx.Response:
        body = {"accountId": str(account), "lines": [{"productId": line_product, "quantity": 1}]}
        return await client.post("/api/quotes", json=body, headers=org.rep_a.headers)

    responses = await asyncio.gather(*(one() for _ in range(20)))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    numbers = sorted(int(r.json()["number"].rsplit("-", 1)[1]) for r in responses)
    assert numbers == list(range(1, 21))


async def test_a_new_year_restarts_the_numbers_and_a_failed_create_leaves_no_gap(org: Org) -> None:
    rep = await org.actor("rep_a")
    account = await make_account(org, "rep_a")
    in_2026 = datetime.datetime(2026, 12, 31, 23, 59, tzinfo=datetime.UTC)
    in_2027 = datetime.datetime(2027, 1, 1, 0, 1, tzinfo=datetime.UTC)
    a = await quote_services.create_quote(actor=rep, data=QuoteCreate(account_id=account), now=in_2026)
    with pytest.raises(InvalidInput, match="no product"):  # rolled back: the number goes back too
        await quote_services.create_quote(actor=rep, data=_with_bad_line(account), now=in_2026)
    b = await quote_services.create_quote(actor=rep, data=QuoteCreate(account_id=account), now=in_2026)
    c = await quote_services.create_quote(actor=rep, data=QuoteCreate(account_id=account), now=in_2027)
    assert (a.number, b.number, c.number) == ("Q-2026-00001", "Q-2026-00002", "Q-2027-00001")


def _with_bad_line(account: uuid.UUID) -> QuoteCreate:
    from fieldcrm.sales.schemas import QuoteLineIn

    return QuoteCreate(account_id=account, lines=[QuoteLineIn(product_id=uuid.uuid4(), quantity=1)])


async def test_a_price_change_does_not_alter_existing_quotes(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org, price=5_000)
    before = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 2}])
    r = await client.patch(
        f"/api/products/{line_product}", json={"listPriceCents": 7_000, "name": "新名字"}, headers=org.hq.headers
    )
    assert r.status_code == 200, r.text
    after = (await client.get(f"/api/quotes/{before['id']}", headers=org.rep_a.headers)).json()
    assert after["totalCents"] == before["totalCents"] == 10_000
    assert after["lines"][0]["listPriceCents"] == 5_000
    assert after["lines"][0]["productName"] == before["lines"][0]["productName"]
    newer = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 2}])
    assert newer["totalCents"] == 14_000


async def test_only_a_draft_can_be_edited(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org)
    body = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 1}])
    url = f"/api/quotes/{body['id']}"
    r = await client.patch(url, json={"lines": [{"productId": line_product, "quantity": 4}]}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert r.json()["totalCents"] == 40_000
    await _force_state(body["id"], "submitted")
    r = await client.patch(url, json={"title": "late"}, headers=org.rep_a.headers)
    assert r.status_code == 409
    assert "only a draft can be edited" in r.json()["detail"]


async def _force_state(quote_id: str, state: str) -> None:
    await QuoteRow.update({QuoteRow.state: state}).where(QuoteRow.id == uuid.UUID(quote_id))


STATES = ("draft", "submitted", "approved", "rejected", "returned", "sent", "accepted", "expired")
LEGAL = {
    ("draft", "submit"): "submitted",
    ("submitted", "withdraw"): "draft",
    ("returned", "reopen"): "draft",
    ("approved", "send"): "sent",
    ("sent", "accept"): "accepted",
    ("approved", "expire"): "expired",
    ("sent", "expire"): "expired",
}
ACTIONS = ("submit", "withdraw", "reopen", "send", "accept", "expire", "approve", "reject", "return")


async def test_every_transition_is_legal_or_a_409_with_the_reason(org: Org) -> None:
    """Table-driven: every state x every action, through the service (the REST door calls the same)."""
    from fieldcrm.lib.errors import Conflict
    from fieldcrm.sales import catalogue
    from fieldcrm.sales.schemas import ProductCreate, QuoteLineIn

    hq, rep = await org.actor("hq"), await org.actor("rep_a")
    # A product whose discounts need no approval, so submit approves at once when the engine routes it.
    item = await catalogue.create_product(
        actor=hq, data=ProductCreate(code="TBL1", name="table", list_price_cents=100, max_discount_bp=0)
    )
    account = await make_account(org, "rep_a")
    problems: list[str] = []
    for state in STATES:
        for action in ACTIONS:
            created = await quote_services.create_quote(
                actor=rep, data=QuoteCreate(account_id=account, lines=[QuoteLineIn(product_id=item.id, quantity=1)])
            )
            await _force_state(str(created.id), state)
            expected = LEGAL.get((state, action))
            try:
                result = await quote_services.transition(
                    actor=rep,
                    quote_id=created.id,
                    data=QuoteTransition(action=action),  # type: ignore[arg-type]
                )
            except Conflict as exc:
                if expected is not None:
                    problems.append(f"{state} --{action}--> expected {expected}, got 409 {exc.message}")
                elif state not in exc.message and action not in {"approve", "reject", "return"}:
                    problems.append(f"{state} --{action}--> 409 without naming the state: {exc.message}")
                continue
            if expected is None:
                problems.append(f"{state} --{action}--> expected 409, got {result.state}")
            elif action == "submit":
                if result.state not in {"submitted", "approved"}:
                    problems.append(f"{state} --submit--> {result.state}")
            elif result.state != expected:
                problems.append(f"{state} --{action}--> expected {expected}, got {result.state}")
    assert not problems, "\n".join(problems)


async def test_an_illegal_transition_answers_409_over_http(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org)
    body = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 1}])
    r = await act(client, org.rep_a, body["id"], "send")
    assert r.status_code == 409
    assert "draft" in r.json()["detail"] and "submit" in r.json()["detail"]
    r = await act(client, org.manager_a, body["id"], "approve")
    assert r.status_code == 409
    assert "approval workflow" in r.json()["detail"]
    r = await act(client, org.rep_a, body["id"], "teleport")
    assert r.status_code == 400


async def test_submitting_needs_lines_and_a_validity_in_the_future(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    empty = await quote(client, org.rep_a, account, [])
    r = await act(client, org.rep_a, empty["id"], "submit")
    assert r.status_code == 422
    assert "no lines" in r.json()["detail"]
    line_product = await product(client, org)
    stale = await quote(
        client, org.rep_a, account, [{"productId": line_product, "quantity": 1}], validUntil="2020-01-01"
    )
    r = await act(client, org.rep_a, stale["id"], "submit")
    assert r.status_code == 422
    assert r.json()["field"] == "validUntil"


async def test_an_offline_edit_after_submission_becomes_a_new_draft_revision(
    client: httpx.AsyncClient, org: Org
) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org, price=10_000, limit_bp=0)
    body = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 1}], title="v1")
    device = uuid.uuid4()
    # Edited on the phone while still a draft: applies in place.
    result = await push(
        client,
        org.rep_a,
        device,
        [{"id": 1, "name": "quote.update", "args": {"id": body["id"], "changes": {"title": "v1b"}}}],
    )
    assert result["results"][0]["status"] == "applied"
    assert (await client.get(f"/api/quotes/{body['id']}", headers=org.rep_a.headers)).json()["title"] == "v1b"
    await _force_state(body["id"], "submitted")
    changes = {"title": "v2", "lines": [{"productId": line_product, "quantity": 5, "discountBp": 200}]}
    result = await push(
        client, org.rep_a, device, [{"id": 2, "name": "quote.update", "args": {"id": body["id"], "changes": changes}}]
    )
    outcome = result["results"][0]
    assert outcome["status"] == "applied"
    assert outcome["code"] == "revised"
    assert "revision 2" in outcome["message"]
    revision_id = outcome["conflicts"]["state"]["revisionId"]
    original = (await client.get(f"/api/quotes/{body['id']}", headers=org.rep_a.headers)).json()
    assert (original["state"], original["title"], original["totalCents"]) == ("submitted", "v1b", 10_000)
    revision = (await client.get(f"/api/quotes/{revision_id}", headers=org.rep_a.headers)).json()
    assert revision["number"] == original["number"]
    assert (revision["revision"], revision["state"], revision["previousId"]) == (2, "draft", body["id"])
    assert (revision["title"], revision["totalCents"]) == ("v2", 49_000)
    listed = (await client.get("/api/quotes", params={"number": original["number"]}, headers=org.rep_a.headers)).json()
    assert listed["total"] == 2


async def test_a_revision_keeps_the_prices_it_was_made_with(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org, price=1_000)
    body = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 1}])
    await _force_state(body["id"], "rejected")
    await client.patch(f"/api/products/{line_product}", json={"listPriceCents": 2_000}, headers=org.hq.headers)
    r = await client.post(f"/api/quotes/{body['id']}/revisions", headers=org.rep_a.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["revision"], r.json()["state"], r.json()["totalCents"]) == (2, "draft", 1_000)
    r = await client.post(f"/api/quotes/{r.json()['id']}/revisions", headers=org.rep_a.headers)
    assert r.status_code == 409


async def test_the_print_page_is_escaped_and_in_the_reps_language(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a", name="<script>alert(1)</script>客户")
    line_product = await product(client, org, price=123_456, name="专线 & <b>100M</b>")
    body = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 2}], notes="<img src=x>")
    r = await client.get(f"/api/quotes/{body['id']}/print", headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>100M</b>" not in page and "&amp; &lt;b&gt;" in page
    assert "<img src=x>" not in page
    assert "报价单" in page and "¥2,469.12" in page and "@media print" in page
    english = (
        await client.get(f"/api/quotes/{body['id']}/print", params={"lang": "en"}, headers=org.rep_a.headers)
    ).text
    assert "Quotation" in english and "Total" in english
    r = await client.get(f"/api/quotes/{body['id']}/print", headers=org.rep_c.headers)
    assert r.status_code == 404


async def test_quotes_are_scoped_by_the_account_owner(client: httpx.AsyncClient, org: Org) -> None:
    line_product = await product(client, org)
    mine = await quote(
        client, org.rep_a, await make_account(org, "rep_a"), [{"productId": line_product, "quantity": 1}]
    )
    theirs = await quote(
        client, org.rep_c, await make_account(org, "rep_c"), [{"productId": line_product, "quantity": 1}]
    )
    seen: dict[str, set[str]] = {}
    for who in ("rep_a", "rep_a2", "manager_a", "manager_b", "director", "manager_c", "hq"):
        r = await client.get("/api/quotes", headers=org.people[who].headers)
        assert r.status_code == 200, r.text
        seen[who] = {i["id"] for i in r.json()["items"]}
    a, c = mine["id"], theirs["id"]
    expected: dict[str, set[Any]] = {
        "rep_a": {a},
        "rep_a2": set(),
        "manager_a": {a},
        "manager_b": set(),
        "director": {a},
        "manager_c": {c},
        "hq": {a, c},
    }
    assert seen == expected
    r = await client.get(f"/api/quotes/{c}", headers=org.manager_a.headers)
    assert r.status_code == 404


async def test_the_worker_expires_approved_and_sent_quotes_past_their_validity(
    client: httpx.AsyncClient, org: Org
) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org)
    made = {}
    for state in ("approved", "sent", "draft", "accepted"):
        body = await quote(
            client, org.rep_a, account, [{"productId": line_product, "quantity": 1}], validUntil="2026-06-30"
        )
        await _force_state(body["id"], state)
        made[state] = body["id"]
    assert await quote_services.expire_due(today=datetime.date(2026, 6, 30)) == 0
    assert await quote_services.expire_due(today=datetime.date(2026, 7, 1)) == 2
    states = {
        state: (await client.get(f"/api/quotes/{quote_id}", headers=org.rep_a.headers)).json()["state"]
        for state, quote_id in made.items()
    }
    assert states == {"approved": "expired", "sent": "expired", "draft": "draft", "accepted": "accepted"}


async def test_quotes_and_cases_join_the_account_timeline(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line_product = await product(client, org, price=250_000)
    body = await quote(client, org.rep_a, account, [{"productId": line_product, "quantity": 2}])
    r = await client.post(
        "/api/cases",
        json={"accountId": str(account), "type": "complaint", "title": "账单多扣费"},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 201, r.text
    overview = (await client.get(f"/api/accounts/{account}/overview", headers=org.manager_a.headers)).json()
    by_kind = {item["kind"]: item for item in overview["timeline"]}
    assert by_kind["quote"]["title"] == f"{body['number']} draft"
    assert by_kind["quote"]["detail"] == "¥5,000.00"
    assert by_kind["case.complaint"]["title"] == "账单多扣费"


async def test_the_catalogue_is_searched_and_codes_are_unique(client: httpx.AsyncClient, org: Org) -> None:
    await product(client, org, code="IOT-CARD", name="物联网卡")
    await product(client, org, code="DIA-100M", name="互联网专线 100M")
    retired = await product(client, org, code="OLD-ADSL", name="ADSL")
    r = await client.patch(f"/api/products/{retired}", json={"active": False}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    listed = (await client.get("/api/products", params={"q": "专线"}, headers=org.rep_a.headers)).json()
    assert [p["code"] for p in listed["items"]] == ["DIA-100M"]
    listed = (await client.get("/api/products", params={"q": "iot"}, headers=org.rep_a.headers)).json()
    assert [p["code"] for p in listed["items"]] == ["IOT-CARD"]
    assert (await client.get("/api/products", headers=org.rep_a.headers)).json()["total"] == 2
    body = {"code": "IOT-CARD", "name": "dup", "listPriceCents": 1}
    r = await client.post("/api/products", json=body, headers=org.hq.headers)
    assert r.status_code == 409 and r.json()["field"] == "code"
    account = await make_account(org, "rep_a")
    r = await client.post(
        "/api/quotes",
        json={"accountId": str(account), "lines": [{"productId": retired, "quantity": 1}]},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 422 and "no longer sold" in r.json()["detail"]
