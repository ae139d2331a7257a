"""Offline-sync figures: a rep's full pull of the field day and an incremental pull, time and bytes on the wire.

    python bench/sync_bench.py [--db sqlite|postgres|both] [--scale 1,3] [--runs 5]

Seeds, per scale step, one rep with 300 accounts and a year of work (1,500 visits, 150 opportunities,
60 quotes with 3 lines, 20 cases, 200 tasks; each account with 3 contacts, 2 holdings and 12 months of
revenue) — at 3x everything three times — plus 20 other reps with as much each, so the rep's scope
is a slice of the data. Rows go in with plain inserts (the triggers stamp their sync versions as for
any writer), then ANALYZE. Then, in-process through the ASGI app, it measures the rep's full pull (every page,
a new client id each run), its bytes on the wire uncompressed, gzip and brotli, an incremental
pull after one change (an account's notes edited), and ``GET /api/me`` as the floor under any
request in the same conditions. Prints medians. Budget (docs/sync.md): full pull
under 1.5 MB on the wire and 500 ms; incremental pull under 20 ms.
"""

import argparse
import asyncio
import datetime
import itertools
import json
import random
import statistics
import time
import uuid
from typing import Any

from child import run_child

OTHER_REPS = 20


async def seed(scale: int) -> None:  # noqa: PLR0912 - one loop per kind of row, in plain sight
    from fieldcrm.accounts.tables import Account, Contact, Holding, Revenue
    from fieldcrm.cases.tables import Case
    from fieldcrm.lib.db import write_transaction
    from fieldcrm.org import services as org
    from fieldcrm.org.schemas import OrgUnitCreate, UserCreate
    from fieldcrm.sales.tables import Opportunity, Product, Quote, QuoteLine
    from fieldcrm.tasks.tables import Task
    from fieldcrm.visits.tables import Visit, VisitPlan

    rng = random.Random(7)
    seqs = itertools.count(1)
    hq = await org.create_unit(actor=None, data=OrgUnitCreate(name="HQ", kind="hq", parent_id=None))  # type: ignore[arg-type]
    team = await org.create_unit(actor=None, data=OrgUnitCreate(name="Team", kind="team", parent_id=hq.id))  # type: ignore[arg-type]
    reps = []
    for i in range(1 + OTHER_REPS):
        user = await org.create_user(
            actor=None,
            data=UserCreate(
                username="rep" if i == 0 else f"rep{i}",
                display_name=f"代表 {i}",
                password="fieldcrm-bench",
                role="rep",
                org_unit_id=team.id,
            ),  # type: ignore[arg-type]
        )
        reps.append(user.id)
    product_id = uuid.uuid4()
    now = datetime.datetime.now(tz=datetime.UTC)
    today = now.date()
    async with write_transaction():
        await Product.insert(Product(id=product_id, code="P1", name="专线 100M", list_price_cents=100_000))
    for owner in reps:
        accounts = [uuid.uuid4() for _ in range(300 * scale)]
        rows: dict[str, list[Any]] = {k: [] for k in ("a", "c", "h", "r", "v", "p", "o", "q", "l", "k", "t")}
        for n, a in enumerate(accounts):
            lat, lon = 36.6 + rng.random() * 0.3, 117.0 + rng.random() * 0.3
            rows["a"].append(
                Account(
                    id=a,
                    code=f"A{owner.hex[:6]}{n:05d}",
                    name=f"山东客户{n:05d}有限公司",
                    search_text=f"山东客户{n:05d}有限公司",
                    owner=owner,
                    org_unit=team.id,
                    address=f"济南市历下区经十路{n}号",
                    city="济南",
                    latitude=lat,
                    longitude=lon,
                    tier="ABC"[n % 3],
                    status="active",
                    notes="重点客户，季度回访",
                )
            )
            for c in range(3):
                rows["c"].append(Contact(account=a, name=f"联系人{c}", title="经理", phones='["13800000000"]'))
            for h in range(2):
                rows["h"].append(Holding(account=a, product=f"专线 {h}", quantity=1, monthly_fee_cents=50_000))
            for m in range(12):
                month = datetime.date(today.year - (1 if today.month <= m else 0), (today.month - m - 1) % 12 + 1, 1)
                rows["r"].append(Revenue(account=a, month=month, amount_cents=rng.randrange(10_000, 900_000)))
        for i in range(1500 * scale):
            day = today - datetime.timedelta(days=rng.randrange(0, 365))
            at = datetime.datetime.combine(day, datetime.time(2, 0), tzinfo=datetime.UTC)
            rows["v"].append(
                Visit(
                    account=accounts[i % len(accounts)],
                    user=owner,
                    latitude=36.7,
                    longitude=117.1,
                    accuracy_m=12.0,
                    fix_at=at,
                    device_at=at,
                    sent_at=at,
                    received_at=at,
                    checked_in_at=at,
                    checked_in_on=day,
                    verdict="verified",
                    counts_for_coverage=True,
                    purpose="季度回访",
                    outcome="客户满意，讨论扩容",
                )
            )
        for i in range(90 * scale):
            rows["p"].append(
                VisitPlan(
                    account=accounts[i % len(accounts)],
                    owner=owner,
                    date=today + datetime.timedelta(days=rng.randrange(-30, 60)),
                    purpose="回访",
                )
            )
        for i in range(150 * scale):
            closed = None if i % 3 else now - datetime.timedelta(days=rng.randrange(0, 365))
            rows["o"].append(
                Opportunity(
                    account=accounts[i % len(accounts)],
                    owner=owner,
                    name=f"专线扩容 {i}",
                    stage="won" if closed else "proposal",
                    probability=100 if closed else 50,
                    amount_cents=rng.randrange(100_000, 10_000_000),
                    closed_at=closed,
                    next_step="报价",
                )
            )
        for i in range(60 * scale):
            q = uuid.uuid4()
            rows["q"].append(
                Quote(
                    id=q,
                    number=f"Q-{today.year}-{owner.hex[:4]}{i:04d}",
                    year=today.year,
                    seq=next(seqs),
                    account=accounts[i % len(accounts)],
                    owner=owner,
                    title=f"专线报价 {i}",
                    state="draft" if i % 2 else "accepted",
                    total_cents=300_000,
                    list_total_cents=300_000,
                )
            )
            for p in range(3):
                rows["l"].append(
                    QuoteLine(
                        quote=q,
                        position=p + 1,
                        product=product_id,
                        product_code="P1",
                        product_name="专线 100M",
                        quantity=1,
                        list_price_cents=100_000,
                        unit_price_cents=100_000,
                        total_cents=100_000,
                    )
                )
        for i in range(20 * scale):
            rows["k"].append(
                Case(
                    account=accounts[i % len(accounts)],
                    owner=owner,
                    type="complaint",
                    priority="normal",
                    title=f"账单疑问 {i}",
                    state="open" if i % 2 else "resolved",
                    due_at=now + datetime.timedelta(days=3),
                )
            )
        for i in range(200 * scale):
            rows["t"].append(
                Task(
                    title=f"回访客户 {i}",
                    account=accounts[i % len(accounts)],
                    assignee=owner,
                    due_date=today + datetime.timedelta(days=rng.randrange(-10, 30)),
                    state="open" if i % 2 else "done",
                    completed_at=None if i % 2 else now - datetime.timedelta(days=rng.randrange(0, 60)),
                )
            )
        async with write_transaction():
            for batch in rows.values():
                for start in range(0, len(batch), 500):
                    chunk = batch[start : start + 500]
                    await type(chunk[0]).insert(*chunk)


