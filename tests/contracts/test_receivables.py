"""Bills, arrears aging in the business time zone, collection tasks once per bill, collection contacts."""

import datetime
import uuid

from fieldcrm.contracts import receivables
from fieldcrm.contracts.config import ContractSettings, use_contract_settings
from fieldcrm.contracts.tables import Bill
from fieldcrm.integrations import batches
from fieldcrm.lib.pagination import PageParams
from fieldcrm.tasks.tables import Task
from tests.factories import make_account
from tests.sales.helpers import push

PAGE = PageParams(limit=50, offset=0)


def utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)


async def _bills(org, rows: list[tuple[str, str, int, int, str]], batch_id: str = "b-1") -> None:
    """(bill number, account code, due, paid, due date) applied through a billing batch."""
    hq = await org.actor("hq")
    body = {
        "bills": [
            {
                "billNumber": n,
                "accountCode": code,
                "period": due_on[:7],
                "amountDueCents": due,
                "paidCents": paid,
                "dueOn": due_on,
            }
            for n, code, due, paid, due_on in rows
        ]
    }
    await batches.apply_batch(actor=hq, batch_id=batch_id, body=body)


async def test_aging_turns_at_midnight_in_the_business_time_zone(org):
    await make_account(org, code="A1")
    await _bills(org, [("B1", "A1", 10_000, 2_500, "2026-11-20")])
    rep = await org.actor("rep_a")
    # 23:59 on the 20th in Shanghai is 15:59 UTC: still current; a minute later it is one day overdue.
    before = receivables.business_today(utc(2026, 11, 20, 15, 59))
    after = receivables.business_today(utc(2026, 11, 20, 16, 0))
    assert (before, after) == (datetime.date(2026, 11, 20), datetime.date(2026, 11, 21))
    page = await receivables.arrears(actor=rep, page=PAGE, min_days=0, today=before)
    assert page.items[0].aging.current_cents == 7_500 and page.items[0].aging.d1_30_cents == 0
    assert (await receivables.arrears(actor=rep, page=PAGE, today=before)).total == 0  # nothing overdue yet
    page = await receivables.arrears(actor=rep, page=PAGE, today=after)
    assert page.total == 1 and page.items[0].days_overdue == 1 and page.items[0].aging.d1_30_cents == 7_500


async def test_aging_buckets_at_their_edges(org):
    await make_account(org, code="A1")
    due = datetime.date(2026, 8, 1)
    await _bills(org, [("B1", "A1", 100, 0, due.isoformat())])
    rep = await org.actor("rep_a")
    expected = {0: "current", 1: "1-30", 30: "1-30", 31: "31-60", 60: "31-60", 61: "61-90", 90: "61-90", 91: "90+"}
    field = {
        "current": "current_cents",
        "1-30": "d1_30_cents",
        "31-60": "d31_60_cents",
        "61-90": "d61_90_cents",
        "90+": "d90_plus_cents",
    }
    for days, bucket in expected.items():
        assert receivables.bucket_of(days) == bucket
        on = due + datetime.timedelta(days=days)
        page = await receivables.arrears(actor=rep, page=PAGE, min_days=0, totals=True, today=on)
        aging = page.items[0].aging
        assert getattr(aging, field[bucket]) == 100 and aging.total_cents == 100, (days, aging)
        assert page.scope_total.total_cents == 100


async def test_arrears_hold_the_scope_and_page(client, org):
    await make_account(org, "rep_a", code="A1")
    await make_account(org, "rep_b", code="B1")
    await make_account(org, "rep_c", code="C1")
    await _bills(
        org,
        [
            ("X1", "A1", 1_000, 0, "2026-01-10"),
            ("X2", "B1", 2_000, 0, "2026-01-05"),
            ("X3", "C1", 3_000, 0, "2026-01-01"),
            ("X4", "A1", 500, 500, "2026-01-01"),  # paid: not in arrears
        ],
    )
    seen = {}
    for who in ("rep_a", "manager_a", "director", "hq"):
        params = {"limit": 2, "totals": "true"}
        r = await client.get("/api/bills/arrears", params=params, headers=org.people[who].headers)
        assert r.status_code == 200, r.text
        body = r.json()
        seen[who] = (body["total"], [i["accountCode"] for i in body["items"]], body["scopeTotal"]["totalCents"])
    assert seen["rep_a"] == (1, ["A1"], 1_000)
    assert seen["manager_a"] == (1, ["A1"], 1_000)
    assert seen["director"] == (2, ["B1", "A1"], 3_000)
    assert seen["hq"] == (3, ["C1", "B1"], 6_000)
    r = await client.get("/api/bills/arrears", params={"limit": 2, "offset": 2}, headers=org.hq.headers)
    assert [i["accountCode"] for i in r.json()["items"]] == ["A1"] and r.json()["nextCursor"] is None
    r = await client.get("/api/bills/arrears", params={"limit": 2, "offset": 4, "totals": "1"}, headers=org.hq.headers)
    assert r.json()["items"] == [] and r.json()["total"] == 3 and r.json()["scopeTotal"]["totalCents"] == 6_000
    assert (await client.get("/api/bills/arrears", headers=org.hq.headers)).json()["scopeTotal"] is None
    r = await client.get("/api/bills", params={"unpaid": "true"}, headers=org.rep_a.headers)
    assert [b["billNumber"] for b in r.json()["items"]] == ["X1"]


