"""Check-ins: the verdict and the flags on labelled fixtures, genuine traces, review, idempotency, offline."""

import datetime
import random
import uuid

from tests.api.visits.helpers import JINAN, check_in, flag_codes, iso, now, offset
from tests.factories import make_account


async def _account_at(org, point, owner="rep_a", radius=300, **fields):
    return await make_account(org, owner, latitude=point[0], longitude=point[1], visit_radius_m=radius, **fields)


async def test_a_check_in_within_the_radius_is_verified_and_counts(client, org):
    account = await _account_at(org, JINAN)
    visit = await check_in(client, org.rep_a, account, offset(JINAN, 120), accuracy=25)
    assert visit["verdict"] == "verified"
    assert 110 < visit["distanceM"] < 130
    assert visit["flags"] == [] and visit["reviewStatus"] == "none" and visit["countsForCoverage"]
    got = await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)
    assert got.json()["lastVisitedOn"] == visit["checkedInAt"][:10] or got.json()["lastVisitedOn"] is not None


async def test_radius_plus_accuracy_is_the_limit(client, org):
    account = await _account_at(org, JINAN, radius=200)
    inside = await check_in(client, org.rep_a, account, offset(JINAN, 240), accuracy=50)
    outside = await check_in(client, org.rep_a, account, offset(JINAN, 2_000), accuracy=50, at=now())
    assert inside["verdict"] == "verified"
    assert outside["verdict"] == "out_of_range" and outside["reviewStatus"] == "pending"
    assert not outside["countsForCoverage"]


async def test_labelled_fixtures_are_each_flagged(client, org):
    account = await _account_at(org, JINAN)
    t0 = now() - datetime.timedelta(hours=6)

    poor = await check_in(client, org.rep_a, account, JINAN, accuracy=2_000, at=t0)
    assert poor["verdict"] == "low_accuracy" and poor["reviewStatus"] == "pending"

    nowhere = await check_in(client, org.rep_a, account, None, at=t0 + datetime.timedelta(minutes=5))
    assert nowhere["verdict"] == "unverified" and nowhere["reviewStatus"] == "pending"

    stale = await check_in(client, org.rep_a, account, JINAN, at=t0 + datetime.timedelta(minutes=20), fix_age_s=600)
    assert "stale_fix" in flag_codes(stale) and stale["reviewStatus"] == "pending"

    ahead = now() + datetime.timedelta(hours=3)
    skewed = await check_in(client, org.rep_a2, await _account_at(org, JINAN, "rep_a2"), JINAN, at=ahead, sent_at=ahead)
    assert "clock_skew" in flag_codes(skewed)
    assert abs(skewed["clockSkewS"] - 3 * 3600) < 120
    # The server puts the check-in at its own time, not the phone's.
    assert abs(datetime.datetime.fromisoformat(skewed["checkedInAt"]) - now()) < datetime.timedelta(minutes=2)

    far = await _account_at(org, JINAN, radius=300)
    out = await check_in(client, org.rep_a, far, offset(JINAN, 5_000), at=t0 + datetime.timedelta(minutes=40))
    assert out["verdict"] == "out_of_range" and out["reviewStatus"] == "pending"


async def test_a_300_km_jump_in_10_minutes_is_impossible_travel(client, org):
    jinan = await _account_at(org, JINAN)
    far_point = offset(JINAN, 300_000)
    far = await _account_at(org, far_point)
    t0 = now() - datetime.timedelta(hours=1)
    first = await check_in(client, org.rep_a, jinan, JINAN, at=t0)
    second = await check_in(client, org.rep_a, far, far_point, at=t0 + datetime.timedelta(minutes=10))
    assert first["flags"] == []
    assert "impossible_travel" in flag_codes(second)
    assert second["verdict"] == "verified"  # at the site, yet the journey there was impossible
    assert second["reviewStatus"] == "pending" and not second["countsForCoverage"]
    # The same jump in four hours is a plausible drive.
    later = await check_in(client, org.rep_a, jinan, JINAN, at=t0 + datetime.timedelta(hours=4, minutes=10))
    assert "impossible_travel" not in flag_codes(later)


async def test_identical_fixes_on_five_days_are_all_flagged(client, org):
    account = await _account_at(org, JINAN)
    spot = (36.6512345, 117.1209876)
    visits = []
    for day in range(5, 0, -1):
        at = now() - datetime.timedelta(days=day)
        visits.append(await check_in(client, org.rep_a, account, spot, at=at, sent_at=now()))
    assert visits[0]["flags"] == []  # alone when it came in ...
    for visit in visits[1:]:
        assert "repeated_coordinates" in flag_codes(visit)
    for visit in visits:  # ... and flagged once the repeats arrived
        again = (await client.get(f"/api/visits/{visit['id']}", headers=org.rep_a.headers)).json()
        assert "repeated_coordinates" in flag_codes(again), again
        assert again["reviewStatus"] == "pending" and not again["countsForCoverage"]
    got = await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)
    assert got.json()["lastVisitedOn"] is None  # none of them counts until a manager accepts one


