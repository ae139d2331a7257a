"""Tasks over REST: who may create and assign, what each person sees, transitions, recurrence, stale edits."""

import uuid
from typing import Any

import httpx

from tests.factories import Org, Person, make_account
from tests.tasks.conftest import day


async def _create(client: httpx.AsyncClient, who: Person, **fields: Any) -> httpx.Response:
    body = {"title": "回访客户", "dueDate": day(1), **fields}
    return await client.post("/api/tasks", json=body, headers=who.headers)


async def test_a_rep_creates_tasks_for_themselves_only(client: httpx.AsyncClient, org: Org) -> None:
    r = await _create(client, org.rep_a)
    assert r.status_code == 201, r.text
    task = r.json()
    assert (task["assigneeId"], task["creatorId"], task["state"], task["priority"]) == (
        str(org.rep_a.id),
        str(org.rep_a.id),
        "open",
        "normal",
    )
    assert task["source"] == "manual" and task["version"] == 1
    r = await _create(client, org.rep_a, assigneeId=str(org.rep_a2.id))
    assert r.status_code == 403, r.text
    assert "only to yourself" in r.json()["detail"]


async def test_a_manager_assigns_in_their_subtree_and_hq_anyone(client: httpx.AsyncClient, org: Org) -> None:
    r = await _create(client, org.manager_a, assigneeId=str(org.rep_a.id))
    assert r.status_code == 201, r.text
    r = await _create(client, org.manager_a, assigneeId=str(org.rep_b.id))  # team B: not theirs
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "assigneeId"
    r = await _create(client, org.director, assigneeId=str(org.rep_b.id))  # the province's director
    assert r.status_code == 201, r.text
    r = await _create(client, org.director, assigneeId=str(org.rep_c.id))  # another province
    assert r.status_code == 422, r.text
    r = await _create(client, org.hq, assigneeId=str(org.rep_c.id))
    assert r.status_code == 201, r.text


async def test_tasks_are_seen_through_the_assignees_scope_and_others_are_missing(
    client: httpx.AsyncClient, org: Org
) -> None:
    mine = (await _create(client, org.rep_a, title="给张总打电话")).json()
    other = (await _create(client, org.rep_c, title="武汉的任务")).json()
    for who, task, status in (
        (org.rep_a, mine, 200),
        (org.rep_a2, mine, 404),  # a peer
        (org.manager_a, mine, 200),
        (org.manager_b, mine, 404),
        (org.director, mine, 200),
        (org.director, other, 404),
        (org.hq, other, 200),
    ):
        r = await client.get(f"/api/tasks/{task['id']}", headers=who.headers)
        assert r.status_code == status, (who.username, task["title"], r.text)
    r = await client.post(f"/api/tasks/{other['id']}/complete", json={}, headers=org.rep_a.headers)
    assert r.status_code == 404
    r = await client.get(f"/api/tasks/{uuid.uuid4()}", headers=org.rep_a.headers)
    assert r.status_code == 404
    listed = (await client.get("/api/tasks", headers=org.manager_a.headers)).json()
    assert [t["title"] for t in listed["items"]] == ["给张总打电话"]
    assert listed["total"] == 1 and listed["nextCursor"] is None


