"""The offline protocol (docs/sync.md): exactly-once push, rejections, gaps, transient failures, scoped pulls."""

import asyncio
import datetime
import random
import uuid

import pytest

from fieldcrm.accounts.tables import Contact
from fieldcrm.lib.db import FieldcrmSQLiteEngine, engine
from fieldcrm.sync import services as sync_services
from fieldcrm.sync.tables import SyncHorizon
from tests.conftest import IS_POSTGRES
from tests.factories import make_account, make_contact


def contact_create(mid: int, account_id: uuid.UUID, name: str = "联系人", **extra):
    args = {"id": str(uuid.uuid4()), "accountId": str(account_id), "name": name, **extra}
    return {"id": mid, "name": "contact.create", "args": args, "capturedAt": "2026-11-24T08:00:00Z"}


def note(mid: int, account_id: uuid.UUID, text: str = "拜访记录"):
    return {
        "id": mid,
        "name": "account.note",
        "args": {"id": str(uuid.uuid4()), "accountId": str(account_id), "text": text},
    }


async def push(client, person, client_id, mutations, expect=200):
    r = await client.post(
        "/api/sync/push", json={"clientId": str(client_id), "mutations": mutations}, headers=person.headers
    )
    assert r.status_code == expect, r.text
    return r.json()