async def test_a_collection_task_is_made_once_per_bill(org):
    use_contract_settings(ContractSettings(collection_age_days=30))
    try:
        await make_account(org, "rep_a", code="A1")
        await _bills(org, [("B1", "A1", 10_000, 0, "2026-10-01"), ("B2", "A1", 5_000, 0, "2026-11-15")])
        # 30 days past due on 31 October in Shanghai: B1 only.
        assert await receivables.open_collection_tasks(now=utc(2026, 10, 30, 15, 0)) == 0
        assert await receivables.open_collection_tasks(now=utc(2026, 10, 30, 16, 0)) == 1
        assert await receivables.open_collection_tasks(now=utc(2026, 11, 2)) == 0
        tasks = await Task.select().where(Task.kind == "collection")
        assert len(tasks) == 1 and str(tasks[0]["assignee"]) == str(org.rep_a.id)
        assert "B1" in tasks[0]["title"]
        # The bill stays unpaid: still one task; B2 gets its own when it is old enough.
        assert await receivables.open_collection_tasks(now=utc(2026, 12, 20)) == 1
        assert await Task.count().where(Task.kind == "collection") == 2
        assert (await Bill.select(Bill.collection_task_at).where(Bill.bill_number == "B2").first())[
            "collection_task_at"
        ] is not None
    finally:
        use_contract_settings(None)


async def test_collection_contacts_by_rest_and_offline(client, org):
    account = await make_account(org, "rep_a", code="A1")
    r = await client.post(
        "/api/collections", json={"accountId": str(account), "kind": "promise"}, headers=org.rep_a.headers
    )
    assert r.status_code == 422 and r.json()["field"] == "promisedOn"
    r = await client.post(
        "/api/collections", json={"accountId": str(account), "kind": "dispute"}, headers=org.rep_a.headers
    )
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = await client.post(
        "/api/collections",
        json={"accountId": str(account), "kind": "dispute", "reason": "发票抬头错误"},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 201, r.text
    record = {
        "id": str(uuid.uuid4()),
        "accountId": str(account),
        "kind": "promise",
        "promisedOn": "2026-12-10",
        "promisedCents": 5_000,
        "capturedAt": "2026-12-04T02:00:00Z",
    }
    mutation = {"id": 1, "name": "collection.record", "args": record, "capturedAt": "2026-12-04T02:00:00Z"}
    device = uuid.uuid4()
    result = await push(client, org.rep_a, device, [mutation])
    assert result["results"][0]["status"] == "applied", result
    again = await push(client, org.rep_a, device, [mutation])  # the same mutation again: skipped, nothing doubled
    assert again["results"][0]["status"] in {"applied", "skipped", "duplicate"}, again
    r = await client.get("/api/collections", params={"accountId": str(account)}, headers=org.rep_a.headers)
    assert r.json()["total"] == 2
    assert {i["kind"] for i in r.json()["items"]} == {"promise", "dispute"}
    r = await client.get("/api/collections", headers=org.rep_b.headers)
    assert r.json()["total"] == 0


async def test_a_broken_promise_creates_a_follow_up_task(client, org):
    account = await make_account(org, "rep_a", code="A1")
    await _bills(org, [("B1", "A1", 10_000, 0, "2026-11-01")])
    today = receivables.business_today()
    for days, cents in ((5, 5_000), (6, 3_000)):
        promised = (today + datetime.timedelta(days=days)).isoformat()
        r = await client.post(
            "/api/collections",
            json={"accountId": str(account), "kind": "promise", "promisedOn": promised, "promisedCents": cents},
            headers=org.rep_a.headers,
        )
        assert r.status_code == 201, r.text
    hq = await org.actor("hq")
    payment = {"paymentRef": "P1", "accountCode": "A1", "amountCents": 3_000, "paidOn": today.isoformat()}
    await batches.apply_batch(actor=hq, batch_id="pay-1", body={"payments": [payment]})
    # Neither promise date has passed yet.
    settled = await receivables.settle_promises(now=datetime.datetime.combine(today, datetime.time(4), datetime.UTC))
    assert settled == {"kept": 0, "broken": 0}
    later = datetime.datetime.combine(today + datetime.timedelta(days=10), datetime.time(4), datetime.UTC)
    settled = await receivables.settle_promises(now=later)
    assert settled == {"kept": 1, "broken": 1}
    assert await receivables.settle_promises(now=later) == {"kept": 0, "broken": 0}
    tasks = await Task.select().where(Task.kind == "collection")
    assert len(tasks) == 1 and "5,000.00" not in tasks[0]["title"] and "50.00" in tasks[0]["title"]
