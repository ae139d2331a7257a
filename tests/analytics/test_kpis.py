"""KPIs computed by hand from the month in tests/analytics/fixture.py, at each level, on the edges of the month.

rep_a in November 2026 (business zone UTC+8), worked out by hand:
- plans: 3 (cancelled left out), 2 kept -> completion 2/3
- visits: 3 (A1 at 23:30 on 30 Nov counts; B1 at 00:10 on 1 Dec does not; the one rejected on review does
  not), 2 verified -> 2/3; one per tier
- coverage at 30 Nov: A1 (A, visited 30 Nov) and C1 (C, 1 Nov) covered, B1 (B, only an unverified visit) not
- new opportunities: 1 (created 23:30 on 30 Nov; the one at 00:30 on 1 Dec is December's)
- closed: won 100,000.00 (23:00 on 30 Nov), lost 1 -> win rate 1/2
- pipeline expected to close in November: proposal 200,000.00 at 50%, negotiation 100,000.00 at 75%
- quotes approved in November: list 1,000.00 -> 900.00 and 3,000.00 -> 2,400.00 -> 700/4000 = 1750 bp
- approvals ended in November: 1 h, 2 h, 10 h -> median 7200 s, p90 36000 s
- cases due in November: 3, of which 2 breached (one resolved late, one still open)
- tasks due in November: 2 (the skipped one left out), 1 done by the end of its day
"""

from typing import Any

import httpx

from tests.analytics import fixture
from tests.factories import Org

NOV = {"period": "month", "at": "2026-11-15"}


async def _kpis(client: httpx.AsyncClient, who: Any, **params: Any) -> httpx.Response:
    return await client.get("/api/kpis", params={**NOV, **params}, headers=who.headers)


