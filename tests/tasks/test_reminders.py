"""Reminders: once at their time through the outbox to the local push service; moved reminders go again; digest."""

import datetime
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from fieldcrm.notifications.digest import queue_daily_digests
from fieldcrm.notifications.messages import render
from fieldcrm.notifications.tables import Notification
from fieldcrm.org.tables import User
from fieldcrm.tasks.reminders import send_due_reminders
from fieldcrm.tasks.schemas import TaskComplete, TaskCreate, TaskPatch
from fieldcrm.tasks.services import complete_task, create_task, merge_task
from tests.factories import Org, make_account
from tests.notifications.conftest import (
    Push,
    clock,
    deliverer,
    loopback_push_services,
    push,
    server_keys,
    subscribe_device,
)
from tests.push.push_service import local_push_service, push_service
from tests.tasks.conftest import NOW, TODAY

__all__ = ["clock", "deliverer", "local_push_service", "loopback_push_services", "push", "push_service", "server_keys"]

MINUTE = datetime.timedelta(minutes=1)


async def _reminders(user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await Notification.select().where(Notification.user == user_id, Notification.kind == "task.reminder")


async def test_a_reminder_goes_out_once_and_reaches_the_phone(client: httpx.AsyncClient, org: Org, push: Push) -> None:
    await User.update({User.locale: "en"}).where(User.id == org.rep_a.id)
    phone, _ = await subscribe_device(client, push.service, push.keys, org.rep_a)
    rep = await org.actor("rep_a")
    account = await make_account(org, "rep_a", name="山东钢铁")
    task = await create_task(
        actor=rep,
        data=TaskCreate(
            title="Call Mr Zhang", due_date=TODAY, due_time="15:00", remind_at=NOW + 30 * MINUTE, account_id=account
        ),
    )
    later = await create_task(actor=rep, data=TaskCreate(title="later", due_date=TODAY, remind_at=NOW + 5 * MINUTE))
    await complete_task(actor=rep, task_id=later.id, data=TaskComplete())  # done: no reminder
    assert await send_due_reminders(now=NOW + 29 * MINUTE) == 0  # not yet
    assert await send_due_reminders(now=NOW + 30 * MINUTE) == 1
    assert await send_due_reminders(now=NOW + 31 * MINUTE) == 0  # two turns, one reminder
    assert len(await _reminders(org.rep_a.id)) == 1

    push.clock.now = NOW + 31 * MINUTE
    assert (await push.deliverer.run_once()).pushes == 1
    [got] = push.service.deliveries_to(phone)
    body = got.json()
    assert (body["kind"], body["title"], body["body"]) == (
        "task.reminder",
        "Task reminder: Call Mr Zhang",
        f"Due {TODAY.isoformat()} 15:00 · 山东钢铁",
    )
    assert (body["url"], body["subjectId"]) == (f"#/tasks/{task.id}", str(task.id))
    assert (await push.deliverer.run_once()).pushes == 0
    # The same time sent again from a phone in Shanghai's zone is no change: no second reminder.
    same = (NOW + 30 * MINUTE).astimezone(ZoneInfo("Asia/Shanghai"))
    await merge_task(actor=rep, task_id=task.id, data=TaskPatch(remind_at=same, title="Call Mr Zhang"))
    assert await send_due_reminders(now=NOW + 32 * MINUTE) == 0

    # Moving the reminder later re-arms it; it goes out once more at its new time.
    await merge_task(actor=rep, task_id=task.id, data=TaskPatch(remind_at=NOW + 90 * MINUTE))
    assert await send_due_reminders(now=NOW + 60 * MINUTE) == 0
    assert await send_due_reminders(now=NOW + 90 * MINUTE) == 1
    assert await send_due_reminders(now=NOW + 91 * MINUTE) == 0
    assert len(await _reminders(org.rep_a.id)) == 2


async def test_reminders_are_a_preference(client: httpx.AsyncClient, org: Org, push: Push) -> None:
    phone, _ = await subscribe_device(client, push.service, push.keys, org.rep_a)
    r = await client.put("/api/push/preferences", json={"taskReminders": False}, headers=org.rep_a.headers)
    assert r.status_code == 200 and r.json()["taskReminders"] is False
    rep = await org.actor("rep_a")
    await create_task(actor=rep, data=TaskCreate(title="提醒我", due_date=TODAY, remind_at=NOW))
    assert await send_due_reminders(now=NOW) == 1
    push.clock.now = NOW + MINUTE
    result = await push.deliverer.run_once()
    assert (result.pushes, result.skipped) == (0, 1)
    assert push.service.deliveries_to(phone) == []
    zh = render(
        notification_id=uuid.uuid4(),
        kind="task.reminder",
        params={"title": "提醒我", "dueDate": "2026-12-04", "dueTime": ""},
        url="",
        topic="",
        locale="zh-CN",
    )
    assert (zh["title"], zh["body"]) == ("任务提醒：提醒我", "截止 2026-12-04")


async def test_the_digest_counts_tasks_due_today_and_overdue(client: httpx.AsyncClient, org: Org) -> None:
    body = {"dailyDigest": True, "timezone": "Asia/Shanghai"}
    assert (await client.put("/api/push/preferences", json=body, headers=org.rep_a.headers)).status_code == 200
    rep, manager = await org.actor("rep_a"), await org.actor("manager_a")
    for due in (TODAY, TODAY, TODAY - datetime.timedelta(days=3), TODAY + datetime.timedelta(days=1)):
        await create_task(actor=manager, data=TaskCreate(title="t", due_date=due, assignee_id=rep.id))
    done = await create_task(actor=rep, data=TaskCreate(title="done", due_date=TODAY - datetime.timedelta(days=1)))
    await complete_task(actor=rep, task_id=done.id, data=TaskComplete())
    eight = datetime.datetime.combine(TODAY, datetime.time(8, 5), tzinfo=ZoneInfo("Asia/Shanghai"))
    assert await queue_daily_digests(now=eight) == 1
    [row] = await Notification.select().where(Notification.user == rep.id, Notification.kind == "digest.daily")
    params = row["params"] if isinstance(row["params"], dict) else json.loads(row["params"])
    assert (params["tasksDue"], params["tasksOverdue"]) == (2, 1)
    en = render(notification_id=row["id"], kind="digest.daily", params=params, url="", topic="", locale="en")
    assert en["body"].endswith("· 2 tasks due today · 1 tasks overdue")
    zh = render(notification_id=row["id"], kind="digest.daily", params=params, url="", topic="", locale="zh-CN")
    assert "今日到期任务 2 · 逾期任务 1" in zh["body"]
