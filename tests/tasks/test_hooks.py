"""Other domains create tasks through the one service: a visit log's follow-up; tasks on the 360 timeline."""

import datetime
import uuid

import httpx

from fieldcrm.lib.tables import utcnow
from fieldcrm.tasks.schemas import TaskComplete, TaskCreate, TaskSkip
from fieldcrm.tasks.services import complete_task, create_task, skip_task
from fieldcrm.visits import services as visits
from fieldcrm.visits.schemas import CheckinCreate
from tests.factories import Org, make_account
from tests.tasks.conftest import TODAY


async def test_a_visit_logs_follow_up_becomes_one_task(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    rep = await org.actor("rep_a")
    visit, _ = await visits.check_in(
        actor=rep, data=CheckinCreate(id=uuid.uuid4(), account_id=account, device_at=utcnow())
    )
    follow_up = visits.business_today() + datetime.timedelta(days=3)
    log = {"purpose": "需求沟通", "nextStep": "发送 5G 专网方案", "followUpDate": follow_up.isoformat()}
    url = f"/api/visits/{visit.id}/log"
    for _ in range(2):  # the log saved twice (edited, or resent): still one task
        r = await client.put(url, json=log, headers=org.rep_a.headers)
        assert r.status_code == 200, r.text
    r = await client.get("/api/tasks", params={"source": "visit_follow_up"}, headers=org.rep_a.headers)
    [task] = r.json()["items"]
    assert (task["title"], task["dueDate"], task["kind"], task["accountId"], task["sourceKey"]) == (
        "发送 5G 专网方案",
        follow_up.isoformat(),
        "follow_up",
        str(account),
        str(visit.id),
    )
    later = follow_up + datetime.timedelta(days=2)
    r = await client.put(url, json={**log, "followUpDate": later.isoformat()}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    [moved] = (await client.get("/api/tasks", headers=org.rep_a.headers)).json()["items"]
    assert (moved["id"], moved["dueDate"]) == (task["id"], later.isoformat())
    # A log without a follow-up makes no task.
    other, _ = await visits.check_in(
        actor=rep, data=CheckinCreate(id=uuid.uuid4(), account_id=account, device_at=utcnow())
    )
    r = await client.put(f"/api/visits/{other.id}/log", json={"purpose": "拜访"}, headers=org.rep_a.headers)
    assert r.status_code == 200
    assert (await client.get("/api/tasks", headers=org.rep_a.headers)).json()["total"] == 1


async def test_system_callers_get_the_existing_task_back(org: Org) -> None:
    rep = await org.actor("rep_a")
    data = TaskCreate(title="续约跟进", due_date=TODAY, assignee_id=rep.id, kind="retention")
    first = await create_task(actor=None, data=data, source="retention", source_key="episode-1")
    again = await create_task(actor=None, data=data, source="retention", source_key="episode-1")
    other = await create_task(actor=None, data=data, source="contract", source_key="episode-1")
    assert first.id == again.id != other.id
    assert (first.creator_id, first.source) == (None, "retention")


async def test_tasks_on_the_account_timeline_with_message_keys(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    rep, manager = await org.actor("rep_a"), await org.actor("manager_a")
    done = await create_task(
        actor=manager, data=TaskCreate(title="催收尾款", due_date=TODAY, account_id=account, assignee_id=rep.id)
    )
    skipped = await create_task(actor=rep, data=TaskCreate(title="送礼品", due_date=TODAY, account_id=account))
    await complete_task(actor=rep, task_id=done.id, data=TaskComplete(outcome="已到账 12 万"))
    await skip_task(actor=rep, task_id=skipped.id, data=TaskSkip(reason="客户不收"))
    r = await client.get(f"/api/accounts/{account}/overview", headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    tasks = [i for i in r.json()["timeline"] if "messageKey" in i["data"]]
    got = sorted((i["kind"], i["title"], i["detail"], i["data"]["messageKey"], i["actorName"]) for i in tasks)
    assert got == [
        ("task.created", "催收尾款", "", "timeline.task.created", "Manager A"),
        ("task.created", "送礼品", "", "timeline.task.created", "Rep A"),
        ("task.done", "催收尾款", "已到账 12 万", "timeline.task.done", "Rep A"),
        ("task.skipped", "送礼品", "客户不收", "timeline.task.skipped", "Rep A"),
    ]
