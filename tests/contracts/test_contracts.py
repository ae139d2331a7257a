"""Contracts: gap-free numbers under concurrency, quote -> contract exactly, the status machine, tariffs, documents."""

import asyncio
import datetime
import uuid

import pytest

from fieldcrm.contracts import renewals, services
from fieldcrm.contracts.config import ContractSettings, use_contract_settings
from fieldcrm.integrations.tables import WebhookDelivery
from fieldcrm.lib.db import write_transaction
from fieldcrm.tasks.tables import Task
from tests.contracts.helpers import accepted_quote, contract_of, product, sign
from tests.factories import make_account
from tests.sales.helpers import quote

T0 = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=datetime.UTC)


async def test_numbers_are_gap_free_per_year_under_concurrency(org):
    account = await make_account(org)
    rep = await org.actor("rep_a")

    # Twenty creators at once (four of them roll back after taking a number): the numbers stay 1..N without gaps.
    async def made(n: int) -> str | None:
        try:
            async with write_transaction():
                contract = await services.create_contract(
                    actor=rep, data=services.ContractCreate(account_id=account, title=f"c{n}")
                )
                if n % 5 == 4:
                    raise RuntimeError("rolled back")
                return contract.number
        except RuntimeError:
            return None

    numbers = [n for n in await asyncio.gather(*(made(n) for n in range(20))) if n is not None]
    assert len(numbers) == 16
    assert len({n[:7] for n in numbers}) == 1  # one year's series
    seqs = sorted(int(n[-5:]) for n in numbers)
    assert seqs == list(range(1, 17))


async def test_an_accepted_quote_drafts_its_contract_with_the_lines_exactly(client, org, receiver):
    r = await client.post(
        "/api/webhooks",
        json={"url": receiver.url, "secret": receiver.secret, "events": ["quote.accepted"]},
        headers=org.hq.headers,
    )
    assert r.status_code == 201, r.text
    account = await make_account(org)
    a = await product(client, org, price=12_345, limit_bp=2000)
    b = await product(client, org, price=99_999, limit_bp=2000)
    lines = [
        {"productId": a, "quantity": 3, "discountBp": 733},
        {"productId": b, "quantity": 7, "unitPriceCents": 88_881, "discountBp": 125},
    ]
    accepted = await accepted_quote(client, org, org.rep_a, account, lines)
    contract = await contract_of(client, org.rep_a, account)
    assert contract["status"] == "draft" and contract["quoteIds"] == [accepted["id"]]
    assert contract["number"].startswith("C-") and len(contract["number"]) == len("C-2026-00001")
    keys = ("productId", "productCode", "productName", "unit", "quantity", "listPriceCents", "unitPriceCents")
    keys += ("discountBp", "totalCents")
    assert [{k: line[k] for k in keys} for line in contract["lines"]] == [
        {k: line[k] for k in keys} for line in accepted["lines"]
    ]
    assert contract["totalCents"] == accepted["totalCents"]
    assert {t["productId"]: (t["priceCents"], t["discountBp"]) for t in contract["tariffs"]} == {
        a: (12_345, 733),
        b: (88_881, 125),
    }
    # The acceptance and its event share one transaction: the outbox holds quote.accepted.
    [event] = await WebhookDelivery.select(WebhookDelivery.event, WebhookDelivery.body)
    assert event["event"] == "quote.accepted" and contract["id"] in event["body"]


