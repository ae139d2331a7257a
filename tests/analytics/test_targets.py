"""Targets: who may set whose, validation that names the field, org-unit defaults, periods and progress."""

from typing import Any

import httpx

from tests.analytics import fixture
from tests.factories import Org, Person

NOV = {"period": "month", "at": "2026-11-15"}


async def _put(
    client: httpx.AsyncClient, who: Person, level: str, subject: Any, body: dict[str, Any], *, month: str = "2026-11"
) -> httpx.Response:
    return await client.put(f"/api/targets/{level}/{subject}/{month}", json=body, headers=who.headers)


async def test_who_sets_whose_targets(client: httpx.AsyncClient, org: Org) -> None:
    u = org.units
    ok = await _put(client, org.manager_a, "rep", org.rep_a.id, {"wonRevenueCents": 200_000_00})
    assert ok.status_code == 200, ok.text
    assert ok.json()["values"]["wonRevenueCents"] == 200_000_00
    assert ok.json()["month"] == "2026-11"
    # nobody sets their own; a rep sets none (before any lookup); a manager not another team's people
    assert (await _put(client, org.rep_a, "rep", org.rep_a.id, {"visitsA": 1})).status_code == 403
    assert (await _put(client, org.rep_a, "rep", org.rep_a2.id, {"visitsA": 1})).status_code == 403
    assert (await _put(client, org.manager_a, "rep", org.manager_a.id, {"visitsA": 1})).status_code == 403
    assert (await _put(client, org.manager_a, "rep", org.rep_b.id, {"visitsA": 1})).status_code == 404
    # an org unit's targets come from the level above
    assert (await _put(client, org.manager_a, "team", u["team_a"], {"visitsA": 1})).status_code == 403
    assert (await _put(client, org.director, "team", u["team_a"], {"visitsA": 9})).status_code == 200
    assert (await _put(client, org.director, "province", u["north"], {"visitsA": 9})).status_code == 403
    assert (await _put(client, org.director, "team", u["team_c"], {"visitsA": 9})).status_code == 404
    assert (await _put(client, org.hq, "province", u["north"], {"visitsA": 9})).status_code == 200
    assert (await _put(client, org.hq, "hq", u["hq"], {"wonRevenueCents": 1})).status_code == 200
    # a second PUT replaces the month's values
    again = await _put(client, org.director, "rep", org.rep_a.id, {"visitsB": 3})
    assert again.json()["values"]["wonRevenueCents"] is None
    assert again.json()["values"]["visitsB"] == 3
    assert again.json()["setByName"] == "Director"


async def test_bad_targets_name_the_field(client: httpx.AsyncClient, org: Org) -> None:
    month = await _put(client, org.manager_a, "rep", org.rep_a.id, {"visitsA": 1}, month="2026-13")
    assert (month.status_code, month.json()["field"]) == (422, "month")
    negative = await _put(client, org.manager_a, "rep", org.rep_a.id, {"visitsA": -1})
    assert negative.status_code == 400
    assert negative.json()["errors"][0]["field"] == "visitsA"
    level = await _put(client, org.manager_a, "galaxy", org.rep_a.id, {"visitsA": 1})
    assert (level.status_code, level.json()["field"]) == (422, "level")
    kind = await _put(client, org.director, "city", org.units["team_a"], {"visitsA": 1})
    assert (kind.status_code, kind.json()["field"]) == (422, "level")


async def test_list_is_scoped_and_paged(client: httpx.AsyncClient, org: Org) -> None:
    for person in (org.rep_a, org.rep_a2):
        await _put(client, org.manager_a, "rep", person.id, {"quotesSent": 2})
    await _put(client, org.manager_b, "rep", org.rep_b.id, {"quotesSent": 2})
    await _put(client, org.director, "team", org.units["team_a"], {"quotesSent": 5})

    async def names(who: Person, **params: Any) -> set[str]:
        r = await client.get("/api/targets", params=params, headers=who.headers)
        assert r.status_code == 200, r.text
        return {i["subjectName"] for i in r.json()["items"]}

    assert await names(org.manager_a) == {"Rep A", "Rep A2", "Jinan Team A"}
    assert await names(org.manager_b) == {"Rep B"}
    assert await names(org.rep_a) == {"Rep A"}
    assert await names(org.director) == {"Rep A", "Rep A2", "Rep B", "Jinan Team A"}
    assert await names(org.director, level="team") == {"Jinan Team A"}
    page = await client.get("/api/targets", params={"limit": 2}, headers=org.hq.headers)
    assert (page.json()["total"], len(page.json()["items"]), page.json()["nextCursor"]) == (4, 2, "2")


async def test_progress_and_org_unit_defaults(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    u = org.units
    await _put(client, org.manager_a, "rep", org.rep_a.id, {"wonRevenueCents": 200_000_00, "visitsA": 4})
    await _put(client, org.manager_a, "rep", org.rep_a2.id, {"wonRevenueCents": 100_000_00})
    mine = (await client.get("/api/kpis", params=NOV, headers=org.rep_a.headers)).json()["current"]
    assert mine["targets"]["wonRevenueCents"] == 200_000_00
    assert mine["progress"]["wonRevenueCents"] == 0.5  # 100,000.00 won of 200,000.00
    assert mine["progress"]["visitsA"] == 0.25  # one A visit of four
    assert mine["targets"]["quotesSent"] is None and mine["progress"]["quotesSent"] is None

    async def team_target(unit: str) -> Any:
        r = await client.get(
            "/api/kpis", params={**NOV, "level": "team", "id": str(u[unit])}, headers=org.director.headers
        )
        return r.json()["current"]["targets"]["wonRevenueCents"]

    assert await team_target("team_a") == 300_000_00  # the sum of its people
    await _put(client, org.director, "team", u["team_a"], {"wonRevenueCents": 500_000_00})
    assert await team_target("team_a") == 500_000_00  # set explicitly by the level above
    city = await client.get(
        "/api/kpis", params={**NOV, "level": "city", "id": str(u["jinan"])}, headers=org.director.headers
    )
    assert city.json()["current"]["targets"]["wonRevenueCents"] == 300_000_00  # a city adds up its people
    # a quarter adds its months; a week takes each month's share by days (30 Nov: 1 of 30 days)
    quarter = await client.get("/api/kpis", params={"period": "quarter", "at": "2026-11-15"}, headers=org.rep_a.headers)
    assert quarter.json()["current"]["targets"]["wonRevenueCents"] == 200_000_00
    week = await client.get("/api/kpis", params={"period": "week", "at": "2026-12-02"}, headers=org.rep_a.headers)
    assert week.json()["current"]["targets"]["wonRevenueCents"] == 666_667
    # a rep who moves takes their targets to the new team's default
    await fixture.move(org, "rep_a2", "team_b")
    assert await team_target("team_b") == 100_000_00
