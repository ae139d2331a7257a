"""KPI figures: the HQ dashboard, a team leaderboard, a rep's KPIs and the 12-month trend, against GET /api/me.

    python bench/kpi_bench.py [--db sqlite|postgres|both] [--accounts 100000] [--visits-per-account 10]
                              [--opportunities-per-account 3] [--tasks-per-account 2] [--runs 20]

Seeds the demo company (``build_demo``: accounts, about ``visits-per-account`` visits each over the
last year) into a fresh bench database, then adds in bulk what the demo has only a little of:
opportunities (created over the last 13 months, a third still open, the rest won or lost),
approved quotes with their approval instances, cases and tasks. It then measures in-process
through the ASGI app, one request at a time, each as the person who would ask:

* ``hq_dashboard``: ``GET /api/kpis?level=hq`` as HQ (this month, the month before, a year before);
* ``hq_trend``: ``GET /api/kpis/trend?level=hq`` as HQ (12 months);
* ``team_leaderboard``: ``GET /api/kpis/leaderboard`` as the demo manager (the team's reps);
* ``province_leaderboard``: the director's leaderboard (cities of the province);
* ``rep_kpis``: ``GET /api/kpis`` as the demo rep (their Home);
* ``me``: ``GET /api/me`` in the same run, the floor every ratio is taken against.

Prints p50/p99 of each and its ratio to ``me``. Targets (the issue): HQ dashboard under 300 ms, a
team leaderboard under 50 ms, a rep's Home under 30 ms, the HQ trend under 500 ms.
A quick look: ``--accounts 10000 --runs 10`` (about a minute per database).
"""

import argparse
import asyncio
import datetime
import json
import random
import statistics
import time
import uuid
from typing import Any

from child import run_child