async def test_list_filters_sorts_and_pages(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    await _create(client, org.rep_a, title="overdue", dueDate=day(-2), priority="low")
    await _create(client, org.rep_a, title="today", dueDate=day(0), priority="urgent", kind="call")
    await _create(client, org.rep_a, title="later", dueDate=day(5), priority="high", accountId=str(account))
    h = org.rep_a.headers

    async def titles(**params: Any) -> list[str]:
        r = await client.get("/api/tasks", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [t["title"] for t in r.json()["items"]]

    assert await titles() == ["overdue", "today", "later"]
    assert await titles(sort="-due") == ["later", "today", "overdue"]
    assert await titles(sort="priority") == ["today", "later", "overdue"]
    assert await titles(overdue="true") == ["overdue"]
    assert await titles(dueFrom=day(0), dueTo=day(1)) == ["today"]
    assert await titles(accountId=str(account)) == ["later"]
    assert await titles(kind="call") == ["today"]
    assert await titles(source="visit_follow_up") == []
    page = (await client.get("/api/tasks", params={"limit": 2}, headers=h)).json()
    assert page["total"] == 3 and page["nextCursor"] == "2"
    today = (await client.get("/api/tasks/today", headers=h)).json()
    assert [t["title"] for t in today["items"]] == ["overdue", "today"]
    r = await client.get("/api/tasks", params={"state": "nope"}, headers=h)
    assert r.status_code == 400


async def test_skip_needs_a_reason_and_reopen_brings_it_back(client: httpx.AsyncClient, org: Org) -> None:
    task = (await _create(client, org.rep_a)).json()
    url = f"/api/tasks/{task['id']}"
    r = await client.post(url + "/skip", json={"reason": "   "}, headers=org.rep_a.headers)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "reason"
    r = await client.post(url + "/skip", json={}, headers=org.rep_a.headers)
    assert r.status_code == 400, r.text
    r = await client.post(url + "/skip", json={"reason": "客户出差"}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["skipReason"]) == ("skipped", "客户出差")
    r = await client.post(url + "/complete", json={"outcome": "done anyway"}, headers=org.rep_a.headers)
    assert r.status_code == 409, r.text
    r = await client.post(url + "/reopen", headers=org.rep_a.headers)
    assert r.status_code == 200 and r.json()["state"] == "open" and r.json()["completedAt"] is None
    r = await client.post(url + "/complete", json={"outcome": "签了续约"}, headers=org.rep_a.headers)
    assert (r.json()["state"], r.json()["outcome"]) == ("done", "签了续约")
    assert r.json()["completedAt"].startswith("2026-12-04T02:00")


async def test_completing_a_recurring_task_makes_the_next_once(client: httpx.AsyncClient, org: Org) -> None:
    weekly = (await _create(client, org.rep_a, title="周报", dueDate=day(0), recurrence="weekly")).json()
    monthly = (await _create(client, org.rep_a, title="月度对账", dueDate="2027-01-31", recurrence="monthly")).json()
    for task in (weekly, monthly):
        url = f"/api/tasks/{task['id']}"
        assert (await client.post(url + "/complete", json={}, headers=org.rep_a.headers)).status_code == 200
        # Done twice (a replay), reopened and done again: still one next occurrence.
        assert (await client.post(url + "/complete", json={}, headers=org.rep_a.headers)).status_code == 200
        assert (await client.post(url + "/reopen", headers=org.rep_a.headers)).status_code == 200
        assert (await client.post(url + "/complete", json={}, headers=org.rep_a.headers)).status_code == 200
    items = (await client.get("/api/tasks", params={"state": "open"}, headers=org.rep_a.headers)).json()["items"]
    assert sorted((t["title"], t["dueDate"], t["recurrenceOf"]) for t in items) == [
        ("周报", day(7), weekly["id"]),
        ("月度对账", "2027-02-28", monthly["id"]),
    ]


async def test_a_stale_patch_on_a_guarded_field_conflicts_and_others_merge(client: httpx.AsyncClient, org: Org) -> None:
    task = (await _create(client, org.manager_a, assigneeId=str(org.rep_a.id))).json()
    url = f"/api/tasks/{task['id']}"
    r = await client.patch(url, json={"dueDate": day(3), "baseVersion": 1}, headers=org.manager_a.headers)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await client.patch(url, json={"dueDate": day(4), "baseVersion": 1}, headers=org.rep_a.headers)
    assert r.status_code == 409, r.text
    assert r.json()["conflicts"] == {"dueDate": {"yours": day(4), "server": day(3)}}
    r = await client.patch(url, json={"title": "新标题", "baseVersion": 1}, headers=org.rep_a.headers)
    assert r.status_code == 200 and r.json()["title"] == "新标题"
    # A rep does not hand tasks on; a manager does, within their team.
    r = await client.patch(url, json={"assigneeId": str(org.rep_a2.id)}, headers=org.rep_a.headers)
    assert r.status_code == 403
    r = await client.patch(url, json={"assigneeId": str(org.rep_a2.id)}, headers=org.manager_a.headers)
    assert r.status_code == 200 and r.json()["assigneeId"] == str(org.rep_a2.id)
    assert (await client.get(url, headers=org.rep_a.headers)).status_code == 404


async def test_delete_is_soft_and_only_for_the_maker_or_a_leader(client: httpx.AsyncClient, org: Org) -> None:
    given = (await _create(client, org.manager_a, assigneeId=str(org.rep_a.id))).json()
    own = (await _create(client, org.rep_a)).json()
    r = await client.delete(f"/api/tasks/{given['id']}", headers=org.rep_a.headers)
    assert r.status_code == 403, r.text
    assert (await client.delete(f"/api/tasks/{own['id']}", headers=org.rep_a.headers)).status_code == 204
    assert (await client.delete(f"/api/tasks/{given['id']}", headers=org.manager_a.headers)).status_code == 204
    assert (await client.get("/api/tasks", headers=org.rep_a.headers)).json()["total"] == 0


async def test_links_must_be_visible_and_reminders_make_sense(client: httpx.AsyncClient, org: Org) -> None:
    theirs = await make_account(org, "rep_c")
    r = await _create(client, org.rep_a, accountId=str(theirs))
    assert r.status_code == 422 and r.json()["field"] == "accountId"
    r = await _create(client, org.rep_a, dueDate=day(1), remindAt="2026-12-20T09:00:00+08:00")
    assert r.status_code == 422 and r.json()["field"] == "remindAt"
    r = await _create(client, org.rep_a, dueTime="25:00")
    assert r.status_code == 400
