"""Tasks offline: mutations through POST /api/sync/push, and the feed the pull sends to each device."""

import datetime
import uuid
from typing import Any

import httpx

from fieldcrm.lib.db import count_queries, read_transaction
from fieldcrm.sync.tables import ChangeCounter
from fieldcrm.tasks import feed
from fieldcrm.tasks.schemas import TaskComplete, TaskCreate, TaskPatch
from fieldcrm.tasks.services import complete_task, create_task, delete_task, merge_task
from tests.factories import Org, Person
from tests.tasks.conftest import NOW, TODAY, day


async def _push(client: httpx.AsyncClient, who: Person, device: uuid.UUID, mutations: list[dict[str, Any]]) -> Any:
    r = await client.post("/api/sync/push", json={"clientId": str(device), "mutations": mutations}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _m(number: int, name: str, **args: Any) -> dict[str, Any]:
    return {"id": number, "name": name, "args": args, "capturedAt": "2026-12-04T01:30:00Z"}


async def test_create_complete_and_a_stale_update_through_sync_push(client: httpx.AsyncClient, org: Org) -> None:
    phone, task_id = uuid.uuid4(), uuid.uuid4()
    result = await _push(
        client,
        org.rep_a,
        phone,
        [
            _m(1, "task.create", id=str(task_id), title="拜访后寄资料", dueDate=day(1), kind="document", extra="ok"),
            _m(2, "task.update", id=str(task_id), changes={"priority": "high"}, baseVersion=1),
        ],
    )
    assert [r["status"] for r in result["results"]] == ["applied", "applied"]
    # Meanwhile the manager moves the due date on the server (version 3).
    manager = await org.actor("manager_a")
    await merge_task(actor=manager, task_id=task_id, data=TaskPatch(due_date=TODAY))
    # The phone, still on version 2, moves the date too and renames: the date conflicts, the title merges.
    result = await _push(
        client,
        org.rep_a,
        phone,
        [
            _m(3, "task.update", id=str(task_id), changes={"dueDate": day(9), "title": "寄合同资料"}, baseVersion=2),
            _m(4, "task.complete", id=str(task_id), outcome="已寄出"),
            _m(5, "task.complete", id=str(task_id), outcome="again"),  # done twice offline: no harm
            _m(6, "task.skip", id=str(task_id), reason="客户取消"),  # but skipping a done task is refused
            _m(7, "task.skip", id=str(uuid.uuid4()), reason="x"),
        ],
    )
    statuses = [(r["status"], r.get("code")) for r in result["results"]]
    assert statuses == [
        ("applied", "conflict"),
        ("applied", None),
        ("applied", None),
        ("rejected", "conflict"),
        ("rejected", "not_found"),
    ]
    assert result["results"][0]["conflicts"] == {"dueDate": {"yours": day(9), "server": day(0)}}
    assert result["lastMutationId"] == 7
    task = (await client.get(f"/api/tasks/{task_id}", headers=org.rep_a.headers)).json()
    assert (task["title"], task["dueDate"], task["priority"], task["state"], task["outcome"]) == (
        "寄合同资料",
        day(0),
        "high",
        "done",
        "已寄出",
    )
    # A replayed batch is skipped, not applied twice.
    again = await _push(client, org.rep_a, phone, [_m(4, "task.complete", id=str(task_id), outcome="replay")])
    assert again["results"][0]["status"] == "skipped"


async def test_offline_edits_of_a_task_closed_meanwhile_conflict_on_its_state(
    client: httpx.AsyncClient, org: Org
) -> None:
    phone = uuid.uuid4()
    rep = await org.actor("rep_a")
    task = await create_task(actor=rep, data=TaskCreate(title="催款", due_date=TODAY))
    await complete_task(actor=await org.actor("manager_a"), task_id=task.id, data=TaskComplete(outcome="已到账"))
    result = await _push(
        client,
        org.rep_a,
        phone,
        [
            _m(
                1, "task.update", id=str(task.id), changes={"dueDate": day(2), "description": "周五再催"}, baseVersion=1
            ),
            _m(2, "task.skip", id=str(task.id), reason=""),
            _m(3, "task.create", title="", dueDate=day(1)),
        ],
    )
    first, second, third = result["results"]
    assert (first["status"], first["conflicts"]) == ("applied", {"state": {"yours": "open", "server": "done"}})
    assert second["status"] == "rejected" and "reason" in second["message"]
    assert third["status"] == "rejected" and third["code"] == "invalid"
    r = await client.get(f"/api/tasks/{task.id}", headers=org.rep_a.headers)
    assert (r.json()["dueDate"], r.json()["description"]) == (day(0), "周五再催")


async def _version() -> int:
    row = await ChangeCounter.select(ChangeCounter.value).where(ChangeCounter.id == 1).first()
    return int(row["value"]) if row else 0


async def test_feed_snapshot_and_changes_with_a_reassignment_as_a_delete(org: Org) -> None:
    rep_a, rep_a2, manager = await org.actor("rep_a"), await org.actor("rep_a2"), await org.actor("manager_a")
    director = await org.actor("director")
    hq = await org.actor("hq")
    moved = await create_task(actor=manager, data=TaskCreate(title="换人跟进", due_date=TODAY, assignee_id=rep_a.id))
    done = await create_task(actor=rep_a, data=TaskCreate(title="已办", due_date=TODAY))
    await complete_task(actor=rep_a, task_id=done.id, data=TaskComplete())
    gone = await create_task(actor=rep_a, data=TaskCreate(title="删掉", due_date=TODAY))
    await create_task(actor=rep_a2, data=TaskCreate(title="同事的", due_date=TODAY))
    async with read_transaction():
        snapshot = await feed.snapshot(actor=rep_a)
    assert sorted(t.title for t in snapshot) == ["删掉", "已办", "换人跟进"]
    since = await _version()

    await merge_task(actor=manager, task_id=moved.id, data=TaskPatch(assignee_id=rep_a2.id, title="换人跟进 2"))
    await delete_task(actor=rep_a, task_id=gone.id)
    fresh = await create_task(actor=rep_a, data=TaskCreate(title="新的", due_date=TODAY))
    with count_queries() as statements:
        async with read_transaction():
            upserts, deletes = await feed.changes_since(actor=rep_a, since=since)
    assert len(statements) == 3  # the changed rows, the scope changes, the moved tasks still in scope
    assert [t.title for t in upserts] == ["新的"]
    assert sorted(deletes) == sorted([moved.id, gone.id])
    # The manager sees both reps: the move is an update there, not a delete.
    async with read_transaction():
        upserts, deletes = await feed.changes_since(actor=manager, since=since)
    assert sorted(t.title for t in upserts) == ["换人跟进 2", "新的"] and deletes == [gone.id]
    for leader in (director, hq):
        async with read_transaction():
            upserts, deletes = await feed.changes_since(actor=leader, since=since)
        assert sorted(t.title for t in upserts) == ["换人跟进 2", "新的"]
    # The rep the task went to gets it; nothing changed since the last version means nothing to send.
    async with read_transaction():
        upserts, _ = await feed.changes_since(actor=rep_a2, since=since)
    assert [t.id for t in upserts] == [moved.id]
    async with read_transaction():
        assert await feed.changes_since(actor=rep_a, since=await _version()) == ([], [])
    assert fresh.id not in {t.id for t in (await feed.snapshot(actor=rep_a2))}


async def test_a_task_moved_twice_and_a_rep_moving_teams_reach_the_right_devices(
    client: httpx.AsyncClient, org: Org
) -> None:
    rep_a, director = await org.actor("rep_a"), await org.actor("director")
    manager_a, manager_b = await org.actor("manager_a"), await org.actor("manager_b")
    twice = await create_task(actor=director, data=TaskCreate(title="转两次", due_date=TODAY, assignee_id=rep_a.id))
    staying = await create_task(actor=rep_a, data=TaskCreate(title="留下", due_date=TODAY))
    since = await _version()
    # rep_a -> rep_a2 -> rep_b between two pulls of rep_a's phone: the last move alone would not say it left rep_a.
    await merge_task(actor=director, task_id=twice.id, data=TaskPatch(assignee_id=org.rep_a2.id))
    await merge_task(actor=director, task_id=twice.id, data=TaskPatch(assignee_id=org.rep_b.id))
    async with read_transaction():
        assert await feed.changes_since(actor=rep_a, since=since) == ([], [twice.id])
    async with read_transaction():
        upserts, deletes = await feed.changes_since(actor=manager_a, since=since)
    assert (upserts, deletes) == ([], [twice.id])
    async with read_transaction():
        upserts, deletes = await feed.changes_since(actor=manager_b, since=since)
    assert ([t.id for t in upserts], deletes) == ([twice.id], [])

    # rep_a moves to team B: team A's manager drops their tasks, team B's manager gets them, unchanged.
    since = await _version()
    r = await client.patch(
        f"/api/users/{rep_a.id}", json={"orgUnitId": str(org.units["team_b"])}, headers=org.hq.headers
    )
    assert r.status_code == 200, r.text
    async with read_transaction():
        assert await feed.changes_since(actor=manager_a, since=since) == ([], [staying.id])
    async with read_transaction():
        upserts, deletes = await feed.changes_since(actor=manager_b, since=since)
    assert ([t.title for t in upserts], deletes) == (["留下"], [])
    async with read_transaction():
        upserts, deletes = await feed.changes_since(actor=director, since=since)  # still in the province
    assert ([t.title for t in upserts], deletes) == (["留下"], [])


async def test_purge_drops_old_tombstones_and_scope_changes(org: Org) -> None:
    rep, manager = await org.actor("rep_a"), await org.actor("manager_a")
    old = await create_task(actor=rep, data=TaskCreate(title="旧", due_date=TODAY))
    kept = await create_task(actor=rep, data=TaskCreate(title="留", due_date=TODAY))
    await delete_task(actor=rep, task_id=old.id)
    await merge_task(actor=manager, task_id=kept.id, data=TaskPatch(assignee_id=org.rep_a2.id))
    version = await _version()
    assert await feed.purge(deleted_before=NOW + datetime.timedelta(seconds=1), version=version) == 1
    async with read_transaction():
        assert await feed.changes_since(actor=rep, since=0) == ([], [])  # nothing left to tell: a reset
    assert [t.id for t in await feed.snapshot(actor=await org.actor("rep_a2"))] == [kept.id]
