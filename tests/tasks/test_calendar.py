"""The calendar (scoped, range-capped) and the personal iCalendar feed, parsed back with the icalendar library."""

import datetime
import uuid

import httpx
import icalendar

from fieldcrm.tasks.schemas import TaskCreate
from fieldcrm.tasks.services import create_task
from fieldcrm.visits import services as visits
from fieldcrm.visits.schemas import VisitPlanCreate
from tests.factories import Org, make_account, make_holding
from tests.tasks.conftest import TODAY, day


async def _fill(org: Org) -> dict[str, uuid.UUID]:
    """rep_a's week: a plan, a timed task, an all-day task, a contract ending; rep_b has a task too."""
    rep, hq = await org.actor("rep_a"), await org.actor("hq")
    account = await make_account(org, "rep_a", name="济南钢铁")
    plan = await visits.create_plan(
        actor=hq,
        data=VisitPlanCreate(
            account_id=account, date=TODAY + datetime.timedelta(days=1), owner_id=rep.id, purpose="续约"
        ),
    )
    timed = await create_task(actor=rep, data=TaskCreate(title="电话回访", due_date=TODAY, due_time="15:30"))
    whole_day = await create_task(
        actor=rep, data=TaskCreate(title="准备标书", due_date=TODAY + datetime.timedelta(days=2), account_id=account)
    )
    holding = await make_holding(org, account, product="专线 1G", contract_end=TODAY + datetime.timedelta(days=3))
    await create_task(actor=await org.actor("rep_b"), data=TaskCreate(title="别人的", due_date=TODAY))
    return {"plan": plan.id, "timed": timed.id, "day": whole_day.id, "holding": holding}


async def test_a_reps_week_in_one_shape(client: httpx.AsyncClient, org: Org) -> None:
    ids = await _fill(org)
    r = await client.get("/api/calendar", params={"from": day(0), "to": day(6)}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["userId"], body["from"], body["to"]) == (str(org.rep_a.id), day(0), day(6))
    got = [(i["kind"], i["id"], i["date"], i["allDay"]) for i in body["items"]]
    assert got == [
        ("task", str(ids["timed"]), day(0), False),
        ("visit_plan", str(ids["plan"]), day(1), True),
        ("task", str(ids["day"]), day(2), True),
        ("holding_end", str(ids["holding"]), day(3), True),
    ]
    timed = body["items"][0]
    # 15:30 in Shanghai is 07:30 UTC; a timed task lasts half an hour.
    assert (timed["start"], timed["end"], timed["url"]) == (
        f"{day(0)}T07:30:00Z",
        f"{day(0)}T08:00:00Z",
        f"#/tasks/{ids['timed']}",
    )
    plan = body["items"][1]
    assert (plan["start"], plan["end"], plan["title"], plan["accountName"]) == (
        f"{day(0)}T16:00:00Z",
        f"{day(1)}T16:00:00Z",
        "续约",
        "济南钢铁",
    )


async def test_a_manager_picks_a_rep_in_their_team_only(client: httpx.AsyncClient, org: Org) -> None:
    await _fill(org)
    week = {"from": day(0), "to": day(6)}
    r = await client.get("/api/calendar", params={**week, "userId": str(org.rep_a.id)}, headers=org.manager_a.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == 4
    for who, person in ((org.manager_b, org.rep_a), (org.rep_a2, org.rep_a), (org.rep_a, org.rep_b)):
        r = await client.get("/api/calendar", params={**week, "userId": str(person.id)}, headers=who.headers)
        assert r.status_code == 404, (who.username, r.text)
    r = await client.get("/api/calendar", params=week, headers=org.manager_a.headers)
    assert r.json()["items"] == []  # their own calendar: nothing of their reps


async def test_a_range_is_capped_and_ordered(client: httpx.AsyncClient, org: Org) -> None:
    h = org.rep_a.headers
    r = await client.get("/api/calendar", params={"from": day(0), "to": day(92)}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "to"
    assert "92 days" in r.json()["detail"]
    assert (await client.get("/api/calendar", params={"from": day(0), "to": day(91)}, headers=h)).status_code == 200
    r = await client.get("/api/calendar", params={"from": day(3), "to": day(2)}, headers=h)
    assert r.status_code == 422 and "before" in r.json()["detail"]
    assert (await client.get("/api/calendar", params={"from": day(0)}, headers=h)).status_code == 400


async def test_the_ics_feed_is_the_owners_only_and_dies_with_revocation(client: httpx.AsyncClient, org: Org) -> None:
    ids = await _fill(org)
    h = org.rep_a.headers
    assert (await client.get("/api/calendar/feed", headers=h)).json() == {
        "exists": False,
        "createdAt": None,
        "lastUsedAt": None,
    }
    made = (await client.post("/api/calendar/feed", headers=h)).json()
    assert made["url"] == f"/api/calendar/{made['secret']}.ics"
    status = (await client.get("/api/calendar/feed", headers=h)).json()
    assert status["exists"] is True and "secret" not in status

    r = await client.get(made["url"])  # no session: the calendar app has none
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        f"task-{ids['timed']}@fieldcrm",
        f"task-{ids['day']}@fieldcrm",
        f"visit_plan-{ids['plan']}@fieldcrm",
        f"holding_end-{ids['holding']}@fieldcrm",
    }
    timed = events[f"task-{ids['timed']}@fieldcrm"]
    assert timed.decoded("dtstart") == datetime.datetime(2026, 12, 4, 7, 30, tzinfo=datetime.UTC)
    assert str(timed["summary"]) == "电话回访"
    whole = events[f"task-{ids['day']}@fieldcrm"]
    assert whole.decoded("dtstart") == TODAY + datetime.timedelta(days=2)  # a DATE: all day
    assert str(whole["summary"]) == "准备标书 · 济南钢铁"
    assert (await client.get("/api/calendar/feed", headers=h)).json()["lastUsedAt"] is not None

    rotated = (await client.post("/api/calendar/feed", headers=h)).json()
    assert (await client.get(made["url"])).status_code == 404  # the old address stops working
    assert (await client.get(rotated["url"])).status_code == 200
    assert (await client.delete("/api/calendar/feed", headers=h)).status_code == 204
    r = await client.get(rotated["url"])
    assert r.status_code == 404 and "revoked" in r.json()["detail"]
    assert (await client.get(f"/api/calendar/{rotated['secret']}")).status_code == 404  # no .ics: no feed
    assert (await client.get("/api/calendar/feed", headers=h)).json()["exists"] is False
