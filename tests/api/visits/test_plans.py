"""Visit plans, the day's order and route, check-out, the visit log, photos and account locations."""

import datetime
import io
import random
import uuid

import pytest
from PIL import Image

from fieldcrm.visits import routing
from fieldcrm.visits.services import business_today
from tests.api.visits.helpers import JINAN, check_in, now, offset
from tests.factories import make_account, make_contact


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 200)).save(out, format=fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


async def _plan(client, person, account, on=None, **extra):
    body = {"accountId": str(account), "date": (on or business_today()).isoformat(), "purpose": "拜访", **extra}
    r = await client.post("/api/visit-plans", json=body, headers=person.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_route_is_never_longer_than_the_planned_order():
    rng = random.Random(7)
    for _ in range(150):
        n = rng.randint(2, routing.MAX_ROUTE_STOPS)
        stops = [offset(JINAN, rng.uniform(0, 30_000), rng.uniform(0, 360)) for _ in range(n)]
        start = offset(JINAN, rng.uniform(0, 30_000), rng.uniform(0, 360)) if rng.random() < 0.7 else None
        m = routing._matrix([*stops, start] if start else stops)
        origin = n if start else None
        order = routing.route(start, stops)
        assert sorted(order) == list(range(n))
        routed = routing.path_length(order, m, origin)
        assert routed <= routing.path_length(list(range(n)), m, origin) + 1e-6
        nearest = routing.nearest_first(start, stops) if start else list(range(n))
        assert routed <= routing.path_length(nearest, m, origin) + 1e-6


def test_route_refuses_more_than_25_stops():
    stops = [offset(JINAN, 100 * i) for i in range(26)]
    with pytest.raises(ValueError, match="25"):
        routing.route(None, stops)


async def test_todays_plan_nearest_first_and_as_a_route(client, org):
    # Four customers on a line east of the rep, planned in a zig-zag order.
    points = [offset(JINAN, d) for d in (8_000, 2_000, 6_000, 4_000)]
    accounts = [await make_account(org, "rep_a", latitude=p[0], longitude=p[1]) for p in points]
    unpinned = await make_account(org, "rep_a")
    for account in [*accounts, unpinned]:
        await _plan(client, org.rep_a, account)
    here = {"lat": JINAN[0], "lon": JINAN[1]}
    planned = (await client.get("/api/visit-plans/day", params=here, headers=org.rep_a.headers)).json()
    assert [i["accountId"] for i in planned["items"]] == [str(a) for a in [*accounts, unpinned]]
    nearest = (
        await client.get("/api/visit-plans/day", params={**here, "order": "nearest"}, headers=org.rep_a.headers)
    ).json()
    expected = [accounts[1], accounts[3], accounts[2], accounts[0], unpinned]
    assert [i["accountId"] for i in nearest["items"]] == [str(a) for a in expected]
    assert nearest["items"][-1]["distanceM"] is None  # no pin, no distance: last
    routed = (
        await client.get("/api/visit-plans/day", params={**here, "order": "route"}, headers=org.rep_a.headers)
    ).json()
    assert [i["accountId"] for i in routed["items"]] == [str(a) for a in expected]
    assert 7_900 < routed["totalDistanceM"] < 8_100
    assert routed["plannedDistanceM"] > routed["totalDistanceM"]
    missing = await client.get("/api/visit-plans/day", params={"order": "nearest"}, headers=org.rep_a.headers)
    assert missing.status_code == 422 and "position" in missing.json()["detail"]


async def test_a_check_in_fulfils_the_plan_and_unvisited_plans_show_as_missed(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    plan = await _plan(client, org.rep_a, account)
    assert plan["status"] == "planned"
    visit = await check_in(client, org.rep_a, account, JINAN)
    assert visit["planId"] == plan["id"]
    day = (await client.get("/api/visit-plans/day", headers=org.rep_a.headers)).json()
    assert day["items"][0]["status"] == "done" and day["items"][0]["visitId"] == visit["id"]
    # Yesterday's plan that nobody visited shows as missed today.
    yesterday = business_today() - datetime.timedelta(days=1)
    late = await _plan(client, org.rep_a, account, on=yesterday)
    assert late["status"] == "missed"
    missed = await client.get("/api/visit-plans", params={"status": "missed"}, headers=org.rep_a.headers)
    assert [p["id"] for p in missed.json()["items"]] == [late["id"]]


async def test_managers_plan_for_their_reps_only(client, org):
    account = await make_account(org, "rep_a")
    ok = await client.post(
        "/api/visit-plans",
        json={"accountId": str(account), "date": business_today().isoformat(), "ownerId": str(org.rep_a.id)},
        headers=org.manager_a.headers,
    )
    assert ok.status_code == 201 and ok.json()["ownerId"] == str(org.rep_a.id)
    other = await client.post(
        "/api/visit-plans",
        json={"accountId": str(account), "date": business_today().isoformat(), "ownerId": str(org.rep_a2.id)},
        headers=org.rep_a.headers,
    )
    assert other.status_code == 403
    past = await client.post(
        "/api/visit-plans",
        json={"accountId": str(account), "date": (business_today() - datetime.timedelta(days=30)).isoformat()},
        headers=org.rep_a.headers,
    )
    assert past.status_code == 422


async def test_plans_move_and_cancel_but_not_once_done(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    plan = await _plan(client, org.rep_a, account, on=business_today() + datetime.timedelta(days=2))
    url = f"/api/visit-plans/{plan['id']}"
    moved = await client.patch(url, json={"date": business_today().isoformat()}, headers=org.rep_a.headers)
    assert moved.json()["date"] == business_today().isoformat()
    cancelled = await client.patch(url, json={"cancelled": True}, headers=org.rep_a.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.get("/api/visit-plans/day", headers=org.rep_a.headers)).json()["items"] == []
    plan2 = await _plan(client, org.rep_a, account)
    await check_in(client, org.rep_a, account, JINAN)
    done = await client.patch(f"/api/visit-plans/{plan2['id']}", json={"purpose": "x"}, headers=org.rep_a.headers)
    assert done.status_code == 409


async def test_check_out_records_the_duration_once(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    start = now() - datetime.timedelta(minutes=50)
    visit = await check_in(client, org.rep_a, account, JINAN, at=start)
    url = f"/api/visits/{visit['id']}/checkout"
    body = {"deviceAt": (start + datetime.timedelta(minutes=35)).isoformat(), "sentAt": now().isoformat()}
    out = await client.post(url, json=body, headers=org.rep_a.headers)
    assert out.status_code == 200, out.text
    assert 34 * 60 <= out.json()["durationS"] <= 36 * 60
    again = await client.post(url, json={"deviceAt": now().isoformat()}, headers=org.rep_a.headers)
    assert again.json()["durationS"] == out.json()["durationS"]
    manager = await client.post(url, json={"deviceAt": now().isoformat()}, headers=org.manager_a.headers)
    assert manager.status_code == 403


async def test_the_visit_log_and_its_follow_up_plan(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    contact = await make_contact(org, account, name="王芳")
    stranger = await make_contact(org, await make_account(org, "rep_a"), name="路人")
    visit = await check_in(client, org.rep_a, account, JINAN)
    url = f"/api/visits/{visit['id']}/log"
    follow = business_today() + datetime.timedelta(days=7)
    body = {
        "purpose": "续约洽谈",
        "outcome": "客户愿意续约",
        "contactIds": [str(contact)],
        "notes": "需要新报价",
        "nextStep": "发送报价",
        "followUpDate": follow.isoformat(),
    }
    r = await client.put(url, json=body, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert r.json()["contactIds"] == [str(contact)] and r.json()["followUpDate"] == follow.isoformat()
    plans = (
        await client.get("/api/visit-plans", params={"from": follow.isoformat()}, headers=org.rep_a.headers)
    ).json()
    assert [(p["date"], p["purpose"]) for p in plans["items"]] == [(follow.isoformat(), "发送报价")]
    later = follow + datetime.timedelta(days=3)
    await client.put(url, json={**body, "followUpDate": later.isoformat()}, headers=org.rep_a.headers)
    plans = (
        await client.get("/api/visit-plans", params={"from": follow.isoformat()}, headers=org.rep_a.headers)
    ).json()
    assert [p["date"] for p in plans["items"]] == [later.isoformat()]  # moved, not doubled
    bad = await client.put(url, json={**body, "contactIds": [str(stranger)]}, headers=org.rep_a.headers)
    assert bad.status_code == 422 and "contacts" in bad.json()["detail"]
    earlier = await client.put(url, json={**body, "followUpDate": "2020-01-01"}, headers=org.rep_a.headers)
    assert earlier.status_code == 422
    history = (
        await client.get("/api/visits", params={"accountId": str(account)}, headers=org.manager_a.headers)
    ).json()
    assert history["items"][0]["outcome"] == "客户愿意续约"


async def test_a_photo_is_stored_by_hash_and_checked(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    visit = await check_in(client, org.rep_a, account, JINAN)
    url = f"/api/visits/{visit['id']}/photo"
    r = await client.put(url, content=PNG, headers={**org.rep_a.headers, "Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    assert r.json()["hasPhoto"] and len(r.json()["photoSha256"]) == 64
    got = await client.get(url, headers=org.manager_a.headers)
    assert got.status_code == 200 and got.headers["content-type"].startswith("image/png")
    assert Image.open(io.BytesIO(got.content)).size == (32, 24)  # stored re-encoded: the same picture
    assert (await client.get(url, headers=org.manager_b.headers)).status_code == 404
    jpeg = await client.put(url, content=JPEG, headers={**org.rep_a.headers, "Content-Type": "image/jpeg"})
    assert jpeg.status_code == 200
    gif = await client.put(
        url, content=b"GIF89a" + bytes(10), headers={**org.rep_a.headers, "Content-Type": "image/gif"}
    )
    assert gif.status_code == 422 and "image/jpeg or image/png" in gif.json()["detail"]
    fake = await client.put(url, content=b"not a png", headers={**org.rep_a.headers, "Content-Type": "image/png"})
    assert fake.status_code == 422
    big = await client.put(
        url, content=JPEG[:4] + bytes(5 * 1024 * 1024 + 10), headers={**org.rep_a.headers, "Content-Type": "image/jpeg"}
    )
    assert big.status_code == 413
    last = (await client.get(url, headers=org.rep_a.headers)).content  # the last good photo stays
    assert Image.open(io.BytesIO(last)).format == "JPEG"


async def test_an_unpinned_account_gets_a_proposed_location_a_manager_confirms(client, org):
    account = await make_account(org, "rep_a")
    spot = offset(JINAN, 1_000)
    visit = await check_in(client, org.rep_a, account, spot, accuracy=15)
    assert visit["verdict"] == "unverified" and visit["reviewStatus"] == "pending"
    assert (await client.get("/api/location-proposals", headers=org.rep_a.headers)).status_code == 403
    proposals = (await client.get("/api/location-proposals", headers=org.manager_a.headers)).json()
    assert [p["accountId"] for p in proposals["items"]] == [str(account)]
    proposal = proposals["items"][0]
    assert abs(proposal["latitude"] - spot[0]) < 1e-9
    r = await client.post(
        f"/api/location-proposals/{proposal['id']}/decision",
        json={"decision": "confirm"},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    pinned = (await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)).json()
    assert abs(pinned["latitude"] - spot[0]) < 1e-9
    assert pinned["lastVisitedOn"] is not None  # the first check-in now counts
    again = (await client.get(f"/api/visits/{visit['id']}", headers=org.rep_a.headers)).json()
    assert again["verdict"] == "verified" and again["countsForCoverage"] and again["reviewStatus"] == "none"
    trail = (await client.get(f"/api/accounts/{account}/audit", headers=org.manager_a.headers)).json()
    assert any(e["action"] == "locate" for e in trail["items"])


async def test_only_leaders_move_a_pin_and_say_why(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    rep = await client.patch(
        f"/api/accounts/{account}", json={"latitude": 30.0, "longitude": 114.3}, headers=org.rep_a.headers
    )
    assert rep.status_code == 403
    url = f"/api/accounts/{account}/location"
    no_reason = await client.post(url, json={"latitude": 36.7, "longitude": 117.0}, headers=org.manager_a.headers)
    assert no_reason.status_code in {400, 422}
    ok = await client.post(
        url,
        json={"latitude": 36.7, "longitude": 117.0, "reason": "moved to the new campus"},
        headers=org.manager_a.headers,
    )
    assert ok.status_code == 200 and ok.json()["latitude"] == 36.7
    trail = (await client.get(f"/api/accounts/{account}/audit", headers=org.manager_a.headers)).json()
    locate = next(e for e in trail["items"] if e["action"] == "locate")
    assert "moved to the new campus" in str(locate)
    assert (
        await client.post(url, json={"latitude": 1, "longitude": 1, "reason": "xyz"}, headers=org.rep_a.headers)
    ).status_code == 403


async def test_visits_are_scoped_like_their_accounts(client, org):
    mine = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    visit = await check_in(client, org.rep_a, mine, JINAN)
    for person, seen in (
        (org.rep_a, True),
        (org.rep_a2, False),
        (org.manager_a, True),
        (org.manager_b, False),
        (org.hq, True),
    ):
        r = await client.get(f"/api/visits/{visit['id']}", headers=person.headers)
        assert r.status_code == (200 if seen else 404), person.username
        listed = (await client.get("/api/visits", headers=person.headers)).json()
        assert (visit["id"] in [v["id"] for v in listed["items"]]) is seen
    assert uuid.UUID(visit["userId"]) == org.rep_a.id


async def test_visits_join_the_account_timeline(client, org):
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    visit = await check_in(client, org.rep_a, account, JINAN)
    await client.put(
        f"/api/visits/{visit['id']}/log", json={"purpose": "季度回访", "outcome": "满意"}, headers=org.rep_a.headers
    )
    overview = (await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)).json()
    visits = [i for i in overview["timeline"] if i["kind"] == "visit"]
    assert [(v["title"], v["detail"], v["data"]["verdict"]) for v in visits] == [("季度回访", "满意", "verified")]