async def pull(client, person, client_id, cursor=None):
    r = await client.post("/api/sync/pull", json={"clientId": str(client_id), "cursor": cursor}, headers=person.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def pull_all(client, person, client_id, cursor=None):
    """Pull until no page says more; returns the merged pages and the last cursor."""
    pages = [await pull(client, person, client_id, cursor)]
    while pages[-1]["more"]:
        pages.append(await pull(client, person, client_id, pages[-1]["cursor"]))
    return pages, pages[-1]["cursor"]


async def test_a_replayed_batch_applies_once(client, org):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    batch = [note(1, account), contact_create(2, account, "王经理")]
    first = await push(client, org.rep_a, device, batch)
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    again = await push(client, org.rep_a, device, batch)  # the response was lost; the device sends it again
    assert [r["status"] for r in again["results"]] == ["skipped", "skipped"]
    assert again["lastMutationId"] == 2
    notes = (await client.get(f"/api/accounts/{account}/notes", headers=org.rep_a.headers)).json()
    assert notes["total"] == 1  # a note is not idempotent by nature: the guard is what kept it single
    contacts = (await client.get(f"/api/accounts/{account}/contacts", headers=org.rep_a.headers)).json()
    assert [c["name"] for c in contacts["items"]] == ["王经理"]


async def test_a_gap_stops_the_batch(client, org):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    result = await push(client, org.rep_a, device, [note(1, account), note(2, account), note(4, account)])
    assert [r["id"] for r in result["results"]] == [1, 2]
    assert result["lastMutationId"] == 2
    resent = await push(client, org.rep_a, device, [note(3, account), note(4, account)])
    assert [r["status"] for r in resent["results"]] == ["applied", "applied"]
    assert (await client.get(f"/api/accounts/{account}/notes", headers=org.rep_a.headers)).json()["total"] == 4


async def test_a_bad_mutation_is_rejected_and_does_not_block_the_queue(client, org):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    batch = [contact_create(i, account, f"联系人{i}") for i in range(1, 61)]
    batch[9] = contact_create(10, account, "")  # position 10: an empty name can never be valid
    result = await push(client, org.rep_a, device, batch)
    statuses = [r["status"] for r in result["results"]]
    assert statuses.count("applied") == 59
    assert result["results"][9]["status"] == "rejected"
    assert result["results"][9]["code"] == "invalid"
    assert "name" in result["results"][9]["message"]
    assert result["lastMutationId"] == 60
    contacts = (
        await client.get(f"/api/accounts/{account}/contacts", params={"limit": 100}, headers=org.rep_a.headers)
    ).json()
    assert contacts["total"] == 59
    listed = (
        await client.get("/api/sync/rejections", params={"clientId": str(device)}, headers=org.rep_a.headers)
    ).json()
    assert [(r["mutationId"], r["code"]) for r in listed["items"]] == [(10, "invalid")]


async def test_unknown_mutations_are_rejected_and_unknown_fields_ignored(client, org):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    newer = contact_create(2, account, "赵六", futureField={"x": 1})
    result = await push(client, org.rep_a, device, [{"id": 1, "name": "visit.teleport", "args": {}}, newer])
    assert result["results"][0]["code"] == "unknown_mutation"
    assert result["results"][1]["status"] == "applied"


async def test_out_of_scope_and_forbidden_mutations_are_rejected(client, org):
    theirs = await make_account(org, "rep_b")
    mine = await make_account(org, "rep_a")
    device = uuid.uuid4()
    result = await push(
        client,
        org.rep_a,
        device,
        [
            note(1, theirs),
            {"id": 2, "name": "account.update", "args": {"id": str(mine), "changes": {"ownerId": str(org.rep_a2.id)}}},
        ],
    )
    assert [r["code"] for r in result["results"]] == ["not_found", "forbidden"]


async def test_more_than_500_mutations_is_413(client, org):
    account = await make_account(org, "rep_a")
    r = await client.post(
        "/api/sync/push",
        json={"clientId": str(uuid.uuid4()), "mutations": [note(i, account) for i in range(1, 502)]},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 413
    assert "500" in r.json()["detail"]


async def test_a_client_id_belongs_to_one_user(client, org):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    await push(client, org.rep_a, device, [note(1, account)])
    r = await client.post("/api/sync/push", json={"clientId": str(device), "mutations": []}, headers=org.rep_a2.headers)
    assert r.status_code == 403
    assert r.json()["code"] == "client_bound"
    r = await client.post("/api/sync/pull", json={"clientId": str(device), "cursor": None}, headers=org.rep_a2.headers)
    assert r.status_code == 403


async def test_edits_of_different_fields_merge(client, org):
    account = await make_account(org, "rep_a", industry="制造", notes="")
    phone, tablet = uuid.uuid4(), uuid.uuid4()
    await push(
        client,
        org.rep_a,
        phone,
        [
            {
                "id": 1,
                "name": "account.update",
                "args": {"id": str(account), "baseVersion": 1, "changes": {"industry": "能源"}},
            }
        ],
    )
    await push(
        client,
        org.rep_a,
        tablet,
        [
            {
                "id": 1,
                "name": "account.update",
                "args": {"id": str(account), "baseVersion": 1, "changes": {"notes": "CIO 下周到访"}},
            }
        ],
    )
    got = (await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)).json()
    assert got["industry"] == "能源"
    assert got["notes"] == "CIO 下周到访"


async def test_transient_failure_answers_503_and_advances_nothing(client, org, monkeypatch):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    await push(client, org.rep_a, device, [note(1, account)])
    db = engine()
    if isinstance(db, FieldcrmSQLiteEngine):
        import sqlite3

        writer = await db.acquire_writer()
        await writer.execute("PRAGMA busy_timeout = 200")
        db.release_writer()
        blocker = sqlite3.connect(db.path, isolation_level=None, timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
        release = blocker.rollback
    else:
        import asyncpg

        monkeypatch.setattr(sync_services, "LOCK_TIMEOUT_MS", 200)
        blocker = await asyncpg.connect(db.config["dsn"])
        await blocker.execute("BEGIN")
        await blocker.execute("SELECT * FROM change_counter WHERE id = 1 FOR UPDATE")
        release = None
    try:
        r = await client.post(
            "/api/sync/push",
            json={"clientId": str(device), "mutations": [note(2, account), note(3, account)]},
            headers=org.rep_a.headers,
        )
    finally:
        if release is not None:
            release()
            blocker.close()
            writer = await db.acquire_writer()
            await writer.execute(f"PRAGMA busy_timeout = {db.busy_timeout_ms}")
            db.release_writer()
        else:
            await blocker.execute("ROLLBACK")
            await blocker.close()
    assert r.status_code == 503, r.text
    assert int(r.headers["retry-after"]) > 0
    assert (await client.get(f"/api/accounts/{account}/notes", headers=org.rep_a.headers)).json()["total"] == 1
    again = await push(client, org.rep_a, device, [note(2, account), note(3, account)])
    assert again["lastMutationId"] == 3
    assert (await client.get(f"/api/accounts/{account}/notes", headers=org.rep_a.headers)).json()["total"] == 3


async def test_first_pull_is_a_scoped_snapshot_then_deltas(client, org):
    mine = [await make_account(org, "rep_a") for _ in range(3)]
    await make_account(org, "rep_b")
    contact = await make_contact(org, mine[0], name="李四")
    device = uuid.uuid4()
    first = await pull(client, org.rep_a, device)
    assert first["reset"] is True
    assert {a["id"] for a in first["accounts"]} == {str(a) for a in mine}
    assert [c["name"] for c in first["contacts"]] == ["李四"]
    cursor = first["cursor"]
    quiet = await pull(client, org.rep_a, device, cursor)
    assert quiet["reset"] is False
    assert quiet["accounts"] == [] and quiet["contacts"] == []
    await client.patch(f"/api/accounts/{mine[1]}", json={"notes": "changed"}, headers=org.rep_a.headers)
    await client.delete(f"/api/accounts/{mine[0]}/contacts/{contact}", headers=org.rep_a.headers)
    delta = await pull(client, org.rep_a, device, cursor)
    changed = {a["id"] for a in delta["accounts"]}
    assert str(mine[1]) in changed
    assert str(mine[2]) not in changed  # untouched rows stay home
    assert delta["deletes"]["contacts"] == [str(contact)]


async def test_snapshot_pages_cover_everything_once(client, org, monkeypatch):
    monkeypatch.setattr(sync_services, "SNAPSHOT_PAGE", 4)
    made = {str(await make_account(org, "rep_a")) for _ in range(10)}
    pages, _ = await pull_all(client, org.rep_a, uuid.uuid4())
    assert [p["reset"] for p in pages] == [True, False, False]
    seen = [a["id"] for p in pages for a in p["accounts"]]
    assert len(seen) == 10
    assert set(seen) == made


async def test_reassignment_moves_accounts_between_devices(client, org):
    accounts = [await make_account(org, "rep_a") for _ in range(10)]
    for account in accounts:
        await make_contact(org, account, name="联系人")
    phone_a, phone_b = uuid.uuid4(), uuid.uuid4()
    _, cursor_a = await pull_all(client, org.rep_a, phone_a)
    _, cursor_b = await pull_all(client, org.rep_b, phone_b)
    # Rep A edits offline while the manager of both teams reassigns the accounts to rep B.
    queued = [note(i + 1, account) for i, account in enumerate(accounts)]
    for account in accounts:
        r = await client.patch(
            f"/api/accounts/{account}", json={"ownerId": str(org.rep_b.id)}, headers=org.director.headers
        )
        assert r.status_code == 200, r.text
    a = await pull(client, org.rep_a, phone_a, cursor_a)
    assert set(a["deletes"]["accounts"]) == {str(x) for x in accounts}
    b = await pull(client, org.rep_b, phone_b, cursor_b)
    assert {x["id"] for x in b["accounts"]} == {str(x) for x in accounts}
    assert len(b["contacts"]) == 10  # the contacts came along although they did not change
    result = await push(client, org.rep_a, phone_a, queued)
    assert {r["code"] for r in result["results"]} == {"not_found"}


async def test_moving_a_rep_to_another_team_moves_their_accounts_between_managers(client, org):
    accounts = [await make_account(org, "rep_a") for _ in range(3)]
    ma, mb = uuid.uuid4(), uuid.uuid4()
    _, cursor_a = await pull_all(client, org.manager_a, ma)
    _, cursor_b = await pull_all(client, org.manager_b, mb)
    r = await client.patch(
        f"/api/users/{org.rep_a.id}", json={"orgUnitId": str(org.units["team_b"])}, headers=org.hq.headers
    )
    assert r.status_code == 200
    a = await pull(client, org.manager_a, ma, cursor_a)
    b = await pull(client, org.manager_b, mb, cursor_b)
    assert set(a["deletes"]["accounts"]) == {str(x) for x in accounts}
    assert {x["id"] for x in b["accounts"]} == {str(x) for x in accounts}


async def test_a_cursor_older_than_the_tombstone_horizon_resets(client, org):
    account = await make_account(org, "rep_a")
    contact = await make_contact(org, account)
    device = uuid.uuid4()
    _, cursor = await pull_all(client, org.rep_a, device)
    await client.delete(f"/api/accounts/{account}/contacts/{contact}", headers=org.rep_a.headers)
    long_ago = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=31)
    await Contact.update({Contact.deleted_at: long_ago}).where(Contact.id == contact)
    purged = await sync_services.purge_tombstones()
    assert purged == 1
    horizon = await SyncHorizon.select(SyncHorizon.version).first()
    assert horizon["version"] > int(cursor.split(":")[1])  # d:<version>:<day>:<scope>
    again = await pull(client, org.rep_a, device, cursor)
    assert again["reset"] is True
    assert [a["id"] for a in again["accounts"]] == [str(account)]
    assert again["contacts"] == []


async def test_a_malformed_cursor_is_a_clear_422(client, org):
    r = await client.post(
        "/api/sync/pull", json={"clientId": str(uuid.uuid4()), "cursor": "yesterday"}, headers=org.rep_a.headers
    )
    assert r.status_code == 422
    assert r.json()["field"] == "cursor"


@pytest.mark.postgres_only
async def test_concurrent_writers_never_make_a_pull_skip_a_committed_row(client, org):
    assert IS_POSTGRES
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    _, cursor = await pull_all(client, org.rep_a, device)
    seen: set[str] = set()
    written: list[str] = []
    stop = asyncio.Event()

    async def writer(n: int) -> None:
        from fieldcrm.lib.db import write_transaction

        for i in range(15):
            async with write_transaction():
                contact_id = uuid.uuid4()
                await Contact.insert(Contact(id=contact_id, account=account, name=f"w{n}-{i}"))
                await asyncio.sleep(random.uniform(0, 0.01))  # commit late, after others took later versions
            written.append(str(contact_id))

    async def puller() -> None:
        nonlocal cursor
        while not stop.is_set():
            page = await pull(client, org.rep_a, device, cursor)
            seen.update(c["id"] for c in page["contacts"])
            cursor = page["cursor"]
            await asyncio.sleep(0.002)

    pulling = asyncio.create_task(puller())
    await asyncio.gather(*(writer(n) for n in range(8)))
    stop.set()
    await pulling
    final = await pull(client, org.rep_a, device, cursor)
    seen.update(c["id"] for c in final["contacts"])
    assert len(written) == 120
    assert set(written) <= seen


async def test_two_first_pushes_of_a_new_device_both_succeed(client, org):
    account = await make_account(org, "rep_a")
    device = uuid.uuid4()
    batch = [note(1, account)]
    responses = await asyncio.gather(
        *(
            client.post("/api/sync/push", json={"clientId": str(device), "mutations": batch}, headers=org.rep_a.headers)
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 200]
    assert sorted(r.json()["results"][0]["status"] for r in responses) == ["applied", "skipped"]
    assert (await client.get(f"/api/accounts/{account}/notes", headers=org.rep_a.headers)).json()["total"] == 1
