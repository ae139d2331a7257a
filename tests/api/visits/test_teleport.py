"""Impossible travel whichever check-in arrives first: a late arrival is judged against its neighbours on both
sides by fix time, and both ends of an impossible pair go to review and out of coverage."""

import datetime
import uuid
from typing import Any

import httpx

from tests.api.visits.helpers import JINAN, check_in, iso, now
from tests.factories import Org, make_account

WUHAN = (30.5928, 114.3055)  # 719 km from the Jinan pin


async def _pins(org: Org) -> tuple[uuid.UUID, uuid.UUID]:
    jinan = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1], visit_radius_m=300)
    wuhan = await make_account(org, "rep_a", latitude=WUHAN[0], longitude=WUHAN[1], visit_radius_m=300)
    return jinan, wuhan


async def _visit(client: httpx.AsyncClient, org: Org, visit_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/visits/{visit_id}", headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def _queue(client: httpx.AsyncClient, org: Org) -> set[str]:
    r = await client.get("/api/visits", params={"review": "pending", "limit": 100}, headers=org.manager_a.headers)
    assert r.status_code == 200, r.text
    return {v["id"] for v in r.json()["items"]}


def _impossible(visit: dict[str, Any]) -> bool:
    return any(f["code"] == "impossible_travel" for f in visit["flags"])


async def test_the_later_check_in_arriving_first_is_caught_when_the_earlier_arrives(
    client: httpx.AsyncClient, org: Org
) -> None:
    jinan, wuhan = await _pins(org)
    t = now() - datetime.timedelta(minutes=30)
    later = await check_in(client, org.rep_a, wuhan, WUHAN, at=t + datetime.timedelta(minutes=2.6), fix_age_s=0)
    assert later["verdict"] == "verified" and later["countsForCoverage"]
    # the earlier check-in comes from an offline queue (or a second phone) through sync, after the later one
    push = {
        "clientId": str(uuid.uuid4()),
        "mutations": [
            {
                "id": 1,
                "name": "visit.checkin",
                "capturedAt": iso(t),
                "args": {
                    "id": str(uuid.uuid4()),
                    "accountId": str(jinan),
                    "latitude": JINAN[0],
                    "longitude": JINAN[1],
                    "accuracyM": 20,
                    "fixAt": iso(t),
                },
            }
        ],
    }
    r = await client.post("/api/sync/push", json={**push, "sentAt": iso(now())}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "applied", r.text
    earlier = await _visit(client, org, push["mutations"][0]["args"]["id"])  # type: ignore[index]
    later = await _visit(client, org, later["id"])
    for visit in (earlier, later):
        assert _impossible(visit), visit["flags"]
        assert visit["reviewStatus"] == "pending" and not visit["countsForCoverage"]
    assert {earlier["id"], later["id"]} <= await _queue(client, org)
    # neither account was visited as far as coverage is concerned
    for account in (jinan, wuhan):
        r = await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)
        assert r.json()["lastVisitedOn"] is None, r.json()


async def test_in_time_order_both_ends_of_the_pair_go_to_review(client: httpx.AsyncClient, org: Org) -> None:
    jinan, wuhan = await _pins(org)
    t = now() - datetime.timedelta(minutes=30)
    first = await check_in(client, org.rep_a, jinan, JINAN, at=t, fix_age_s=0)
    second = await check_in(client, org.rep_a, wuhan, WUHAN, at=t + datetime.timedelta(minutes=2.6), fix_age_s=0)
    assert _impossible(second)
    first = await _visit(client, org, first["id"])
    assert _impossible(first) and first["reviewStatus"] == "pending" and not first["countsForCoverage"]
    assert {first["id"], second["id"]} <= await _queue(client, org)


async def test_a_late_arrival_between_two_plausible_neighbours_stays_clean(client: httpx.AsyncClient, org: Org) -> None:
    jinan, _ = await _pins(org)
    t = now() - datetime.timedelta(hours=3)
    first = await check_in(client, org.rep_a, jinan, JINAN, at=t, fix_age_s=0)
    last = await check_in(client, org.rep_a, jinan, JINAN, at=t + datetime.timedelta(hours=2), fix_age_s=0)
    middle = await check_in(client, org.rep_a, jinan, JINAN, at=t + datetime.timedelta(hours=1), fix_age_s=0)
    assert middle["flags"] == [] and middle["countsForCoverage"]
    for visit in (first, last):
        again = await _visit(client, org, visit["id"])
        assert again["flags"] == [] and again["reviewStatus"] == "none"
