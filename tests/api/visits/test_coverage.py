"""Coverage: status by tier target, shares by rep/team/city/province/HQ, the neglected list and the map."""

import datetime

import pytest

from fieldcrm.accounts import services as account_services
from fieldcrm.accounts.schemas import TierOverride
from tests.api.visits.helpers import JINAN, check_in, now, offset

WUHAN = (30.5928, 114.3055)

# owner, tier, days since the last verified visit (None: never), where
FIXTURE = [
    ("rep_a", "A", 3, "covered"),
    ("rep_a", "A", 12, "due_soon"),
    ("rep_a", "A", 20, "overdue"),
    ("rep_a", "B", None, "never"),
    ("rep_a", "C", 60, "covered"),
    ("rep_b", "B", 25, "due_soon"),
    ("rep_b", "B", 31, "overdue"),
    ("rep_b", "C", None, "never"),
    ("rep_c", "A", 1, "covered"),
    ("rep_c", "C", 100, "overdue"),
]


@pytest.fixture
async def covered(client, org):
    hq = await org.actor("hq")
    accounts = []
    for i, (owner, tier, days, status) in enumerate(FIXTURE):
        centre = WUHAN if owner == "rep_c" else JINAN
        spot = offset(centre, 1_000 + 150 * i, 36 * i)
        account = await account_services.create_account(actor=hq, data=_create(org, owner, i, spot))
        await account_services.override_tier(
            actor=hq, account_id=account.id, data=TierOverride(tier=tier, reason="test")
        )
        if days is not None:
            visit = await check_in(
                client, org.people[owner], account.id, spot, at=now() - datetime.timedelta(days=days)
            )
            assert visit["countsForCoverage"], visit
        accounts.append((account.id, owner, tier, days, status))
    return accounts


def _create(org, owner, i, spot):
    return account_services.AccountCreate(
        code=f"COV{i:03d}", name=f"覆盖 {i}", owner_id=org.people[owner].id, latitude=spot[0], longitude=spot[1]
    )


async def test_shares_by_every_grouping(client, org, covered):
    def rows(report):
        return {
            r["name"]: (r["accounts"], r["covered"], r["dueSoon"], r["overdue"], r["never"], r["coveredShare"])
            for r in report["rows"]
        }

    by_rep = (await client.get("/api/coverage", params={"groupBy": "rep"}, headers=org.hq.headers)).json()
    assert by_rep["targets"] == {"a": 14, "b": 30, "c": 90}
    assert rows(by_rep) == {
        "Rep A": (5, 2, 1, 1, 1, 0.6),
        "Rep B": (3, 0, 1, 1, 1, 0.3333),
        "Rep C": (2, 1, 0, 1, 0, 0.5),
    }
    assert [r["name"] for r in by_rep["rows"]] == ["Rep B", "Rep C", "Rep A"]  # worst first
    assert by_rep["total"]["accounts"] == 10 and by_rep["total"]["coveredShare"] == 0.5
    by_team = rows((await client.get("/api/coverage", params={"groupBy": "team"}, headers=org.hq.headers)).json())
    assert by_team == {
        "Jinan Team A": (5, 2, 1, 1, 1, 0.6),
        "Jinan Team B": (3, 0, 1, 1, 1, 0.3333),
        "Wuhan Team C": (2, 1, 0, 1, 0, 0.5),
    }
    by_city = rows((await client.get("/api/coverage", params={"groupBy": "city"}, headers=org.hq.headers)).json())
    assert by_city == {"济南 Jinan": (8, 2, 2, 2, 2, 0.5), "武汉 Wuhan": (2, 1, 0, 1, 0, 0.5)}
    by_province = rows(
        (await client.get("/api/coverage", params={"groupBy": "province"}, headers=org.hq.headers)).json()
    )
    assert by_province == {"山东省 Shandong": (8, 2, 2, 2, 2, 0.5), "湖北省 Hubei": (2, 1, 0, 1, 0, 0.5)}
    whole = rows((await client.get("/api/coverage", params={"groupBy": "hq"}, headers=org.hq.headers)).json())
    assert whole == {"总部 HQ": (10, 3, 2, 3, 2, 0.5)}


async def test_each_person_sees_the_coverage_of_their_scope(client, org, covered):
    manager = (await client.get("/api/coverage", headers=org.manager_a.headers)).json()
    assert [r["name"] for r in manager["rows"]] == ["Rep A"] and manager["total"]["accounts"] == 5
    director = (await client.get("/api/coverage", headers=org.director.headers)).json()
    assert director["total"]["accounts"] == 8
    rep = (await client.get("/api/coverage", params={"groupBy": "team"}, headers=org.rep_b.headers)).json()
    assert rep["total"]["accounts"] == 3
    bad = await client.get("/api/coverage", params={"groupBy": "planet"}, headers=org.hq.headers)
    assert bad.status_code in {400, 422}


