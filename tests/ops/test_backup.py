"""`fieldcrm backup` and `fieldcrm restore`: an online SQLite backup taken while reps write, restored into a fresh file.

The backup pins a read snapshot before it copies; the test writes through the API while the snapshot is held
and while the copy runs, then checks that the backup and its restore hold exactly that snapshot (row counts and
checksums of every table), that the writes were not blocked, and that the commands refuse what would lose data.
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from fieldcrm.ops.backup import CURSOR_JUMP, TableDigest, backup_sqlite, check_backup_file, digest, restore_sqlite
from fieldcrm.settings import get_settings
from tests.conftest import IS_POSTGRES
from tests.factories import Org, make_account

KEY_TABLES = ("accounts", "contacts", "audit_entries", "users", "org_units")


def _fieldcrm(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "fieldcrm.cli", *args], env=env, capture_output=True, text=True, check=False
    )


async def _count(table: str) -> int:
    from fieldcrm.lib.db import engine

    rows = await engine().run_ddl(f"SELECT count(*) AS n FROM {table}")  # noqa: S608 - our table names
    return int(rows[0]["n"])


@pytest.mark.sqlite_only
async def test_a_backup_under_write_load_restores_exactly_the_snapshot_it_took(
    client: httpx.AsyncClient, org: Org, tmp_path: Path
) -> None:
    accounts = [await make_account(org) for _ in range(5)]
    written = 0
    writes_after_snapshot = threading.Event()
    snapshot: dict[str, TableDigest] = {}
    snapshot_at: list[int] = []
    stop = asyncio.Event()
    warmed_up = asyncio.Event()

    async def reps_write() -> None:
        nonlocal written
        while not stop.is_set():
            account = accounts[written % len(accounts)]
            r = await client.post(
                f"/api/accounts/{account}/contacts", json={"name": f"联系人 {written}"}, headers=org.rep_a.headers
            )
            assert r.status_code == 201, r.text
            r = await client.patch(
                f"/api/accounts/{account}", json={"notes": f"第 {written} 次拜访后更新"}, headers=org.rep_a.headers
            )
            assert r.status_code == 200, r.text
            written += 1
            if written == 10:
                warmed_up.set()
            if snapshot_at and written >= snapshot_at[0] + 20:
                writes_after_snapshot.set()
            await asyncio.sleep(0)

    def hold_the_snapshot(connection: sqlite3.Connection) -> None:
        snapshot.update(digest(connection))
        snapshot_at.append(written)
        # The copy starts only after 20 more writes committed: they must not be in it, and must not wait for it.
        assert writes_after_snapshot.wait(timeout=120), "writes stalled while the backup held its snapshot"

    load = asyncio.create_task(reps_write())
    await warmed_up.wait()
    source = Path(get_settings().sqlite_path)
    backup_file = tmp_path / "nightly.db"
    result = await asyncio.to_thread(backup_sqlite, source, backup_file, on_snapshot=hold_the_snapshot)
    stop.set()
    await load

    assert result.tables == snapshot  # every table, row for row, as of the snapshot
    assert all(result.tables[t].rows > 0 for t in KEY_TABLES)
    assert await _count("contacts") >= result.tables["contacts"].rows + 20  # writes went on meanwhile
    assert not Path(f"{backup_file}-wal").exists()  # one self-contained file
    assert check_backup_file(backup_file) == snapshot

    fresh = tmp_path / "fresh" / "fieldcrm.db"
    restored = restore_sqlite(backup_file, fresh)
    assert restored.tables == snapshot
    with sqlite3.connect(fresh) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # what the API asserts at start-up
        names = connection.execute("SELECT count(*) FROM contacts WHERE name LIKE '联系人 %'").fetchone()[0]
        counter, horizon = connection.execute(
            "SELECT value, (SELECT version FROM sync_horizon) FROM change_counter WHERE id = 1"
        ).fetchone()
    assert names == snapshot["contacts"].rows
    with sqlite3.connect(backup_file) as connection:
        backed_up = connection.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]
    # devices that pulled after the backup hold cursors past it: every cursor now resets to a full snapshot
    assert counter == horizon == backed_up + CURSOR_JUMP


@pytest.mark.sqlite_only
async def test_the_commands_back_up_restore_and_refuse_what_would_lose_data(org: Org, tmp_path: Path) -> None:
    await make_account(org, name="北京联通集团")
    live = get_settings().database_url
    backup_file = tmp_path / "b.db"

    made = _fieldcrm("backup", str(backup_file), database_url=live)
    assert made.returncode == 0, made.stderr
    assert "integrity ok" in made.stdout
    again = _fieldcrm("backup", str(backup_file), database_url=live)
    assert again.returncode != 0
    assert "already exists" in again.stderr

    fresh = tmp_path / "fresh.db"
    done = _fieldcrm("restore", str(backup_file), database_url=f"sqlite:///{fresh}")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(fresh) as connection:
        assert connection.execute("SELECT name FROM accounts").fetchall() == [("北京联通集团",)]

    # the restored database now holds data: replacing it needs --force
    refused = _fieldcrm("restore", str(backup_file), database_url=f"sqlite:///{fresh}")
    assert refused.returncode != 0
    assert "--force" in refused.stderr
    forced = _fieldcrm("restore", str(backup_file), "--force", database_url=f"sqlite:///{fresh}")
    assert forced.returncode == 0, forced.stderr

    # a file that is not a backup, or a damaged one, is refused before anything is touched
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    bad = _fieldcrm("restore", str(not_sqlite), "--force", database_url=f"sqlite:///{fresh}")
    assert bad.returncode != 0
    assert "not a SQLite database" in bad.stderr
    damaged = tmp_path / "damaged.db"
    data = bytearray(backup_file.read_bytes())
    page = 4096
    data[page * 3 : page * 6] = uuid.uuid4().bytes * (page * 3 // 16)
    damaged.write_bytes(bytes(data))
    broken = _fieldcrm("restore", str(damaged), "--force", database_url=f"sqlite:///{fresh}")
    assert broken.returncode != 0
    assert "damaged" in broken.stderr or "not a SQLite database" in broken.stderr
    with sqlite3.connect(fresh) as connection:  # still the good restore
        assert connection.execute("SELECT name FROM accounts").fetchall() == [("北京联通集团",)]


@pytest.mark.postgres_only
def test_on_postgresql_the_backup_command_points_to_pg_dump() -> None:
    assert IS_POSTGRES
    url = os.environ["DATABASE_URL"]
    for command in ("backup", "restore"):
        answer = _fieldcrm(command, "x.dump", database_url=url)
        assert answer.returncode != 0
        assert "pg_dump" in answer.stderr
        assert "docs/backup.md" in answer.stderr