async def test_the_status_machine_answers_409_with_the_allowed_moves(client, org):
    account = await make_account(org)
    r = await client.post("/api/contracts", json={"accountId": str(account)}, headers=org.rep_a.headers)
    assert r.status_code == 201, r.text
    contract_id = r.json()["id"]
    r = await client.post(
        f"/api/contracts/{contract_id}/transitions", json={"action": "renew"}, headers=org.manager_a.headers
    )
    assert r.status_code == 409
    assert r.json()["allowed"] == ["sign"] and "allowed now: sign" in r.json()["detail"]
    # A rep drafts; signing is for leaders.
    r = await sign(client, org.rep_a, contract_id)
    assert r.status_code == 403
    r = await client.post(
        f"/api/contracts/{contract_id}/transitions",
        json={"action": "sign", "signatories": ["王总"]},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "signed" and body["signatories"] == ["王总"]
    assert body["allowedActions"] == ["activate", "terminate"]
    r = await client.patch(f"/api/contracts/{contract_id}", json={"title": "x"}, headers=org.manager_a.headers)
    assert r.status_code == 409


async def test_signing_needs_dates_and_emits_contract_signed(client, org):
    account = await make_account(org)
    r = await client.post("/api/contracts", json={"accountId": str(account)}, headers=org.rep_a.headers)
    contract_id = r.json()["id"]
    r = await client.post(
        f"/api/contracts/{contract_id}/transitions",
        json={"action": "sign", "signatories": ["王总"]},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 422 and r.json()["field"] == "startOn"
    assert (await sign(client, org.manager_a, contract_id)).status_code == 200


async def test_an_agreed_tariff_starts_a_new_quote(client, org):
    account = await make_account(org)
    p = await product(client, org, price=10_000, limit_bp=500)
    r = await client.post(
        "/api/contracts",
        json={"accountId": str(account), "tariffs": [{"productId": p, "priceCents": 8_000}]},
        headers=org.rep_a.headers,
    )
    contract_id = r.json()["id"]
    draft_quote = await quote(client, org.rep_a, account, [{"productId": p, "quantity": 2}])
    assert draft_quote["lines"][0]["unitPriceCents"] == 10_000  # a draft contract's tariff is not in force
    assert (await sign(client, org.manager_a, contract_id, start="2026-01-01", end="2027-12-31")).status_code == 200
    new_quote = await quote(client, org.rep_a, account, [{"productId": p, "quantity": 2}])
    line = new_quote["lines"][0]
    assert line["unitPriceCents"] == 8_000 and line["listPriceCents"] == 10_000
    assert line["totalCents"] == 16_000
    # A price given on the line wins over the tariff.
    priced = await quote(client, org.rep_a, account, [{"productId": p, "quantity": 1, "unitPriceCents": 9_000}])
    assert priced["lines"][0]["unitPriceCents"] == 9_000


async def test_the_renewal_window_opens_per_tier_with_one_task(client, org):
    use_contract_settings(ContractSettings(renewal_days="A=90,B=60,C=45", renewal_days_default=30))
    try:
        account = await make_account(org)
        r = await client.post("/api/contracts", json={"accountId": str(account)}, headers=org.rep_a.headers)
        contract_id = r.json()["id"]
        assert (await sign(client, org.manager_a, contract_id, start="2026-01-01", end="2026-12-31")).status_code == 200
        # The account has no tier: 30 days. 1 December in Shanghai is 30 days before the end.
        assert (await renewals.run_calendar(now=datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.UTC)))[
            "expiring"
        ] == 0
        moved = await renewals.run_calendar(now=datetime.datetime(2026, 11, 30, 16, 30, tzinfo=datetime.UTC))
        assert moved["activated"] == 0 and moved["expiring"] == 1
        c = (await client.get(f"/api/contracts/{contract_id}", headers=org.rep_a.headers)).json()
        assert c["status"] == "expiring" and c["renewalOpenedAt"] is not None
        await renewals.run_calendar(now=datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC))
        tasks = await Task.select().where(Task.source == "contract")
        assert len(tasks) == 1 and str(tasks[0]["assignee"]) == str(org.rep_a.id)
        assert "C-" in tasks[0]["title"]
        # Past the end without a renewal: ended.
        assert (await renewals.run_calendar(now=datetime.datetime(2027, 1, 1, 1, tzinfo=datetime.UTC)))["ended"] == 1
    finally:
        use_contract_settings(None)


async def test_documents_are_checked_by_content_and_stored_by_hash(client, org):
    account = await make_account(org)
    r = await client.post("/api/contracts", json={"accountId": str(account)}, headers=org.rep_a.headers)
    contract_id = r.json()["id"]
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 4
    r = await client.post(
        f"/api/contracts/{contract_id}/documents?filename=signed.pdf",
        content=pdf,
        headers={**org.rep_a.headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 201, r.text
    [doc] = r.json()["documents"]
    assert doc["mediaType"] == "application/pdf" and doc["filename"] == "signed.pdf" and doc["size"] == len(pdf)
    r = await client.get(f"/api/contracts/{contract_id}/documents/{doc['id']}", headers=org.rep_a.headers)
    assert r.status_code == 200 and r.content == pdf
    r = await client.post(
        f"/api/contracts/{contract_id}/documents?filename=evil.pdf",
        content=b"MZ\x90\x00 not a pdf",
        headers={**org.rep_a.headers, "Content-Type": "application/pdf"},
    )
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = await client.get(f"/api/contracts/{contract_id}/documents/{uuid.uuid4()}", headers=org.rep_a.headers)
    assert r.status_code == 404


async def test_contracts_follow_the_account_scope(client, org):
    mine = await make_account(org, "rep_a")
    r = await client.post("/api/contracts", json={"accountId": str(mine)}, headers=org.rep_a.headers)
    contract_id = r.json()["id"]
    for who, status in (("rep_a", 200), ("manager_a", 200), ("rep_b", 404), ("manager_b", 404), ("hq", 200)):
        r = await client.get(f"/api/contracts/{contract_id}", headers=org.people[who].headers)
        assert r.status_code == status, (who, r.text)
    r = await client.get(f"/api/accounts/{mine}/commercial", headers=org.rep_a.headers)
    assert r.status_code == 200 and r.json()["contracts"][0]["id"] == contract_id


@pytest.fixture(autouse=True)
def _reset_settings():
    yield
    use_contract_settings(None)
