"""Field-work figures: the coverage map, the neglected list and check-in throughput.

    python bench/visits_bench.py [--db sqlite|postgres|both] [--accounts 100000] [--visits-per-account 14] [--runs 30]

Seeds the demo company with 100,000 accounts and about a million visits into a bench database,
then measures in-process through the ASGI app (no network in the way):

* the coverage map for HQ (all of China, zoom 5: H3 resolution 3) and for a province view
  (Shandong, zoom 8: resolution 5), as HQ and as the province's director;
* the neglected list's first page (HQ, director) and the coverage shares by province;
* check-in throughput: 16 concurrent clients posting check-ins for 5 s, against a baseline
  measured in the same run — 16 concurrent bare single-row inserts through the same engine
  (``write_transaction()`` and one Piccolo insert each).

Prints p50/p99 of each and the ratio of check-ins to the baseline. Targets (issue 4): map p50 under
200 ms for the province view and for HQ, the neglected list under 100 ms, check-ins at least half
the baseline.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

from child import run_child

CHINA = "73,18,135,54"
SHANDONG = "114.5,34.3,122.8,38.4"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "p99": round(percentile(values, 0.99), 1)}


async def timed(client: Any, url: str, headers: dict[str, str], runs: int) -> dict[str, Any]:
    times = []
    body: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        r = await client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            msg = f"GET {url}: {r.status_code} {r.text[:300]}"
            raise RuntimeError(msg)
        body = r.json()
    out: dict[str, Any] = summary(times)
    if isinstance(body, dict) and body.get("mode") == "hex":
        out["cells"] = len(body["cells"])
        out["accounts"] = sum(c["accounts"] for c in body["cells"])
    if isinstance(body, dict) and body.get("mode") == "points":
        out["points"] = len(body["points"])
    if isinstance(body, dict) and "total" in body and isinstance(body["total"], int):
        out["total"] = body["total"]
    return out


async def throughput(make_call: Any, *, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    warm = time.perf_counter() + 0.5

    async def worker() -> None:
        until = warm + seconds
        while True:
            started = time.perf_counter()
            if started >= until:
                return
            await make_call()
            if started >= warm:
                latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return {"per_s": round(len(latencies) / seconds, 1), **summary(latencies)}


async def measure(accounts: int, per_account: float, runs: int) -> dict[str, Any]:
    import httpx
    from piccolo.columns import UUID, Text, Timestamptz
    from piccolo.table import Table

    from fieldcrm.app import create_app
    from fieldcrm.cli import migrate
    from fieldcrm.demo import build_demo
    from fieldcrm.lib.db import close_engine, open_engine, write_transaction
    from fieldcrm.lib.tables import utcnow
    from fieldcrm.org.services import authenticate
    from fieldcrm.visits import services as visit_services
    from fieldcrm.visits.schemas import CheckinCreate
    from fieldcrm.visits.tables import Visit

    class BenchWrite(Table, tablename="bench_write_baseline"):
        id = UUID(primary_key=True)
        account = UUID(index=True)
        notes = Text()
        at = Timestamptz()

    await migrate()
    started = time.perf_counter()
    built = await build_demo(accounts=accounts, seed=11, visits_per_account=per_account)
    build_s = time.perf_counter() - started
    await open_engine()
    visits = await Visit.count()
    result: dict[str, Any] = {"accounts": accounts, "visits": visits, "build_s": round(build_s, 1), "demo": built}
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
        tokens = {}
        for who in ("hq", "director", "rep"):
            r = await client.post("/api/auth/login", json={"username": who, "password": "fieldcrm-demo"})
            tokens[who] = {"Authorization": f"Bearer {r.json()['token']}"}
            client.cookies.clear()  # a login with a session cookie would end the previous one
        reads = {
            "map_hq_china_z5/hq": ("hq", f"/api/coverage/map?bbox={CHINA}&zoom=5"),
            "map_province_z8/hq": ("hq", f"/api/coverage/map?bbox={SHANDONG}&zoom=8"),
            "map_province_z8/director": ("director", f"/api/coverage/map?bbox={SHANDONG}&zoom=8"),
            "map_city_z11/hq": ("hq", "/api/coverage/map?bbox=116.8,36.5,117.4,36.9&zoom=11"),
            "map_points_z14/hq": ("hq", "/api/coverage/map?bbox=117.05,36.6,117.2,36.72&zoom=14"),
            "neglected/hq": ("hq", "/api/coverage/neglected?limit=20"),
            "neglected/director": ("director", "/api/coverage/neglected?limit=20"),
            "neglected_tier_a/hq": ("hq", "/api/coverage/neglected?limit=20&tier=A"),
            "coverage_by_province/hq": ("hq", "/api/coverage?groupBy=province"),
            "coverage_by_rep/director": ("director", "/api/coverage?groupBy=rep"),
        }
        for name, (who, url) in reads.items():
            await timed(client, url, tokens[who], 2)  # warm caches
            result[name] = await timed(client, url, tokens[who], runs)

        page = (await client.get("/api/accounts?limit=50", headers=tokens["rep"])).json()
        sites = [(a["id"], a["latitude"], a["longitude"]) for a in page["items"] if a["latitude"] is not None]

        async def check_in() -> None:
            account, lat, lon = sites[int(time.perf_counter_ns()) % len(sites)]
            body = {
                "id": str(uuid.uuid4()),
                "accountId": account,
                "latitude": lat + (time.perf_counter_ns() % 1000) * 1e-7,
                "longitude": lon,
                "accuracyM": 15,
                "deviceAt": utcnow().isoformat(),
            }
            r = await client.post("/api/checkins", json=body, headers=tokens["rep"])
            if r.status_code != 201:
                msg = f"check-in: {r.status_code} {r.text[:300]}"
                raise RuntimeError(msg)

        await BenchWrite.create_table(if_not_exists=True)
        account_id = uuid.UUID(sites[0][0])

        async def bare_insert() -> None:
            async with write_transaction():
                await BenchWrite.insert(BenchWrite(id=uuid.uuid4(), account=account_id, notes="x", at=utcnow()))

        rep = await authenticate(tokens["rep"]["Authorization"].removeprefix("Bearer "), via_cookie=False)
        assert rep is not None

        async def check_in_service() -> None:
            account, lat, lon = sites[int(time.perf_counter_ns()) % len(sites)]
            data = CheckinCreate(
                id=uuid.uuid4(),
                account_id=uuid.UUID(account),
                latitude=lat + (time.perf_counter_ns() % 1000) * 1e-7,
                longitude=lon,
                accuracy_m=15,
                device_at=utcnow(),
            )
            await visit_services.check_in(actor=rep, data=data)

        rounds = []
        for _ in range(3):  # alternate, so that a busy moment of the shared machine hits all three
            base = await throughput(bare_insert, clients=16, seconds=5)
            service = await throughput(check_in_service, clients=16, seconds=5)
            http = await throughput(check_in, clients=16, seconds=5)
            rounds.append((base, service, http))
        result["baseline_insert"] = [b for b, _, _ in rounds]
        result["checkin_service"] = [c for _, c, _ in rounds]
        result["checkin_http"] = [h for _, _, h in rounds]
        result["checkin_service_over_baseline_median"] = round(
            statistics.median(c["per_s"] / b["per_s"] for b, c, _ in rounds), 3
        )
        result["checkin_http_over_baseline_median"] = round(
            statistics.median(h["per_s"] / b["per_s"] for b, _, h in rounds), 3
        )
        await BenchWrite.alter().drop_table(if_exists=True)
    await close_engine()
    return result


def child(db: str, accounts: int, per_account: float, runs: int) -> None:
    result = asyncio.run(measure(accounts, per_account, runs))
    print(json.dumps({"db": db, **result}, ensure_ascii=False))


def run_one(db: str, accounts: int, per_account: float, runs: int) -> dict[str, Any]:
    return run_child(
        __file__,
        db,
        "visits",
        ["--accounts", str(accounts), "--visits-per-account", str(per_account), "--runs", str(runs)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--visits-per-account", type=float, default=14.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.accounts, args.visits_per_account, args.runs)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        print(json.dumps(run_one(db, args.accounts, args.visits_per_account, args.runs), ensure_ascii=False))


if __name__ == "__main__":
    main()