async def _pull_all(client: Any, headers: dict[str, str], encoding: str) -> tuple[float, int, dict[str, Any], str]:
    device, cursor, size, counts = str(uuid.uuid4()), None, 0, {}
    started = time.perf_counter()
    while True:
        r = await client.post(
            "/api/sync/pull",
            json={"clientId": device, "cursor": cursor},
            headers={**headers, "Accept-Encoding": encoding},
        )
        assert r.status_code == 200, r.text
        size += r.num_bytes_downloaded
        body = r.json()
        for k, v in body.items():
            if isinstance(v, list):
                counts[k] = counts.get(k, 0) + len(v)
        cursor = body["cursor"]
        if not body["more"]:
            break
    return (time.perf_counter() - started) * 1000, size, counts, device + "|" + cursor


async def measure(scale: int, runs: int) -> dict[str, object]:
    import httpx

    from fieldcrm.accounts.tables import Account
    from fieldcrm.app import create_app
    from fieldcrm.cli import migrate
    from fieldcrm.lib.db import close_engine, count_queries, open_engine

    await migrate()
    await open_engine()
    await seed(scale)
    # Fresh planner statistics after the bulk load, as PostgreSQL's autovacuum would gather shortly after
    # (and `PRAGMA optimize` on SQLite): without them the planner guesses, and guesses scans.
    await Account.raw("ANALYZE")
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.post("/api/auth/login", json={"username": "rep", "password": "fieldcrm-bench"})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        await _pull_all(client, headers, "br")  # warm caches once
        times, wire = [], {}
        counts: dict[str, Any] = {}
        for encoding in ("identity", "gzip", "br"):
            sizes = []
            for _ in range(runs):
                ms, size, counts, last = await _pull_all(client, headers, encoding)
                sizes.append(size)
                if encoding == "br":
                    times.append(ms)
            wire[encoding] = int(statistics.median(sizes))
        device, cursor = last.split("|", 1)
        some = await Account.select(Account.id).where(Account.code.like("A%")).first()
        deltas = []
        for run in range(runs):
            r = await client.patch(f"/api/accounts/{some['id']}", json={"notes": f"改 {run}"}, headers=headers)
            assert r.status_code == 200, r.text
            started = time.perf_counter()
            with count_queries() as statements:
                r = await client.post(
                    "/api/sync/pull",
                    json={"clientId": device, "cursor": cursor},
                    headers={**headers, "Accept-Encoding": "br"},
                )
            queries = len(statements)
            deltas.append((time.perf_counter() - started) * 1000)
            body = r.json()
            assert body["reset"] is False, body
            assert len(body["accounts"]) == 1, body
            cursor = body["cursor"]
        # The floor under any request in the same conditions (session lookup, routing, encoding): GET /api/me.
        floor = []
        for _ in range(runs):
            started = time.perf_counter()
            r = await client.get("/api/me", headers=headers)
            floor.append((time.perf_counter() - started) * 1000)
    await close_engine()
    return {
        "scale": scale,
        "full_pull_ms_p50": round(statistics.median(times), 1),
        "full_pull_bytes": wire,
        "rows": {k: v for k, v in counts.items() if k != "revenue"} | {"revenue": counts.get("revenue", 0)},
        "incremental_pull_ms_p50": round(statistics.median(deltas), 1),
        "incremental_pull_ms_max": round(max(deltas), 1),
        "get_me_ms_p50": round(statistics.median(floor), 1),
        "incremental_pull_queries": queries,
    }


def child(db: str, scale: int, runs: int) -> None:
    result = asyncio.run(measure(scale, runs))
    print(json.dumps({"db": db, **result}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--scale", default="1,3")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, int(args.scale), args.runs)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        for scale in (int(s) for s in args.scale.split(",")):
            result = run_child(__file__, db, f"sync{scale}", ["--scale", str(scale), "--runs", str(args.runs)])
            print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
