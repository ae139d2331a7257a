"""Value tiers A/B/C from trailing-12-month revenue: the Pareto cut, the window, overrides, audit, the HTTP door."""

import datetime
import json
from typing import Any

from fieldcrm.accounts import services as account_services
from fieldcrm.accounts.schemas import RevenueMonth, RevenuePut
from fieldcrm.accounts.segmentation import run_segmentation, tiers
from fieldcrm.accounts.tables import SegmentationRun
from tests.factories import make_account

YUAN = 100
# Shares of a 100-unit total. Before T03 the ranking holds 75% (A), before T04 exactly 80% (B),
# before T07 exactly 95% (C). T03 and T04 tie on revenue: the code decides who ranks first.
PARETO = {
    "T01": 50,
    "T02": 25,
    "T04": 5,
    "T03": 5,
    "T05": 5,
    "T06": 5,
    "T07": 3,
    "T08": 1,
    "T09": 1,
    "T10": 0,
}
EXPECTED = {
    "T01": "A",
    "T02": "A",
    "T03": "A",
    "T04": "B",
    "T05": "B",
    "T06": "B",
    "T07": "C",
    "T08": "C",
    "T09": "C",
    "T10": "C",
}


async def _revenue(org: Any, account_id: Any, months: dict[str, int]) -> None:
    hq = await org.actor("hq")
    data = RevenuePut(months=[RevenueMonth(month=m, amount_cents=c) for m, c in months.items()])
    await account_services.put_revenue(actor=hq, account_id=account_id, data=data)


async def _pareto(org: Any) -> dict[str, Any]:
    ids = {}
    for code, units in PARETO.items():
        ids[code] = await make_account(org, "rep_a", code=code, name=f"客户{code}")
        cents = units * 1000 * YUAN
        # Split over the first and the last month of the window: both count.
        await _revenue(org, ids[code], {"2025-11": cents // 2, "2026-10": cents - cents // 2})
    return ids


async def _account(client: Any, org: Any, account_id: Any) -> dict[str, Any]:
    r = await client.get(f"/api/accounts/{account_id}", headers=org.hq.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_cutoffs_are_exact_on_integer_shares() -> None:
    ranked = tiers([("a", 80), ("b", 15), ("c", 5), ("d", 0)])
    assert [(t, i) for t, _, i in ranked] == [("A", 0), ("B", 1), ("C", 2), ("C", 3)]
    assert [s for _, s, _ in ranked] == [0.8, 0.95, 1.0, 1.0]
    assert tiers([("z", 0), ("y", 0)]) == [("C", 0.0, 1), ("C", 0.0, 0)]


async def test_pareto_tiers_at_exact_boundaries(client, org) -> None:
    ids = await _pareto(org)
    r = await client.post("/api/segmentation", headers=org.hq.headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["windowStart"] == "2025-11"
    assert result["windowEnd"] == "2026-10"
    assert result["accounts"] == 10
    assert result["totalCents"] == 100 * 1000 * YUAN
    assert (result["aCount"], result["bCount"], result["cCount"]) == (3, 3, 4)
    assert result["aMinCents"] == 5 * 1000 * YUAN
    assert result["changed"] == 10
    for code, account_id in ids.items():
        account = await _account(client, org, account_id)
        assert account["computedTier"] == EXPECTED[code], code
        assert account["tier"] == EXPECTED[code], code
        assert account["revenue12MCents"] == PARETO[code] * 1000 * YUAN
    overview = (await client.get(f"/api/accounts/{ids['T04']}/overview", headers=org.hq.headers)).json()
    assert overview["tier"]["cumulativeShare"] == 0.85
    assert overview["tier"]["windowEnd"] == "2026-10"
    assert overview["tier"]["reason"].startswith("B:")

    run = await SegmentationRun.select().first()
    summary = json.loads(run["summary"]) if isinstance(run["summary"], str) else run["summary"]
    assert summary["window_start"] == "2025-11-01"
    assert summary["window_end"] == "2026-10-01"
    assert summary["counts"] == {"A": 3, "B": 3, "C": 4}
    assert (await account_services.revenue_window()) == (datetime.date(2025, 11, 1), datetime.date(2026, 10, 1))


async def test_revenue_outside_the_window_and_deleted_accounts_do_not_count(client, org) -> None:
    big = await make_account(org, code="OLD1")
    small = await make_account(org, code="NEW1")
    gone = await make_account(org, code="GONE1")
    await _revenue(org, big, {"2025-10": 1_000_000 * YUAN, "2026-10": 10 * YUAN})  # 2025-10 is month 13
    await _revenue(org, small, {"2026-10": 90 * YUAN})
    await _revenue(org, gone, {"2026-10": 10_000 * YUAN})
    await account_services.delete_account(actor=await org.actor("hq"), account_id=gone)
    result = await run_segmentation(actor=None)
    assert result.accounts == 2
    assert result.total_cents == 100 * YUAN
    assert (await _account(client, org, small))["tier"] == "A"
    assert (await _account(client, org, big))["tier"] == "B"
    assert (await _account(client, org, big))["revenue12MCents"] == 10 * YUAN


async def test_override_survives_recomputation(client, org) -> None:
    ids = await _pareto(org)
    await run_segmentation(actor=None)
    r = await client.post(
        f"/api/accounts/{ids['T10']}/tier",
        headers=org.hq.headers,
        json={"tier": "A", "reason": "strategic: provincial government"},
    )
    assert r.status_code == 200, r.text
    await _revenue(org, ids["T09"], {"2026-10": 30 * 1000 * YUAN})  # T09 climbs to A and pushes T03 down to B
    result = await run_segmentation(actor=None)
    assert result.changed == 2
    assert (await _account(client, org, ids["T03"]))["tier"] == "B"
    override = await _account(client, org, ids["T10"])
    assert (override["tier"], override["computedTier"], override["tierOverride"]) == ("A", "C", "A")
    assert (await _account(client, org, ids["T09"]))["tier"] == "A"


async def test_audit_only_for_changed_computed_tiers(client, org) -> None:
    ids = await _pareto(org)
    await run_segmentation(actor=None)
    again = await run_segmentation(actor=None)
    assert again.changed == 0
    trail = (await client.get(f"/api/accounts/{ids['T01']}/audit", headers=org.hq.headers)).json()
    segments = [e for e in trail["items"] if e["action"] == "segment"]
    assert len(segments) == 1
    assert segments[0]["changes"]["computed_tier"] == [None, "A"]
    assert segments[0]["actorName"] == "system"
    before = (await _account(client, org, ids["T05"]))["version"]
    await run_segmentation(actor=None)
    assert (await _account(client, org, ids["T05"]))["version"] == before  # nothing changed, nothing written


async def test_without_revenue_everyone_is_c_and_the_window_ends_last_month(client, org) -> None:
    account_id = await make_account(org)
    result = await run_segmentation(actor=None)
    first = datetime.datetime.now(datetime.UTC).date().replace(day=1)
    last_month = (first - datetime.timedelta(days=1)).replace(day=1)
    assert result.window_end == last_month.strftime("%Y-%m")
    assert (result.c_count, result.total_cents) == (1, 0)
    assert (await _account(client, org, account_id))["tier"] == "C"


async def test_only_hq_runs_the_segmentation(client, org) -> None:
    for person in (org.rep_a, org.manager_a, org.director):
        r = await client.post("/api/segmentation", headers=person.headers)
        assert r.status_code == 403, r.text