def _genuine_traces(rng, sites, traces=50):
    """Days of real field work: 4-7 customers in a city, driving between them, GPS jitter, slightly-off clocks."""
    days = []
    start = now() - datetime.timedelta(days=traces + 2)
    for d in range(traces):
        clock = start + datetime.timedelta(days=d, hours=rng.uniform(0, 2))
        skew = rng.uniform(-30, 30)
        stops = []
        for site in rng.sample(sites, rng.randint(4, 7)):
            account, centre = site
            accuracy = rng.choice([rng.uniform(4, 20), rng.uniform(20, 65)])
            # Where the rep stands: somewhere in the customer's building or car park ...
            standing = offset(centre, rng.uniform(0, 120), rng.uniform(0, 360))
            # ... and where the phone thinks it is: off by a normal error of about the reported accuracy.
            fix = offset(standing, abs(rng.gauss(0, accuracy / 2)), rng.uniform(0, 360))
            stops.append((account, fix, accuracy, clock, skew, rng.uniform(1, 25)))
            clock += datetime.timedelta(minutes=rng.uniform(45, 110))  # the visit, then a city drive
        days.append(stops)
    return days


async def test_genuine_traces_are_rarely_flagged(client, org):
    rng = random.Random(20261124)
    sites = []
    for _ in range(20):
        centre = offset(JINAN, rng.uniform(0, 12_000), rng.uniform(0, 360))
        sites.append((await _account_at(org, centre), centre))
    flagged, total = 0, 0
    for stops in _genuine_traces(rng, sites):
        for account, fix, accuracy, at, skew, fix_age in stops:
            device = at + datetime.timedelta(seconds=skew)
            visit = await check_in(
                client,
                org.rep_a,
                account,
                (round(fix[0], 7), round(fix[1], 7)),
                accuracy=round(accuracy, 1),
                at=device,
                fix_age_s=fix_age,
                sent_at=now() + datetime.timedelta(seconds=skew),
            )
            total += 1
            flagged += visit["reviewStatus"] == "pending"
    assert total >= 200
    assert flagged / total <= 0.02, f"{flagged} of {total} genuine check-ins flagged"