async def test_the_neglected_list_is_worst_first(client, org, covered):
    page = (await client.get("/api/coverage/neglected", headers=org.hq.headers)).json()
    got = [(i["ownerName"], i["tier"], i["status"], i["daysOverdue"]) for i in page["items"]]
    assert got == [
        ("Rep A", "A", "overdue", 6),
        ("Rep A", "B", "never", None),
        ("Rep B", "B", "overdue", 1),
        ("Rep B", "C", "never", None),
        ("Rep C", "C", "overdue", 10),
    ]
    assert page["total"] == 5
    only_a = (await client.get("/api/coverage/neglected", params={"tier": "A"}, headers=org.hq.headers)).json()
    assert [i["tier"] for i in only_a["items"]] == ["A"]
    mine = (await client.get("/api/coverage/neglected", headers=org.rep_b.headers)).json()
    assert {i["ownerName"] for i in mine["items"]} == {"Rep B"} and mine["total"] == 2
    paged = (await client.get("/api/coverage/neglected", params={"limit": 2}, headers=org.hq.headers)).json()
    assert paged["nextCursor"] == "2" and len(paged["items"]) == 2


async def test_a_visit_moves_an_account_out_of_neglect_at_once(client, org, covered):
    account_id, *_ = next(a for a in covered if a[3] is None and a[1] == "rep_a")
    account = (await client.get(f"/api/accounts/{account_id}", headers=org.rep_a.headers)).json()
    await check_in(client, org.rep_a, account_id, (account["latitude"], account["longitude"]))
    page = (await client.get("/api/coverage/neglected", headers=org.hq.headers)).json()
    assert str(account_id) not in [i["accountId"] for i in page["items"]] and page["total"] == 4


CHINA = "73,18,135,54"


async def test_the_map_shows_hexagons_at_low_zoom_and_points_at_high_zoom(client, org, covered):
    hexes = (await client.get("/api/coverage/map", params={"bbox": CHINA, "zoom": 5}, headers=org.hq.headers)).json()
    assert hexes["mode"] == "hex" and hexes["resolution"] == 3
    assert sum(c["accounts"] for c in hexes["cells"]) == 10
    assert sum(c["covered"] for c in hexes["cells"]) == 5
    assert len(hexes["cells"]) >= 2  # Jinan and Wuhan are far apart
    for cell in hexes["cells"]:
        assert len(cell["boundary"]) == 6 and 0 <= cell["coveredShare"] <= 1
    province = (
        await client.get("/api/coverage/map", params={"bbox": "114,34,123,38.5", "zoom": 8}, headers=org.hq.headers)
    ).json()
    assert province["resolution"] == 5 and sum(c["accounts"] for c in province["cells"]) == 8
    box = f"{JINAN[1] - 0.1},{JINAN[0] - 0.1},{JINAN[1] + 0.1},{JINAN[0] + 0.1}"
    points = (await client.get("/api/coverage/map", params={"bbox": box, "zoom": 14}, headers=org.hq.headers)).json()
    assert points["mode"] == "points" and len(points["points"]) == 8 and not points["truncated"]
    expected = {str(a[0]): a[4] for a in covered if a[1] != "rep_c"}
    assert {p["accountId"]: p["status"] for p in points["points"]} == expected


async def test_map_filters_and_scope(client, org, covered):
    async def total(person, **params):
        r = await client.get("/api/coverage/map", params={"bbox": CHINA, "zoom": 4, **params}, headers=person.headers)
        assert r.status_code == 200, r.text
        return sum(c["accounts"] for c in r.json()["cells"])

    assert await total(org.hq, tier="A") == 4
    assert await total(org.hq, status="never") == 2
    assert await total(org.hq, status="overdue", tier="C") == 1
    assert await total(org.hq, orgUnitId=str(org.units["team_c"])) == 2
    assert await total(org.rep_a) == 5
    assert await total(org.manager_b) == 3
    for bad in ("1,2,3", "a,b,c,d", "10,50,20,40", "0,-95,10,10"):
        r = await client.get("/api/coverage/map", params={"bbox": bad, "zoom": 5}, headers=org.hq.headers)
        assert r.status_code in {400, 422} and "bbox" in r.text
