"""Offline-sync figures: a rep's full pull (time and bytes) and a push of 500 mutations.

    python bench/sync_bench.py [--db sqlite|postgres|both] [--accounts 12000] [--runs 5]

Seeds the demo company (about 40 reps, so 12,000 accounts give a rep about 300) into a bench
database, then measures in-process through the ASGI app (no network in the way): the full
snapshot pull of the demo `rep` (every page, new client id each run), and a push of 500
mutations in one batch (contacts and notes on the rep's accounts, new client id each run).
A baseline measured in the same run — 500 single-row inserts through the same engine, one
transaction — puts the push figure in proportion. Prints medians; targets from the issue:
pull under 300 ms and 1 MB, push of 500 under 250 ms p50.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid

from child import run_child


async def measure(accounts: int, runs: int) -> dict[str, object]:
    import httpx

    from fieldcrm.app import create_app
    from fieldcrm.cli import migrate
    from fieldcrm.demo import build_demo
    from fieldcrm.lib.db import close_engine, open_engine, write_transaction

    await migrate()
    await build_demo(accounts=accounts, seed=7)
    await open_engine()
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.post("/api/auth/login", json={"username": "rep", "password": "fieldcrm-demo"})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        pulls, sizes, counts = [], [], {}
        for _ in range(runs):
            device, cursor, size = str(uuid.uuid4()), None, 0
            started = time.perf_counter()
            while True:
                r = await client.post("/api/sync/pull", json={"clientId": device, "cursor": cursor}, headers=headers)
                body = r.json()
                size += len(r.content)
                cursor = body["cursor"]
                if not body["more"]:
                    break
            pulls.append((time.perf_counter() - started) * 1000)
            sizes.append(size)
            counts = {k: len(body[k]) for k in ("accounts", "contacts", "holdings", "revenue")}
        account_ids = [a["id"] for a in body["accounts"]][:50]
        pushes = []
        for run in range(runs):
            mutations = []
            for i in range(500):
                account = account_ids[i % len(account_ids)]
                if i % 2:
                    args = {"id": str(uuid.uuid4()), "accountId": account, "text": f"bench note {run}-{i}"}
                    mutations.append({"id": i + 1, "name": "account.note", "args": args})
                else:
                    args = {
                        "id": str(uuid.uuid4()),
                        "accountId": account,
                        "name": f"联系人{run}-{i}",
                        "phones": ["13800000000"],
                    }
                    mutations.append({"id": i + 1, "name": "contact.create", "args": args})
            started = time.perf_counter()
            r = await client.post(
                "/api/sync/push", json={"clientId": str(uuid.uuid4()), "mutations": mutations}, headers=headers
            )
            pushes.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200, r.text
            assert all(x["status"] == "applied" for x in r.json()["results"])
    from fieldcrm.accounts.tables import AccountNote

    baseline = []
    for run in range(runs):
        started = time.perf_counter()
        async with write_transaction():
            for i in range(500):
                await AccountNote.insert(AccountNote(account=uuid.UUID(account_ids[0]), text=f"baseline {run}-{i}"))
        baseline.append((time.perf_counter() - started) * 1000)
    await close_engine()
    push_p50 = statistics.median(pushes)
    base_p50 = statistics.median(baseline)
    return {
        "pull_ms_p50": round(statistics.median(pulls), 1),
        "pull_bytes": int(statistics.median(sizes)),
        "pull_rows": counts,
        "push500_ms_p50": round(push_p50, 1),
        "push500_ms_max": round(max(pushes), 1),
        "baseline_500_inserts_ms_p50": round(base_p50, 1),
        "push_over_baseline": round(push_p50 / base_p50, 2),
    }


def child(db: str, accounts: int, runs: int) -> None:
    result = asyncio.run(measure(accounts, runs))
    print(json.dumps({"db": db, **result}))


def run_one(db: str, accounts: int, runs: int) -> dict[str, object]:
    return run_child(__file__, db, "sync", ["--accounts", str(accounts), "--runs", str(runs)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--accounts", type=int, default=12000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.accounts, args.runs)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        result = run_one(db, args.accounts, args.runs)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
