"""The customer 360: one call with what an account manager needs before a visit."""

import datetime
import uuid

from fieldcrm.accounts import timeline
from fieldcrm.accounts.schemas import TimelineItem
from fieldcrm.lib.db import count_queries
from tests.factories import make_account, make_contact, make_holding


async def test_overview_has_profile_group_contacts_holdings_revenue_tier_and_timeline(client, org):
    group = await make_account(org, "rep_a", name="山东重工集团", code="GRP1")
    account = await make_account(org, "rep_a", name="山东重工济南分公司", code="M1", parent_id=group)
    await make_account(org, "rep_a", name="山东重工青岛分公司", code="M2", parent_id=group)
    await make_account(org, "rep_b", name="山东重工烟台分公司", code="M3", parent_id=group)  # another team's member
    await make_contact(org, account, name="刘总", decision_role="decision_maker", phones=["13800138000"])
    soon = datetime.date.today() + datetime.timedelta(days=30)
    later = datetime.date.today() + datetime.timedelta(days=400)
    ending = await make_holding(org, account, product="专线 1G", monthly_fee_cents=800_000, contract_end=soon)
    await make_holding(org, account, product="云主机", contract_end=later)
    months = [{"month": f"2026-{m:02d}", "amountCents": 100_000 * m} for m in range(1, 11)]
    put = await client.put(f"/api/accounts/{account}/revenue", json={"months": months}, headers=org.hq.headers)
    assert put.status_code == 200, put.text

    r = await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["account"]["name"] == "山东重工济南分公司"
    assert o["parent"]["code"] == "GRP1"
    assert [c["name"] for c in o["contacts"]] == ["刘总"]
    assert o["contacts"][0]["phones"] == ["13800138000"]
    assert len(o["holdings"]) == 2
    assert [h["id"] for h in o["contractsEndingSoon"]] == [str(ending)]
    assert o["contractsEndingSoon"][0]["endsInDays"] == 30
    assert len(o["revenueTrend"]) == 12
    assert o["tier"]["reason"]
    kinds = [item["kind"] for item in o["timeline"]]
    assert "account.create" in kinds and "contact.create" in kinds and "contract.end" in kinds
    assert [t["at"] for t in o["timeline"]] == sorted((t["at"] for t in o["timeline"]), reverse=True)

    group_view = (await client.get(f"/api/accounts/{group}/overview", headers=org.rep_a.headers)).json()
    assert {m["code"] for m in group_view["members"]} == {"M1", "M2"}  # M3 belongs to another team
    assert group_view["memberCount"] == 2
    hq_view = (await client.get(f"/api/accounts/{group}/overview", headers=org.hq.headers)).json()
    assert hq_view["memberCount"] == 3


async def test_overview_is_scoped(client, org):
    account = await make_account(org, "rep_b")
    assert (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).status_code == 404
    assert (await client.get(f"/api/accounts/{account}/overview", headers=org.manager_b.headers)).status_code == 200


async def test_overview_query_count_does_not_grow_with_data(client, org):
    account = await make_account(org, "rep_a")
    with count_queries() as empty:
        assert (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).status_code == 200
    for i in range(15):
        await make_contact(org, account, name=f"联系人{i}")
        await make_holding(org, account, product=f"产品{i}")
    with count_queries() as statements:
        r = await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)
    assert r.status_code == 200
    assert len(r.json()["contacts"]) == 15
    # One statement per source of the 360 (each timeline source is one), however many rows each holds.
    assert len(statements) == len(empty), statements
    assert len(statements) <= 14, statements


async def test_timeline_takes_new_sources_without_changes(client, org):
    account = await make_account(org, "rep_a")

    async def visits(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
        at = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
        return [TimelineItem(at=at, kind="visit.logged", title="visit", ref_id=account_id)]

    timeline.register("test-visits", visits)
    try:
        o = (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).json()
    finally:
        timeline._sources.pop("test-visits")
    assert o["timeline"][0]["kind"] == "visit.logged"


async def test_revenue_is_hq_only_and_validated(client, org):
    account = await make_account(org, "rep_a")
    body = {"months": [{"month": "2026-01", "amountCents": 100}]}
    assert (
        await client.put(f"/api/accounts/{account}/revenue", json=body, headers=org.rep_a.headers)
    ).status_code == 403
    bad = await client.put(
        f"/api/accounts/{account}/revenue",
        json={"months": [{"month": "2026-13", "amountCents": 1}]},
        headers=org.hq.headers,
    )
    assert bad.status_code == 400
    negative = await client.put(
        f"/api/accounts/{account}/revenue",
        json={"months": [{"month": "2026-01", "amountCents": -1}]},
        headers=org.hq.headers,
    )
    assert negative.status_code == 400
    # A month set twice keeps the last value.
    await client.put(f"/api/accounts/{account}/revenue", json=body, headers=org.hq.headers)
    body["months"][0]["amountCents"] = 250
    await client.put(f"/api/accounts/{account}/revenue", json=body, headers=org.hq.headers)
    got = (
        await client.get(f"/api/accounts/{account}/revenue", params={"months": 60}, headers=org.rep_a.headers)
    ).json()
    assert {"month": "2026-01", "amountCents": 250} in got


async def test_tier_override_needs_a_reason_and_is_hq_only(client, org):
    account = await make_account(org, "rep_a")
    url = f"/api/accounts/{account}/tier"
    assert (
        await client.post(url, json={"tier": "A", "reason": "战略客户"}, headers=org.manager_a.headers)
    ).status_code == 403
    no_reason = await client.post(url, json={"tier": "A"}, headers=org.hq.headers)
    assert no_reason.status_code == 422
    assert no_reason.json()["field"] == "reason"
    ok = await client.post(url, json={"tier": "A", "reason": "战略客户"}, headers=org.hq.headers)
    assert ok.status_code == 200
    assert ok.json()["tier"] == "A" and ok.json()["tierOverrideReason"] == "战略客户"
    o = (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).json()
    assert "战略客户" in o["tier"]["reason"]
    cleared = await client.post(url, json={"tier": None}, headers=org.hq.headers)
    assert cleared.json()["tierOverride"] is None
