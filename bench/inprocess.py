"""In-process measurements of the bench, against the database in DATABASE_URL.

* ``probe``: how many SQL statements each measured endpoint issues, through the real app
  (``httpx.ASGITransport`` against ``create_app()``, counted by ``fieldcrm.lib.db.count_queries``).
* ``write-baseline``: the bare cost of a single-row write through the same engine the API uses
  (``write_transaction()`` and a Piccolo insert, committed with the same durability settings),
  with N concurrent tasks: the floor under ``PATCH /api/accounts/{id}``.

Run by ``bench/run.py`` with DATABASE_URL set; prints one JSON document.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "fieldcrm.piccolo_conf")

import httpx
from bench.load import COMMON_TERM, PASSWORD, ROLES, percentile
from piccolo.columns import UUID, Text, Timestamptz
from piccolo.table import Table

from fieldcrm.app import create_app
from fieldcrm.lib.db import (
    FieldcrmSQLiteEngine,
    close_engine,
    count_queries,
    engine,
    open_engine,
    write_transaction,
)
from fieldcrm.lib.tables import utcnow


class BenchWrite(Table, tablename="bench_write_baseline"):
    """A scratch table of the bench database only (created and dropped here)."""

    id = UUID(primary_key=True)
    account = UUID(index=True)
    notes = Text()
    at = Timestamptz()


async def probe() -> dict[str, Any]:
    app = create_app()
    counts: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for role in ROLES:
            response = await client.post("/api/auth/login", json={"username": role, "password": PASSWORD})
            response.raise_for_status()
            headers = {"Authorization": f"Bearer {response.json()['token']}"}
            page = (await client.get("/api/accounts?limit=20&sort=-revenue", headers=headers)).json()
            account = page["items"][0]
            requests = {
                "list": ("GET", "/api/accounts?limit=20", None),
                "search_common": ("GET", f"/api/accounts?limit=20&q={COMMON_TERM}", None),
                "search_rare": ("GET", f"/api/accounts?limit=20&q={account['code']}", None),
                "overview": ("GET", f"/api/accounts/{account['id']}/overview", None),
                "write": ("PATCH", f"/api/accounts/{account['id']}", {"notes": f"probe {time.time_ns()}"}),
                "health": ("GET", "/health", None),
            }
            for name, (method, url, body) in requests.items():
                with count_queries() as statements:
                    response = await client.request(method, url, json=body, headers=headers)
                if response.status_code != 200:
                    msg = f"{method} {url} as {role}: {response.status_code} {response.text[:300]}"
                    raise RuntimeError(msg)
                counts[f"{name}/{role}"] = {"queries": len(statements), "sql": [s[:160] for s in statements]}
    return counts


async def write_baseline(*, clients: int, seconds: float, max_requests: int) -> dict[str, Any]:
    db = engine()
    await BenchWrite.create_table(if_not_exists=True)
    latencies: list[float] = []
    per_client = max(1, max_requests // clients)

    async def worker(index: int, until: float, record: bool) -> None:
        account = uuid.uuid4()
        for n in range(per_client):
            if time.monotonic() > until:
                return
            started = time.perf_counter()
            async with write_transaction():
                await BenchWrite.insert(BenchWrite(id=uuid.uuid4(), account=account, notes=f"{index}-{n}", at=utcnow()))
            if record:
                latencies.append((time.perf_counter() - started) * 1000)

    try:
        warm = time.monotonic() + 0.5
        await asyncio.gather(*(worker(i, warm, record=False) for i in range(clients)))
        started = time.monotonic()
        await asyncio.gather(*(worker(i, started + seconds, record=True) for i in range(clients)))
        elapsed = time.monotonic() - started
    finally:
        await BenchWrite.alter().drop_table(if_exists=True)
    pragmas = await db.settings_in_force() if isinstance(db, FieldcrmSQLiteEngine) else {}
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "n": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "sqlite_pragmas": pragmas,
    }


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["probe", "write-baseline"])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    await open_engine()
    try:
        if args.what == "probe":
            result = await probe()
        else:
            result = await write_baseline(clients=args.clients, seconds=args.duration, max_requests=100_000)
    finally:
        await close_engine()
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
