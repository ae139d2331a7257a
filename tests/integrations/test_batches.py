"""Billing batches: all or nothing, idempotent by id, per-row errors, the row limit."""

from fieldcrm.accounts.tables import Holding, Revenue
from fieldcrm.contracts.tables import Bill, Payment
from fieldcrm.integrations.tables import BillingBatch
from tests.factories import make_account
from tests.integrations.conftest import make_service_account

URL = "/api/integrations/billing/batches/"


def _batch(code: str, *, amount: int = 120000) -> dict:
    return {
        "bills": [
            {
                "billNumber": "B-2026-11-1",
                "accountCode": code,
                "period": "2026-11",
                "amountDueCents": amount,
                "dueOn": "2026-12-20",
            },
            {
                "billNumber": "B-2026-10-1",
                "accountCode": code,
                "period": "2026-10",
                "amountDueCents": 99000,
                "paidCents": 99000,
                "dueOn": "2026-11-20",
            },
        ],
        "payments": [
            {
                "paymentRef": "P-1",
                "accountCode": code,
                "billNumber": "B-2026-10-1",
                "amountCents": 99000,
                "paidOn": "2026-11-18",
            }
        ],
        "holdings": [{"accountCode": code, "productCode": "DL-100M", "product": "专线 100M", "quantity": 2}],
        "revenue": [{"accountCode": code, "month": "2026-11", "amountCents": amount}],
    }


async def _setup(client, org):
    await make_account(org, code="SD-0001")
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["billing:write"])
    return sa["headers"]


async def test_a_batch_is_applied_once_and_answers_the_same_again(client, org):
    headers = await _setup(client, org)
    r = await client.put(URL + "2026-12-04-a", json=_batch("SD-0001"), headers=headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["bills"] == {"inserted": 2, "updated": 0, "unchanged": 0}
    assert first["payments"]["inserted"] == 1 and first["holdings"]["inserted"] == 1
    assert first["revenue"]["inserted"] == 1
    assert first["submittedBy"] == "BOSS (service account)"
    bills = {b["bill_number"]: b for b in await Bill.select()}
    assert bills["B-2026-11-1"]["status"] == "open" and bills["B-2026-10-1"]["status"] == "paid"
    # The same body again (keys in another order): the first result, nothing written twice.
    reordered = {k: _batch("SD-0001")[k] for k in ("revenue", "holdings", "payments", "bills")}
    r = await client.put(URL + "2026-12-04-a", json=reordered, headers=headers)
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["replayed"] is True
    assert {k: v for k, v in again.items() if k != "replayed"} == {k: v for k, v in first.items() if k != "replayed"}
    assert await Bill.count() == 2 and await Payment.count() == 1 and await Holding.count() == 1
    assert await BillingBatch.count() == 1


async def test_a_different_body_under_the_same_id_is_409(client, org):
    headers = await _setup(client, org)
    assert (await client.put(URL + "b-1", json=_batch("SD-0001"), headers=headers)).status_code == 200
    r = await client.put(URL + "b-1", json=_batch("SD-0001", amount=1), headers=headers)
    assert r.status_code == 409, r.text
    assert "different body" in r.json()["detail"]
    assert (await Bill.select().where(Bill.bill_number == "B-2026-11-1").first())["amount_due_cents"] == 120000


async def test_upserts_by_the_billing_codes_under_a_new_batch_id(client, org):
    headers = await _setup(client, org)
    assert (await client.put(URL + "b-1", json=_batch("SD-0001"), headers=headers)).status_code == 200
    r = await client.put(URL + "b-2", json=_batch("SD-0001", amount=130000), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["bills"] == {"inserted": 0, "updated": 1, "unchanged": 1}
    assert r.json()["revenue"] == {"inserted": 0, "updated": 1, "unchanged": 0}
    assert await Bill.count() == 2
    assert (await Revenue.select(Revenue.amount_cents).first())["amount_cents"] == 130000


async def test_a_bad_row_applies_nothing_and_names_the_row_and_field(client, org):
    headers = await _setup(client, org)
    batch = _batch("SD-0001")
    batch["bills"].append(
        {"billNumber": "B-X", "accountCode": "NOPE", "period": "2026-11", "amountDueCents": 1, "dueOn": "2026-12-01"}
    )
    batch["payments"][0]["amountCents"] = "lots"
    r = await client.put(URL + "b-bad", json=batch, headers=headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    errors = {(e["section"], e["row"], e["field"]) for e in problem["errors"]}
    assert errors == {("bills", 3, "accountCode"), ("payments", 1, "amountCents")}
    assert "bills row 3 (accountCode)" in problem["detail"]
    assert await Bill.count() == 0 and await Holding.count() == 0 and await Revenue.count() == 0
    assert await BillingBatch.count() == 0
    # The corrected batch under the same id is accepted: a rejected batch was not recorded.
    r = await client.put(URL + "b-bad", json=_batch("SD-0001"), headers=headers)
    assert r.status_code == 200, r.text


async def test_a_payment_must_name_a_bill_of_its_account(client, org):
    headers = await _setup(client, org)
    await make_account(org, code="SD-0002")
    batch = _batch("SD-0001")
    batch["payments"][0]["accountCode"] = "SD-0002"
    r = await client.put(URL + "b-1", json=batch, headers=headers)
    assert r.status_code == 422
    assert [(e["section"], e["field"]) for e in r.json()["errors"]] == [("payments", "billNumber")]


async def test_more_than_10000_rows_is_413_naming_the_limit(client, org):
    headers = await _setup(client, org)
    row = {"accountCode": "SD-0001", "month": "2026-11", "amountCents": 1}
    r = await client.put(URL + "big", json={"revenue": [row] * 10_001}, headers=headers)
    assert r.status_code == 413, r.text
    assert r.json()["limit"] == 10_000
    assert "at most 10000 rows" in r.json()["detail"]


async def test_the_result_can_be_read_back(client, org):
    headers = await _setup(client, org)
    await client.put(URL + "b-1", json=_batch("SD-0001"), headers=headers)
    r = await client.get(URL + "b-1", headers=headers)
    assert r.status_code == 200 and r.json()["batchId"] == "b-1"
    assert (await client.get(URL + "b-unknown", headers=headers)).status_code == 404
