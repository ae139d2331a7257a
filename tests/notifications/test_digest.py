"""The daily digest: once a day after 08:00 in the person's zone, only for those who asked, never twice."""

import datetime
import json
import uuid
from zoneinfo import ZoneInfo

import httpx

from fieldcrm.notifications.digest import queue_daily_digests
from fieldcrm.notifications.messages import render
from fieldcrm.notifications.tables import Notification
from fieldcrm.visits.services import business_today
from tests.factories import Org, make_account

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(hour: int) -> datetime.datetime:
    """Today (the business day) at ``hour`` o'clock in Shanghai."""
    return datetime.datetime.combine(business_today(), datetime.time(hour, 5), tzinfo=SHANGHAI)


async def _want_digest(client: httpx.AsyncClient, person: object, on: bool = True) -> None:
    body = {
        "approvals": True,
        "slaWarnings": True,
        "assignments": True,
        "dailyDigest": on,
        "quietHours": None,
        "timezone": "Asia/Shanghai",
    }
    r = await client.put("/api/push/preferences", json=body, headers=person.headers)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text


async def _digests(user_id: uuid.UUID) -> list[dict[str, object]]:
    return await Notification.select().where(Notification.user == user_id, Notification.kind == "digest.daily")


async def test_the_digest_counts_what_waits_once_a_day_after_eight(client: httpx.AsyncClient, org: Org) -> None:
    await _want_digest(client, org.rep_a)
    await _want_digest(client, org.rep_b, on=False)
    account = await make_account(org, "rep_a")  # never visited: overdue
    await make_account(org, "rep_b")
    r = await client.post(
        "/api/visit-plans",
        json={"accountId": str(account), "date": business_today().isoformat()},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 201, r.text

    assert await queue_daily_digests(now=_at(7)) == 0  # before eight: nothing yet
    assert await queue_daily_digests(now=_at(8)) == 1
    assert await queue_daily_digests(now=_at(15)) == 0  # not twice the same day
    rows = await _digests(org.rep_a.id)
    assert len(rows) == 1
    assert await _digests(org.rep_b.id) == []  # switched off
    params = rows[0]["params"]
    params = params if isinstance(params, dict) else json.loads(params)
    assert (params["approvals"], params["plans"], params["overdue"]) == (0, 1, 1)
    text = render(
        notification_id=rows[0]["id"], kind="digest.daily", params=params, url="#/today", topic="digest", locale="en"
    )
    assert text["body"] == "0 approvals waiting · 1 visits planned today · 1 accounts overdue"
    zh = render(
        notification_id=rows[0]["id"], kind="digest.daily", params=params, url="#/today", topic="digest", locale="zh-CN"
    )
    assert zh["title"] == "今日摘要" and "今日计划拜访 1" in zh["body"]
    # The next morning brings the next one.
    assert await queue_daily_digests(now=_at(8) + datetime.timedelta(days=1)) == 1


async def test_nothing_waiting_sends_nothing(client: httpx.AsyncClient, org: Org) -> None:
    await _want_digest(client, org.rep_a2)
    assert await queue_daily_digests(now=_at(9)) == 0
    assert await _digests(org.rep_a2.id) == []
