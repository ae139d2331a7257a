"""Quote figures: submitting a quote and routing it on the workflow engine (target: under 50 ms).

    python bench/sales_bench.py [--db sqlite|postgres|both] [--accounts 2000] [--quotes 200] [--runs 3]

Seeds the demo company into a bench database of its own, then, in-process through the ASGI app (no
network in the way), as the demo `rep`: drafts ``--quotes`` quotes of three lines each on the rep's
accounts, and times ``POST /api/quotes/{id}/transitions {"action": "submit"}`` one at a time --
half at 12 % (routed to the rep's manager: an instance, a step, its deciders, the audit and the
notification outbox rows), half at 3 % (approves itself at once). Baselines measured in the same
run: ``GET /api/quotes/{id}`` of the same quotes, and creating the draft. Prints p50/p99 per run and
their medians over the runs.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

from child import run_child

TARGET_MS = 50.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_run(
    client: Any, rep: dict[str, str], account_ids: list[str], products: list[str], quotes: int
) -> dict[str, float]:
    """Draft ``quotes`` quotes, then submit and read each one; the percentiles of one run."""
    creates: list[float] = []
    reads: list[float] = []
    routed: list[float] = []
    auto: list[float] = []
    made: list[tuple[str, int]] = []
    for n in range(quotes):
        discount = 1200 if n % 2 == 0 else 300
        lines = [{"productId": p, "quantity": 1 + n % 5, "discountBp": discount} for p in products]
        started = time.perf_counter()
        r = await client.post(
            "/api/quotes", json={"accountId": account_ids[n % len(account_ids)], "lines": lines}, headers=rep
        )
        creates.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 201, r.text
        made.append((r.json()["id"], discount))
    for quote_id, discount in made:
        started = time.perf_counter()
        r = await client.post(f"/api/quotes/{quote_id}/transitions", json={"action": "submit"}, headers=rep)
        elapsed = (time.perf_counter() - started) * 1000
        assert r.status_code == 200, r.text
        expected = "submitted" if discount > 500 else "approved"
        assert r.json()["state"] == expected, r.json()["state"]
        (routed if discount > 500 else auto).append(elapsed)
        started = time.perf_counter()
        r = await client.get(f"/api/quotes/{quote_id}", headers=rep)
        reads.append((time.perf_counter() - started) * 1000)
    return {
        "submit_routed_p50": pct(routed, 0.5),
        "submit_routed_p99": pct(routed, 0.99),
        "submit_auto_p50": pct(auto, 0.5),
        "submit_auto_p99": pct(auto, 0.99),
        "create_draft_p50": pct(creates, 0.5),
        "read_quote_p50": pct(reads, 0.5),
        "read_quote_p99": pct(reads, 0.99),  # the tail of a two-query read: how noisy the machine is
    }


async def measure(accounts: int, quotes: int, runs: int) -> dict[str, object]:
    import httpx

    from fieldcrm.app import create_app
    from fieldcrm.cli import migrate
    from fieldcrm.demo import build_demo
    from fieldcrm.lib.db import close_engine, open_engine

    await migrate()
    await build_demo(accounts=accounts, seed=7)
    await open_engine()
    app = create_app()
    per_run: list[dict[str, float]] = []
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's ASGI types are narrower
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def token(username: str) -> dict[str, str]:
            r = await client.post("/api/auth/login", json={"username": username, "password": "fieldcrm-demo"})
            assert r.status_code == 200, r.text
            client.cookies.clear()  # a later login would end this session through its cookie
            return {"Authorization": f"Bearer {r.json()['token']}"}

        rep, hq = await token("rep"), await token("hq")
        products = []
        for i in range(3):
            body = {
                "code": f"BENCH-{uuid.uuid4().hex[:8]}-{i}",
                "name": f"专线 {i}",
                "listPriceCents": 100_000 * (i + 1),
                "maxDiscountBp": 2000,
            }
            r = await client.post("/api/products", json=body, headers=hq)
            assert r.status_code == 201, r.text
            products.append(r.json()["id"])
        r = await client.get("/api/accounts", params={"limit": 50}, headers=rep)
        assert r.status_code == 200, r.text
        account_ids = [a["id"] for a in r.json()["items"]]
        assert account_ids, "the demo rep owns no accounts"
        for _ in range(runs):
            per_run.append(await one_run(client, rep, account_ids, products, quotes))
    await close_engine()
    result: dict[str, object] = {key: round(statistics.median(run[key] for run in per_run), 2) for key in per_run[0]}
    result["routed_over_read"] = round(float(result["submit_routed_p50"]) / float(result["read_quote_p50"]), 1)  # type: ignore[arg-type]
    result["runs"] = [{k: round(v, 2) for k, v in run.items()} for run in per_run]
    result["target_met"] = float(result["submit_routed_p99"]) < TARGET_MS  # type: ignore[arg-type]
    return result


def child(db: str, accounts: int, quotes: int, runs: int) -> None:
    result = asyncio.run(measure(accounts, quotes, runs))
    print(json.dumps({"db": db, **result}))


def run_one(db: str, accounts: int, quotes: int, runs: int) -> dict[str, object]:
    return run_child(__file__, db, "sales", ["--accounts", str(accounts), "--quotes", str(quotes), "--runs", str(runs)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--quotes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.accounts, args.quotes, args.runs)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        result = run_one(db, args.accounts, args.quotes, args.runs)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
