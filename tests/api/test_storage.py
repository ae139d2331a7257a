"""Storage: SQLite durability settings are in force; concurrent writers all land."""

import asyncio

import pytest

from fieldcrm.lib.db import FieldcrmSQLiteEngine, engine
from tests.conftest import IS_POSTGRES
from tests.factories import make_account


@pytest.mark.sqlite_only
async def test_sqlite_runs_with_wal_full_sync_busy_timeout_and_foreign_keys():
    db = engine()
    assert isinstance(db, FieldcrmSQLiteEngine)
    pragmas = await db.settings_in_force()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 2  # FULL
    assert pragmas["busy_timeout"] >= 1000
    assert pragmas["foreign_keys"] == 1


async def test_health_names_the_engine(client):
    body = (await client.get("/health")).json()
    assert body["engine"] == ("postgres" if IS_POSTGRES else "sqlite")


async def test_sixteen_concurrent_writers_all_succeed(client, org):
    account = await make_account(org, "rep_a")

    async def write(i: int) -> int:
        r = await client.post(
            f"/api/accounts/{account}/contacts", json={"name": f"联系人{i}"}, headers=org.rep_a.headers
        )
        return r.status_code

    statuses = await asyncio.gather(*(write(i) for i in range(16)))
    assert statuses == [201] * 16
    listed = (
        await client.get(f"/api/accounts/{account}/contacts", params={"limit": 100}, headers=org.rep_a.headers)
    ).json()
    assert listed["total"] == 16


async def test_a_failed_transaction_writes_nothing(client, org):
    # A loop in the group hierarchy fails after the first checks ran: nothing of the change stays.
    group = await make_account(org, "rep_a", name="G")
    member = await make_account(org, "rep_a", name="M", parent_id=group)
    r = await client.patch(
        f"/api/accounts/{group}", json={"name": "renamed", "parentId": str(member)}, headers=org.rep_a.headers
    )
    assert r.status_code == 422
    assert (await client.get(f"/api/accounts/{group}", headers=org.rep_a.headers)).json()["name"] == "G"