async def test_a_reps_month_by_hand(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    r = await _kpis(client, org.rep_a)
    assert r.status_code == 200, r.text
    body = r.json()
    v = body["current"]["values"]
    assert body["current"]["period"] == {
        "kind": "month",
        "label": "2026-11",
        "start": "2026-11-01",
        "end": "2026-11-30",
    }
    assert (v["visitsPlanned"], v["visitsPlannedDone"], v["planCompletion"]) == (3, 2, 0.6667)
    assert v["visitsDone"] == 3
    assert v["visitsByTier"] == {"a": 1, "b": 1, "c": 1}
    assert v["verifiedShare"] == 0.6667
    assert v["coverage"] == {"a": 1.0, "b": 0.0, "c": 1.0, "all": 0.6667}
    assert v["newOpportunities"] == 1
    assert (v["wonCount"], v["lostCount"], v["winRate"]) == (1, 1, 0.5)
    assert v["wonRevenueCents"] == 100_000_00
    stages = {s["stage"]: s for s in v["pipeline"]}
    assert set(stages) == {"proposal", "negotiation"}
    assert (stages["proposal"]["amountCents"], stages["proposal"]["weightedCents"]) == (200_000_00, 100_000_00)
    assert (stages["negotiation"]["amountCents"], stages["negotiation"]["weightedCents"]) == (100_000_00, 75_000_00)
    assert (v["pipelineCents"], v["pipelineWeightedCents"]) == (300_000_00, 175_000_00)
    assert (v["quotesApproved"], v["avgDiscountBp"], v["quotesSent"]) == (2, 1750, 1)
    assert (v["approvalsDecided"], v["approvalMedianS"], v["approvalP90S"]) == (3, 7200, 36000)
    assert (v["casesDue"], v["caseSlaBreaches"], v["caseBreachShare"]) == (3, 2, 0.6667)
    assert (v["tasksDue"], v["tasksOnTime"], v["tasksOnTimeShare"]) == (2, 1, 0.5)
    assert body["tasksIncluded"] is True


async def test_previous_period_and_a_year_earlier(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    body = (await _kpis(client, org.rep_a)).json()
    october, last_year = body["previous"], body["yearBefore"]
    assert october["period"]["label"] == "2026-10"
    assert (october["values"]["visitsPlanned"], october["values"]["visitsPlannedDone"]) == (1, 1)
    assert october["values"]["visitsDone"] == 1
    assert october["values"]["newOpportunities"] == 5
    assert october["values"]["avgDiscountBp"] == 5000
    assert october["values"]["approvalsDecided"] == 0
    assert last_year["period"]["label"] == "2025-11"
    assert last_year["values"]["visitsDone"] == 1
    assert last_year["values"]["wonRevenueCents"] == 0


async def test_week_quarter_and_custom_periods(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    # ISO week 2026-W49 runs Monday 30 Nov to Sunday 6 Dec: the 23:30 and the 00:10 visits both fall in it
    week = (await _kpis(client, org.rep_a, period="week", at="2026-12-02")).json()["current"]
    assert week["period"]["label"] == "2026-W49"
    assert week["values"]["visitsDone"] == 2
    quarter = (await _kpis(client, org.rep_a, period="quarter", at="2026-11-15")).json()["current"]
    assert (quarter["period"]["start"], quarter["period"]["end"]) == ("2026-10-01", "2026-12-31")
    assert quarter["values"]["visitsDone"] == 5  # Oct 20, Nov x3, Dec 1
    custom = await _kpis(client, org.rep_a, period="custom", **{"from": "2026-11-30", "to": "2026-11-30"})
    assert custom.json()["current"]["values"]["visitsDone"] == 1
    assert custom.json()["previous"]["period"]["start"] == "2026-11-29"
    bad = await _kpis(client, org.rep_a, period="custom", **{"from": "2026-11-30", "to": "2026-11-01"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "to"
    missing = await _kpis(client, org.rep_a, period="custom")
    assert (missing.status_code, missing.json()["field"]) == (422, "from")


async def test_each_level_adds_up_its_people(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    u = org.units
    team_a = (await _kpis(client, org.manager_a, level="team", id=str(u["team_a"]))).json()["current"]["values"]
    assert team_a["wonRevenueCents"] == 100_000_00 + 30_000_00  # rep_a and rep_a2
    assert team_a["visitsDone"] == 3 + 1
    city = (await _kpis(client, org.director, level="city", id=str(u["jinan"]))).json()["current"]["values"]
    assert city["wonRevenueCents"] == 180_000_00
    province = (await _kpis(client, org.director, level="province", id=str(u["north"]))).json()["current"]["values"]
    assert province["wonRevenueCents"] == 180_000_00
    hq = await _kpis(client, org.hq, level="hq")
    assert hq.status_code == 200, hq.text
    assert hq.json()["current"]["values"]["wonRevenueCents"] == 250_000_00
    assert hq.json()["current"]["values"]["visitsDone"] == 6
    assert hq.json()["drillDown"]["href"].startswith("/api/kpis/leaderboard?groupBy=province&within=")


async def test_a_rep_who_moved_teams_counts_in_the_new_team(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    await fixture.move(org, "rep_a2", "team_b")  # rep_a2 won 30,000.00 on 21 Nov while in team A
    u = org.units
    team_a = (await _kpis(client, org.director, level="team", id=str(u["team_a"]))).json()["current"]["values"]
    team_b = (await _kpis(client, org.director, level="team", id=str(u["team_b"]))).json()["current"]["values"]
    assert team_a["wonRevenueCents"] == 100_000_00
    assert team_b["wonRevenueCents"] == 50_000_00 + 30_000_00
    # manager A no longer sees rep_a2 at all
    r = await _kpis(client, org.manager_a, level="rep", id=str(org.rep_a2.id))
    assert r.status_code == 404


async def test_scope_of_kpis(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    u = org.units
    # a rep reads their own KPIs only
    assert (await _kpis(client, org.rep_a, level="rep", id=str(org.rep_b.id))).status_code == 404
    assert (await _kpis(client, org.rep_a, level="team", id=str(u["team_a"]))).status_code == 403
    # a manager: their team and its people, nothing else
    assert (await _kpis(client, org.manager_a, level="team", id=str(u["team_b"]))).status_code == 404
    assert (await _kpis(client, org.manager_a, level="rep", id=str(org.rep_b.id))).status_code == 404
    # a director's drill-down stops at the province
    assert (await _kpis(client, org.director, level="province", id=str(u["south"]))).status_code == 404
    assert (await _kpis(client, org.director, level="team", id=str(u["team_c"]))).status_code == 404
    assert (await _kpis(client, org.director, level="hq")).status_code == 404
    # the wrong kind of unit for the level says so
    wrong = await _kpis(client, org.director, level="team", id=str(u["jinan"]))
    assert (wrong.status_code, wrong.json()["field"]) == (422, "level")


async def test_trend_has_twelve_months(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    r = await client.get("/api/kpis/trend", params={**NOV, "level": "hq"}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert [p["period"]["label"] for p in points][:2] == ["2025-12", "2026-01"]
    assert len(points) == 12
    assert points[-1]["period"]["label"] == "2026-11"
    assert points[-1]["wonRevenueCents"] == 250_000_00
    assert points[-2]["newOpportunities"] == 5
    assert points[-1]["approvalMedianS"] == 7200
    weeks = await client.get(
        "/api/kpis/trend", params={"period": "week", "at": "2026-12-02"}, headers=org.rep_a.headers
    )
    assert [p["period"]["label"] for p in weeks.json()["points"]][-1] == "2026-W49"


async def test_leaderboards_and_drill_down(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    u = org.units
    # HQ: provinces, each row a link one level down
    board = (await client.get("/api/kpis/leaderboard", params=NOV, headers=org.hq.headers)).json()
    assert board["groupBy"] == "province"
    rows = {r["name"]: r for r in board["rows"]}
    assert rows["山东省 Shandong"]["wonRevenueCents"] == 180_000_00
    assert rows["湖北省 Hubei"]["wonRevenueCents"] == 70_000_00
    assert rows["山东省 Shandong"]["rank"] == 1
    # follow the links: province -> city -> team -> rep -> account
    href = rows["山东省 Shandong"]["drillDown"]
    levels = []
    for _ in range(4):
        step = await client.get(href, headers=org.hq.headers)
        assert step.status_code == 200, (href, step.text)
        levels.append(step.json()["groupBy"])
        first = max(step.json()["rows"], key=lambda r: r["wonRevenueCents"])
        href = first["drillDown"]
    assert levels == ["city", "team", "rep", "account"]
    assert href.startswith("/api/accounts/") and href.endswith("/overview")
    # a manager's leaderboard never shows another team
    mine = (await client.get("/api/kpis/leaderboard", params=NOV, headers=org.manager_a.headers)).json()
    assert mine["groupBy"] == "rep"
    assert {r["name"] for r in mine["rows"]} == {"Rep A", "Rep A2"}
    other = await client.get(
        "/api/kpis/leaderboard", params={**NOV, "within": str(u["team_b"])}, headers=org.manager_a.headers
    )
    assert other.status_code == 404
    # a director's stops at the province
    teams = await client.get(
        "/api/kpis/leaderboard",
        params={**NOV, "groupBy": "team", "within": str(u["north"])},
        headers=org.director.headers,
    )
    assert {r["name"] for r in teams.json()["rows"]} == {"Jinan Team A", "Jinan Team B"}
    south = await client.get(
        "/api/kpis/leaderboard", params={**NOV, "within": str(u["south"])}, headers=org.director.headers
    )
    assert south.status_code == 404
    # reps have no leaderboard
    assert (await client.get("/api/kpis/leaderboard", params=NOV, headers=org.rep_a.headers)).status_code == 403
