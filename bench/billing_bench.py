"""Billing figures: a 10,000-row billing batch applied, against a bare multi-row insert; webhook deliveries a second.

    python bench/billing_bench.py [--db sqlite|postgres|both] [--rows 10000] [--accounts 500] [--runs 3]
                                  [--deliveries 2000]

In a fresh database per engine (bench/child.py): ``--accounts`` accounts, then per run a batch of
``--rows`` new bills spread over them is applied through ``batches.apply_batch`` (validation, account
lookup, upsert, the batch record and its audit entry, one transaction), and the same run times a bare
multi-row insert of as many bill rows (one executemany in one transaction): the ratio is the cost of
everything the batch does beyond writing rows. Then the same batch sent again (the idempotent replay).

Arrears: ``--arrears-accounts`` more accounts (bulk-inserted) under ten teams of one province, each with a
paid and an unpaid bill; ``GET /api/bills/arrears`` (the service, first page of 50) timed 30 times as the
province's director (every account in scope) and as HQ: p50 and p99; and 5 times with ``totals`` (the
aging of the whole scope, which reads every unpaid bill).

Webhooks: ``--deliveries`` events queued for one webhook, drained by the delivery worker to a receiver
on 127.0.0.1 in another process (a small asyncio HTTP server that verifies every HMAC signature):
deliveries per second, end to end (claim, sign, POST, settle).
"""

import argparse
import asyncio
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

from child import run_child