TARGETS_MS = {"hq_dashboard": 300, "team_leaderboard": 50, "rep_kpis": 30, "hq_trend": 500}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(client: Any, url: str, headers: dict[str, str], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        r = await client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            msg = f"GET {url}: {r.status_code} {r.text[:300]}"
            raise RuntimeError(msg)
    return {"p50": round(statistics.median(times), 1), "p99": round(percentile(times, 0.99), 1)}


async def seed_selling(*, per_account: float, tasks_per_account: float, seed: int) -> dict[str, int]:
    """Opportunities, approved quotes with approval instances, cases and tasks in bulk (one transaction)."""
    from fieldcrm.accounts.tables import Account
    from fieldcrm.lib.db import executemany, write_transaction
    from fieldcrm.lib.tables import utcnow
    from fieldcrm.workflow.tables import WorkflowDefinition

    rng = random.Random(seed)
    now = utcnow()
    rows = await Account.select(Account.id, Account.owner).where(Account.deleted_at.is_null())
    accounts = [(r["id"], r["owner"]) for r in rows]
    stages = [("lead", 10), ("qualified", 25), ("proposal", 50), ("negotiation", 75)]
    opportunities, quotes, instances, steps, cases, tasks = [], [], [], [], [], []
    for account, owner in accounts:
        for _ in range(int(per_account) + (rng.random() < per_account % 1)):
            created = now - datetime.timedelta(days=rng.uniform(0, 395))
            amount = rng.randrange(10_000, 2_000_000, 1_000) * 100
            outcome = rng.random()
            closed = created + datetime.timedelta(days=rng.uniform(1, 60))
            if outcome < 0.33 or closed > now:
                stage, probability = rng.choice(stages)
                closed_at = None
            else:
                stage, probability = ("won", 100) if outcome < 0.7 else ("lost", 0)
                closed_at = closed
            expected = (created + datetime.timedelta(days=rng.randint(20, 150))).date()
            reason = rng.choice(["价格", "竞争对手", "预算取消", ""]) if stage == "lost" else ""
            opportunities.append(
                (
                    uuid.uuid4(),
                    account,
                    owner,
                    "bench",
                    stage,
                    probability,
                    amount,
                    expected,
                    "[]",
                    "",
                    "",
                    reason,
                    closed_at,
                    1,
                    1,
                    1,
                    1,
                    created,
                    created,
                    None,
                )
            )
        if rng.random() < 0.3:
            decided = now - datetime.timedelta(days=rng.uniform(0, 395))
            listed = rng.randrange(10_000, 1_000_000, 100) * 100
            discount = rng.randrange(0, 2_500)
            quote_id = uuid.uuid4()
            n = len(quotes) + 1
            quotes.append(
                (
                    quote_id,
                    f"B-{n:07d}",
                    1900,
                    n,
                    1,
                    account,
                    owner,
                    rng.choice(["approved", "sent", "accepted"]),
                    "CNY",
                    listed,
                    listed - listed * discount // 10_000,
                    discount,
                    0,
                    decided,
                    decided,
                    1,
                    decided,
                    decided,
                )
            )
            started = decided - datetime.timedelta(hours=rng.uniform(0.2, 48))
            instance_id = uuid.uuid4()
            instances.append((instance_id, "quote", quote_id, owner, account, "approved", started, decided))
            steps.append((uuid.uuid4(), instance_id, "manager", "manager", "approved", started, decided))
        if rng.random() < 0.2:
            due = now - datetime.timedelta(days=rng.uniform(-10, 395))
            resolved = due + datetime.timedelta(hours=rng.uniform(-48, 24)) if rng.random() < 0.8 else None
            state = "resolved" if resolved else "open"
            cases.append(
                (
                    uuid.uuid4(),
                    account,
                    owner,
                    rng.choice(["complaint", "fault", "service_request"]),
                    "normal",
                    "bench",
                    state,
                    due,
                    resolved,
                    due - datetime.timedelta(days=2),
                    due,
                )
            )
        for _ in range(int(tasks_per_account) + (rng.random() < tasks_per_account % 1)):
            due_day = (now - datetime.timedelta(days=rng.uniform(-20, 380))).date()
            state = rng.choice(["done", "done", "open", "skipped"])
            completed = (
                datetime.datetime.combine(due_day, datetime.time(10), tzinfo=datetime.UTC)
                + datetime.timedelta(hours=rng.uniform(-48, 48))
                if state == "done"
                else None
            )
            tasks.append((uuid.uuid4(), "bench", owner, account, due_day, state, completed, now, now))
    async with write_transaction():
        definition = WorkflowDefinition(key="bench-quote", version=1, subject="quote", body_hash="bench")
        await WorkflowDefinition.insert(definition)
        await executemany(
            "INSERT INTO opportunities (id, account, owner, name, stage, probability, amount_cents, expected_close, "
            "product_ids, competitor, next_step, lost_reason, closed_at, version, stage_version, amount_version, "
            "close_version, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?)",
            opportunities,
        )
        await executemany(
            "INSERT INTO quotes (id, number, year, seq, revision, account, owner, state, currency, list_total_cents, "
            "total_cents, discount_bp, deepest_excess_bp, submitted_at, decided_at, version, created_at, updated_at, "
            "title, notes, state_comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '')",
            quotes,
        )
        await executemany(
            "INSERT INTO workflow_instances (id, definition, definition_key, definition_version, workflow_type, "
            "subject_kind, subject_id, subject_version, owner, account_id, title, url, facts, stages, steps_spec, "
            "status, stage, started_at, ended_at) VALUES (?, ?, 'bench-quote', 1, "
            "'approval', ?, ?, 1, ?, ?, '', '', '{}', '[]', '{}', ?, 0, ?, ?)",
            [(i[0], definition.id, *i[1:]) for i in instances],
        )
        await executemany(
            "INSERT INTO workflow_steps (id, instance, name, label, stage, status, decider_kind, quorum, needed, "
            "approvals, escalation_level, activated_at, completed_at) VALUES (?, ?, ?, '', 0, ?, ?, 'any', 1, 1, 0, "
            "?, ?)",
            [(s[0], s[1], s[2], s[4], s[3], s[5], s[6]) for s in steps],
        )
        await executemany(
            "INSERT INTO cases (id, account, owner, type, priority, title, description, state, last_step, due_at, "
            "resolved_at, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, '', ?, ?, 1, ?, ?)",
            cases,
        )
        await executemany(
            "INSERT INTO tasks (id, title, description, assignee, account, due_date, priority, kind, source, state, "
            "completed_at, outcome, skip_reason, recurrence, version, due_version, assignee_version, state_version, "
            "sync_version, created_at, updated_at) VALUES (?, ?, '', ?, ?, ?, 1, 'other', 'import', ?, ?, '', '', "
            "'none', 1, 1, 1, 1, 0, ?, ?)",
            tasks,
        )
    return {
        "opportunities": len(opportunities),
        "quotes": len(quotes),
        "approvals": len(instances),
        "cases": len(cases),
        "tasks": len(tasks),
    }


async def measure(accounts: int, visits: float, opportunities: float, tasks: float, runs: int) -> dict[str, Any]:
    import httpx

    from fieldcrm.app import create_app
    from fieldcrm.cli import migrate
    from fieldcrm.demo import build_demo
    from fieldcrm.lib.db import FieldcrmSQLiteEngine, close_engine, engine, open_engine
    from fieldcrm.visits.tables import Visit

    await migrate()
    started = time.perf_counter()
    await build_demo(accounts=accounts, seed=7, visits_per_account=visits)
    await open_engine()
    seeded = await seed_selling(per_account=opportunities, tasks_per_account=tasks, seed=7)
    if isinstance(engine(), FieldcrmSQLiteEngine):
        await Visit.raw("ANALYZE")
    else:
        await Visit.raw("VACUUM ANALYZE")
    result: dict[str, Any] = {
        "accounts": accounts,
        "visits": await Visit.count(),
        **seeded,
        "build_s": round(time.perf_counter() - started, 1),
    }
    app = create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    ) as client:
        tokens = {}
        for who in ("hq", "director", "manager", "rep"):
            r = await client.post("/api/auth/login", json={"username": who, "password": "fieldcrm-demo"})
            r.raise_for_status()
            tokens[who] = {"Authorization": f"Bearer {r.json()['token']}"}
            client.cookies.clear()
        reads = {
            "me": ("rep", "/api/me"),
            "hq_dashboard": ("hq", "/api/kpis?level=hq"),
            "hq_trend": ("hq", "/api/kpis/trend?level=hq"),
            "team_leaderboard": ("manager", "/api/kpis/leaderboard"),
            "province_leaderboard": ("director", "/api/kpis/leaderboard"),
            "rep_kpis": ("rep", "/api/kpis"),
        }
        for name, (who, url) in reads.items():
            await timed(client, url, tokens[who], 2)  # warm caches
            result[name] = await timed(client, url, tokens[who], runs)
        me = result["me"]
        for name in reads:
            if name != "me":
                result[name]["p50_over_me"] = round(result[name]["p50"] / max(me["p50"], 0.01), 1)
                if name in TARGETS_MS:
                    result[name]["target_ms"] = TARGETS_MS[name]
                    result[name]["met"] = result[name]["p50"] < TARGETS_MS[name]
    await close_engine()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--visits-per-account", type=float, default=10.0)
    parser.add_argument("--opportunities-per-account", type=float, default=3.0)
    parser.add_argument("--tasks-per-account", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--child")
    args = parser.parse_args()
    numbers = [args.accounts, args.visits_per_account, args.opportunities_per_account, args.tasks_per_account]
    if args.child:
        result = asyncio.run(measure(*numbers, args.runs))  # type: ignore[arg-type]
        print(json.dumps({"db": args.child, **result}, ensure_ascii=False))
        return
    flags = ["--accounts", "--visits-per-account", "--opportunities-per-account", "--tasks-per-account"]
    forwarded = [str(x) for pair in zip(flags, numbers, strict=True) for x in pair] + ["--runs", str(args.runs)]
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        print(json.dumps(run_child(__file__, db, "kpis", forwarded, timeout=7200), ensure_ascii=False))


if __name__ == "__main__":
    main()
