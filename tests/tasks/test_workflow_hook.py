"""An SLA warning on a workflow step one person decides puts a task on that person's list, once per step."""

import datetime

import httpx

from fieldcrm.tasks.services import business_zone
from fieldcrm.workflow import services as workflow
from tests.factories import Org
from tests.workflow.conftest import memos
from tests.workflow.memo import MemoSubject

__all__ = ["memos"]

H = datetime.timedelta(hours=1)


async def test_a_warned_step_becomes_the_deciders_task_once(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)  # one step: manager_a decides
    instance = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    step = instance.steps[0]
    assert step.due_at is not None and step.warn_at is not None
    await workflow.sla_scan(now=step.warn_at - H)
    assert (await client.get("/api/tasks", headers=org.manager_a.headers)).json()["total"] == 0
    await workflow.sla_scan(now=step.warn_at)
    await workflow.sla_scan(now=step.warn_at + H)  # scanned again: no second task
    r = await client.get("/api/tasks", params={"source": "workflow"}, headers=org.manager_a.headers)
    [task] = r.json()["items"]
    due = step.due_at.astimezone(business_zone())
    assert (task["assigneeId"], task["sourceKey"], task["creatorId"], task["priority"]) == (
        str(org.manager_a.id),
        str(step.id),
        None,
        "high",
    )
    assert (task["dueDate"], task["dueTime"]) == (due.date().isoformat(), due.strftime("%H:%M"))
    assert memo.title in task["title"]
    # The rep who submitted sees nothing of it: it is the manager's task.
    assert (await client.get(f"/api/tasks/{task['id']}", headers=org.rep_a.headers)).status_code == 404