RECEIVER = r"""
import hashlib, hmac, sys
import uvicorn
SECRET = sys.argv[2].encode()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    parts = dict(p.split("=", 1) for p in headers.get("x-fieldcrm-signature", "").split(",") if "=" in p)
    mac = hmac.new(SECRET, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    status = 200 if hmac.compare_digest(mac, parts.get("v1", "")) else 401
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _setup(accounts: int) -> tuple[Any, list[str]]:
    from fieldcrm.accounts import services as account_services
    from fieldcrm.accounts.schemas import AccountCreate
    from fieldcrm.org import services as org_services
    from fieldcrm.org.schemas import OrgUnitCreate, UserCreate

    unit = await org_services.create_unit(actor=None, data=OrgUnitCreate(name="HQ", kind="hq"))
    user = await org_services.create_user(
        actor=None,
        data=UserCreate(
            username="bench_hq",
            display_name="Bench HQ",
            password="bench-password-42",
            role="hq_admin",
            org_unit_id=unit.id,
        ),
    )
    hq = (await org_services.actors_of([user.id]))[0]
    codes = []
    for n in range(accounts):
        code = f"BA{n:06d}"
        await account_services.create_account(
            actor=hq, data=AccountCreate(code=code, name=f"客户 {code}", owner_id=user.id)
        )
        codes.append(code)
    return hq, codes


def _bills(codes: list[str], rows: int, run: int) -> list[dict[str, Any]]:
    return [
        {
            "billNumber": f"R{run}-{n:06d}",
            "accountCode": codes[n % len(codes)],
            "period": "2026-11",
            "amountDueCents": 100_000 + n,
            "paidCents": (n % 3) * 50_000,
            "dueOn": "2026-12-20",
        }
        for n in range(rows)
    ]


async def _bare_insert(codes_ids: list[Any], rows: int, run: int) -> float:
    from fieldcrm.lib.db import executemany, write_transaction
    from fieldcrm.lib.tables import utcnow

    now = utcnow()
    started = time.perf_counter()
    async with write_transaction():
        await executemany(
            "INSERT INTO bills (id, bill_number, account, period, amount_due_cents, paid_cents, due_on, issued_on, "
            "status, collection_task_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?)",
            [
                (
                    uuid.uuid4(),
                    f"BARE{run}-{n:06d}",
                    codes_ids[n % len(codes_ids)],
                    "2026-11",
                    100_000 + n,
                    0,
                    datetime.date(2026, 12, 20),
                    "open",
                    now,
                    now,
                )
                for n in range(rows)
            ],
        )
    return time.perf_counter() - started


async def _deliveries(count: int) -> dict[str, float]:
    from fieldcrm.integrations import delivery, webhooks
    from fieldcrm.integrations.config import IntegrationSettings, use_integration_settings
    from fieldcrm.integrations.tables import Webhook, WebhookDelivery
    from fieldcrm.lib.db import write_transaction

    secret = "bench-secret-0123456789"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), secret])  # noqa: ASYNC220 - started once, before timing
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.05)
        use_integration_settings(
            IntegrationSettings(webhook_allow_loopback_http=True, webhook_batch=500, webhook_concurrency=10)
        )
        await Webhook.insert(Webhook(url=f"http://127.0.0.1:{port}/hook", secret=secret, events=["case.opened"]))
        async with write_transaction():
            for n in range(count):
                await webhooks.emit("case.opened", {"n": n, "caseId": str(uuid.uuid4())})
        import httpx

        limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
        async with httpx.AsyncClient(follow_redirects=False, timeout=10, limits=limits) as client:
            started = time.perf_counter()
            done = 0
            while done < count:
                tried = await delivery.deliver_due(client=client)
                if not tried:
                    break
                done += tried
            elapsed = time.perf_counter() - started
        delivered = await WebhookDelivery.count().where(WebhookDelivery.status == "delivered")
        return {
            "deliveries": count,
            "delivered": delivered,
            "seconds": round(elapsed, 2),
            "per_second": round(delivered / elapsed, 1),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _arrears(hq: Any, count: int) -> dict[str, Any]:
    from fieldcrm.accounts.tables import Account
    from fieldcrm.contracts import receivables
    from fieldcrm.contracts.billing import refresh_arrears
    from fieldcrm.lib.db import executemany, insert_rows, write_transaction
    from fieldcrm.lib.pagination import PageParams
    from fieldcrm.lib.tables import utcnow
    from fieldcrm.org import services as org_services
    from fieldcrm.org.schemas import OrgUnitCreate, UserCreate

    province = await org_services.create_unit(
        actor=None, data=OrgUnitCreate(name="Province", kind="province", parent_id=hq.org_unit_id)
    )

    async def person(name: str, role: str, unit: Any) -> Any:
        data = UserCreate(username=name, display_name=name, password="bench-password-42", role=role, org_unit_id=unit)
        return (await org_services.create_user(actor=None, data=data)).id

    director = (await org_services.actors_of([await person("bench_dir", "director", province.id)]))[0]
    reps = []
    for t in range(10):
        team = await org_services.create_unit(
            actor=None, data=OrgUnitCreate(name=f"Team {t}", kind="team", parent_id=province.id)
        )
        reps.append((await person(f"bench_rep{t}", "rep", team.id), team.id))
    today = datetime.date(2026, 12, 4)
    started = time.perf_counter()
    for chunk in range(0, count, 10_000):
        rows, bills = [], []
        for n in range(chunk, min(count, chunk + 10_000)):
            owner, unit = reps[n % len(reps)]
            account_id = uuid.uuid4()
            rows.append(Account(id=account_id, code=f"AR{n:07d}", name=f"客户 {n}", owner=owner, org_unit=unit))
            now = utcnow()
            due = today - datetime.timedelta(days=n % 150)
            bills.append((uuid.uuid4(), f"AR-{n}-1", account_id, "2026-10", 50_000, 50_000, due, "paid", now, now))
            bills.append(
                (uuid.uuid4(), f"AR-{n}-2", account_id, "2026-11", 80_000, n % 3 * 10_000, due, "open", now, now)
            )
        async with write_transaction():
            await insert_rows(Account, rows)
            await executemany(
                "INSERT INTO bills (id, bill_number, account, period, amount_due_cents, paid_cents, due_on, "
                "issued_on, status, collection_task_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?)",
                bills,
            )
            await refresh_arrears([r.id for r in rows], now=utcnow())
    seeded_s = time.perf_counter() - started
    result: dict[str, Any] = {"accounts": count, "bills": 2 * count, "seed_s": round(seeded_s, 1)}
    for label, actor in (("director", director), ("hq", hq)):
        times: list[float] = []
        totals_ms: list[float] = []
        for _ in range(30):
            started = time.perf_counter()
            page = await receivables.arrears(actor=actor, page=PageParams(limit=50, offset=0), today=today)
            times.append((time.perf_counter() - started) * 1000)
        for _ in range(5):
            started = time.perf_counter()
            await receivables.arrears(actor=actor, page=PageParams(limit=50, offset=0), today=today, totals=True)
            totals_ms.append((time.perf_counter() - started) * 1000)
        result[label] = {
            "total": page.total,
            "p50_ms": round(_pct(times, 0.5), 1),
            "p99_ms": round(_pct(times, 0.99), 1),
            "with_scope_totals_p50_ms": round(_pct(totals_ms, 0.5), 1),
        }
    return result


async def measure(rows: int, accounts: int, runs: int, deliveries: int, arrears: int) -> dict[str, Any]:
    from fieldcrm.accounts.tables import Account
    from fieldcrm.cli import migrate
    from fieldcrm.integrations import batches
    from fieldcrm.lib.db import close_engine, open_engine

    await migrate()
    await open_engine()
    hq, codes = await _setup(accounts)
    ids = [r["id"] for r in await Account.select(Account.id).order_by(Account.code)]
    per_run = []
    for run in range(runs):
        body = {"bills": _bills(codes, rows, run)}
        started = time.perf_counter()
        result = await batches.apply_batch(actor=hq, batch_id=f"bench-{run}", body=body)
        batch_s = time.perf_counter() - started
        assert result.bills.inserted == rows, result
        started = time.perf_counter()
        again = await batches.apply_batch(actor=hq, batch_id=f"bench-{run}", body=body)
        replay_s = time.perf_counter() - started
        assert again.replayed
        bare_s = await _bare_insert(ids, rows, run)
        per_run.append({"batch_s": batch_s, "bare_insert_s": bare_s, "ratio": batch_s / bare_s, "replay_s": replay_s})
    webhook = await _deliveries(deliveries)
    aging = await _arrears(hq, arrears) if arrears else {}
    await close_engine()
    summary = {k: round(statistics.median(r[k] for r in per_run), 3) for k in per_run[0]}
    return {
        "rows": rows,
        **summary,
        "runs": [{k: round(v, 3) for k, v in r.items()} for r in per_run],
        "webhooks": webhook,
        "arrears": aging,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--arrears-accounts", type=int, default=100_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(measure(args.rows, args.accounts, args.runs, args.deliveries, args.arrears_accounts))
        print(json.dumps({"db": args.child, **result}))
        return
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        extra = ["--rows", str(args.rows), "--accounts", str(args.accounts), "--runs", str(args.runs)]
        extra += ["--deliveries", str(args.deliveries), "--arrears-accounts", str(args.arrears_accounts)]
        result = run_child(__file__, db, "billing", extra)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    os.environ.setdefault("FIELDCRM_ARGON2_TIME_COST", "1")
    os.environ.setdefault("FIELDCRM_ARGON2_MEMORY_KIB", "1024")
    os.environ.setdefault("FIELDCRM_ARGON2_PARALLELISM", "1")
    main()