async def test_the_same_id_twice_makes_one_visit(client, org):
    account = await _account_at(org, JINAN)
    body = {
        "id": str(uuid.uuid4()),
        "accountId": str(account),
        "latitude": JINAN[0],
        "longitude": JINAN[1],
        "accuracyM": 10,
        "deviceAt": iso(now()),
    }
    first = await client.post("/api/checkins", json=body, headers=org.rep_a.headers)
    again = await client.post("/api/checkins", json=body, headers=org.rep_a.headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    listed = await client.get("/api/visits", params={"accountId": str(account)}, headers=org.rep_a.headers)
    assert listed.json()["total"] == 1
    stolen = await client.post("/api/checkins", json=body, headers=org.rep_a2.headers)
    assert stolen.status_code in {404, 409}


async def test_bad_check_ins_get_clear_errors(client, org):
    account = await _account_at(org, JINAN)
    base = {"id": str(uuid.uuid4()), "accountId": str(account), "deviceAt": iso(now())}
    for body, field in (
        ({**base, "latitude": 95, "longitude": 117}, "latitude"),
        ({**base, "latitude": 36.6}, "latitude"),
        ({**base, "latitude": 36.6, "longitude": 117.1, "accuracyM": -5}, "accuracyM"),
        ({"accountId": str(account), "deviceAt": iso(now())}, "id"),
    ):
        r = await client.post("/api/checkins", json=body, headers=org.rep_a.headers)
        assert r.status_code in {400, 422}, r.text
        assert field in r.text
    other = await _account_at(org, JINAN, owner="rep_b")
    r = await client.post("/api/checkins", json={**base, "accountId": str(other)}, headers=org.rep_a.headers)
    assert r.status_code == 404


async def test_review_accept_counts_and_reject_needs_a_reason(client, org):
    account = await _account_at(org, JINAN)
    doubtful = await check_in(client, org.rep_a, account, offset(JINAN, 3_000))
    queue = await client.get("/api/visits/review", headers=org.manager_a.headers)
    assert [v["id"] for v in queue.json()["items"]] == [doubtful["id"]]
    assert (await client.get("/api/visits/review", headers=org.manager_b.headers)).json()["total"] == 0
    assert (await client.get("/api/visits/review", headers=org.rep_a.headers)).status_code == 403
    url = f"/api/visits/{doubtful['id']}/review"
    no_reason = await client.post(url, json={"decision": "reject"}, headers=org.manager_a.headers)
    assert no_reason.status_code == 422 and "why" in no_reason.json()["detail"]
    ok = await client.post(
        url, json={"decision": "accept", "comment": "met at their new site"}, headers=org.manager_a.headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["reviewStatus"] == "accepted" and ok.json()["countsForCoverage"]
    assert ok.json()["reviewedByName"]
    twice = await client.post(url, json={"decision": "accept"}, headers=org.manager_a.headers)
    assert twice.status_code == 409
    got = await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)
    assert got.json()["lastVisitedOn"] is not None
    trail = await client.get(f"/api/accounts/{account}/audit", headers=org.manager_a.headers)
    assert any(e["action"] == "review" for e in trail.json()["items"])


async def test_nobody_reviews_their_own_check_in(client, org):
    account = await _account_at(org, JINAN, owner="manager_a")
    own = await check_in(client, org.manager_a, account, offset(JINAN, 3_000))
    r = await client.post(f"/api/visits/{own['id']}/review", json={"decision": "accept"}, headers=org.manager_a.headers)
    assert r.status_code == 403
    ok = await client.post(f"/api/visits/{own['id']}/review", json={"decision": "accept"}, headers=org.director.headers)
    assert ok.status_code == 200


async def test_check_in_offline_is_judged_on_arrival(client, org):
    account = await _account_at(org, JINAN)
    client_id = str(uuid.uuid4())
    visit_id = str(uuid.uuid4())
    captured = now() - datetime.timedelta(hours=5)
    push = {
        "clientId": client_id,
        "sentAt": iso(now()),
        "mutations": [
            {
                "id": 1,
                "name": "visit.checkin",
                "capturedAt": iso(captured),
                "args": {
                    "id": visit_id,
                    "accountId": str(account),
                    "latitude": JINAN[0],
                    "longitude": JINAN[1],
                    "accuracyM": 12,
                    "fixAt": iso(captured - datetime.timedelta(seconds=4)),
                },
            },
            {
                "id": 2,
                "name": "visit.log",
                "capturedAt": iso(captured + datetime.timedelta(minutes=30)),
                "args": {"visitId": visit_id, "purpose": "续约", "outcome": "客户同意续约两年", "nextStep": "报价"},
            },
            {
                "id": 3,
                "name": "visit.checkout",
                "capturedAt": iso(captured + datetime.timedelta(minutes=45)),
                "args": {"visitId": visit_id},
            },
        ],
    }
    r = await client.post("/api/sync/push", json=push, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 3
    visit = (await client.get(f"/api/visits/{visit_id}", headers=org.rep_a.headers)).json()
    assert visit["verdict"] == "verified" and visit["flags"] == []  # hours late, but the clock was right
    assert abs(datetime.datetime.fromisoformat(visit["checkedInAt"]) - captured) < datetime.timedelta(seconds=10)
    assert visit["outcome"] == "客户同意续约两年" and 44 * 60 <= visit["durationS"] <= 46 * 60
    again = await client.post("/api/sync/push", json=push, headers=org.rep_a.headers)
    assert [x["status"] for x in again.json()["results"]] == ["skipped"] * 3
    listed = await client.get("/api/visits", params={"accountId": str(account)}, headers=org.rep_a.headers)
    assert listed.json()["total"] == 1


async def test_an_offline_check_in_from_a_phone_with_a_wrong_clock_is_flagged(client, org):
    account = await _account_at(org, JINAN)
    wrong = now() + datetime.timedelta(hours=3)
    push = {
        "clientId": str(uuid.uuid4()),
        "sentAt": iso(wrong),
        "mutations": [
            {
                "id": 1,
                "name": "visit.checkin",
                "capturedAt": iso(wrong - datetime.timedelta(minutes=20)),
                "args": {
                    "id": str(uuid.uuid4()),
                    "accountId": str(account),
                    "latitude": JINAN[0],
                    "longitude": JINAN[1],
                    "accuracyM": 10,
                },
            }
        ],
    }
    r = await client.post("/api/sync/push", json=push, headers=org.rep_a.headers)
    assert r.json()["results"][0]["status"] == "applied"
    visit = (await client.get("/api/visits", params={"accountId": str(account)}, headers=org.rep_a.headers)).json()[
        "items"
    ][0]
    assert "clock_skew" in flag_codes(visit)
    assert abs(
        datetime.datetime.fromisoformat(visit["checkedInAt"]) - (now() - datetime.timedelta(minutes=20))
    ) < datetime.timedelta(minutes=2)
