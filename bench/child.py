"""Run a bench's measuring half in a child process against a fresh database.

Each bench script measures in a child (``--child <db>``) so that one database's connections,
caches and imports never colour the other's figures; the parent makes the database fresh: a
SQLite file in a new temporary folder, or a PostgreSQL database dropped and created again on
the server of ``BENCH_PG_URL``.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database_url(db: str, name: str) -> str:
    """A new empty database for ``db`` (sqlite or postgres) named after the bench."""
    if db == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"fieldcrm-bench-{name}-"))
        return f"sqlite:///{folder / 'bench.db'}"
    import asyncpg

    async def fresh() -> None:
        admin = await asyncpg.connect(PG_BASE)
        await admin.execute(f'DROP DATABASE IF EXISTS "fieldcrm_bench_{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "fieldcrm_bench_{name}"')
        await admin.close()

    asyncio.run(fresh())
    return PG_BASE.rsplit("/", 1)[0] + f"/fieldcrm_bench_{name}"


def run_child(script: str, db: str, name: str, args: list[str], *, timeout: int = 3000) -> dict[str, Any]:
    """Run ``script --child db *args`` on a fresh database; its last stdout line is the JSON result."""
    env = {**os.environ, "DATABASE_URL": fresh_database_url(db, name)}
    out = subprocess.run(
        [sys.executable, script, "--child", db, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        out.check_returncode()
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
