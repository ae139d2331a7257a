"""Push delivery figures: outbox -> delivery worker -> local push service, and approval request -> arrival.

    python bench/push_delivery_bench.py [--db sqlite|postgres|both] [--runs 5] [--messages 5000]
                                        [--recipients 50] [--latency-samples 15]

Each database gets a fresh bench database (SQLite in a temporary folder; `fieldcrm_bench_push` on the
PostgreSQL server of $BENCH_PG_URL), a small org (a rep, their manager, a director, HQ, plus
`--recipients` users with one device each) and the local push service (tests/push/push_service.py)
in a process of its own, so its VAPID checks and decryption do not count against the sender.

- throughput: `--messages` outbox rows (approval requests spread over the recipients) are written,
  then drained by one `Deliverer` (the worker's code: claim, preferences, localised payload,
  encryption, VAPID, POST, settle) in this process; wall time and this process's CPU time give
  notifications/s and notifications per CPU-second ("per core"). Baseline in the same run: the
  same number of pushes sent straight through `PushSender` (no outbox, no database), so the ratio
  is what the outbox and the bookkeeping cost on top of the library. Every message must arrive.
- latency: a real `fieldcrm worker` process runs; `workflow.start()` of a subject routed to the
  manager writes the outbox row; the time until the local push service has received and decrypted
  the push is measured `--latency-samples` times, at random points of the worker's 1 s loop.

Prints medians over runs (latency: median and max over samples). Targets from the issue: at least
1,000 notifications per second per core, encryption included; under 2 s from approval request to
arrival at the push service.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SUBJECT = "mailto:bench@fieldcrm.test"
TARGET_PER_CORE = 1000.0
TARGET_LATENCY_S = 2.0


class BenchSubject:
    """A subject kept in memory whose approval goes to the owner's manager."""

    kind = "bench"

    def __init__(self, owner: uuid.UUID) -> None:
        self.owner = owner

    async def load(self, subject_id: uuid.UUID) -> Any:
        from fieldcrm.workflow.subjects import SubjectInfo

        return SubjectInfo(
            kind="bench",
            id=subject_id,
            owner_id=self.owner,
            account_id=None,
            title=f"报价 Q-2026-{subject_id.hex[:5]}",
            version=1,
            facts={"discount_bp": 1000},
            url=f"#/quotes/{subject_id}",
        )

    async def on_outcome(self, **_: Any) -> None:
        return None

    async def on_step(self, **_: Any) -> None:
        return None


def start_service() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.push.push_service"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        proc.kill()
        raise SystemExit(f"the local push service did not start: {line!r}")
    return proc, line.removeprefix("LISTENING ")


async def _org(recipients: int) -> dict[str, Any]:
    from fieldcrm.org import services as org
    from fieldcrm.org.schemas import OrgUnitCreate, UserCreate

    units: dict[str, uuid.UUID] = {}
    for name, kind, parent in (("hq", "hq", None), ("province", "province", "hq"), ("team", "team", "province")):
        created = await org.create_unit(
            actor=None,
            data=OrgUnitCreate(name=f"bench {name}", kind=kind, parent_id=units.get(parent or "")),  # type: ignore[arg-type]
        )
        units[name] = created.id
    people: dict[str, Any] = {}
    specs = [("b_hq", "hq_admin", "hq"), ("b_manager", "manager", "team"), ("b_rep", "rep", "team")]
    specs += [(f"b_user{i:03d}", "rep", "team") for i in range(recipients)]
    for username, role, unit in specs:
        user = await org.create_user(
            actor=None,
            data=UserCreate(
                username=username,
                display_name=username,
                password="bench password 1",
                role=role,  # type: ignore[arg-type]
                org_unit_id=units[unit],
                locale="en" if username.endswith(("1", "3", "5")) else "zh-CN",
            ),
        )
        people[username] = user.id
    return people


async def _subscribe(control: Any, keys: Any, user_id: uuid.UUID) -> dict[str, Any]:
    from fieldcrm.lib.tables import new_id
    from fieldcrm.notifications.tables import PushSubscription

    made = await control.post("/_control/subscriptions", json={"applicationServerKey": keys.application_server_key})
    made.raise_for_status()
    sub: dict[str, Any] = made.json()
    await PushSubscription.insert(
        PushSubscription(
            id=new_id(), user=user_id, endpoint=sub["endpoint"], p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"]
        )
    )
    return sub


async def _delivered(control: Any) -> int:
    return int((await control.get("/_control/stats")).json()["delivered"])


async def measure(args: argparse.Namespace, origin: str, keys_file: Path) -> dict[str, Any]:
    import httpx

    from fieldcrm.cli import migrate
    from fieldcrm.lib.db import close_engine, open_engine, write_transaction
    from fieldcrm.notifications import services as outbox
    from fieldcrm.notifications.delivery import Deliverer
    from fieldcrm.org import services as org_services
    from fieldcrm.workflow import services as workflow
    from fieldcrm.workflow.subjects import register_subject
    from fieldcrm_push import Message, PushSender, Sent, Subscription, VapidKeys, topic_for

    await migrate()
    await open_engine()
    keys = VapidKeys.load(keys_file)
    people = await _org(args.recipients)
    recipients = [people[f"b_user{i:03d}"] for i in range(args.recipients)]
    async with httpx.AsyncClient(base_url=origin, timeout=10) as control:
        subs = [Subscription.from_json(await _subscribe(control, keys, u)) for u in recipients]

        # ---- throughput: outbox -> Deliverer -> push service, against the library alone
        runs = []
        deliverer = Deliverer(PushSender(keys, subject=SUBJECT), batch=500, concurrency=200, lease_s=120)
        sender = PushSender(keys, subject=SUBJECT, max_connections=200)
        try:
            await outbox.enqueue(user_ids=recipients, kind="approval.requested", params={"title": "warm-up"})
            await deliverer.drain()  # connections and VAPID token, as in a long-running worker
            for run in range(args.runs):
                rows = []
                for n in range(args.messages):
                    rows += outbox.prepare(
                        user_ids=[recipients[n % len(recipients)]],
                        kind="approval.requested",
                        params={
                            "title": f"报价 Q-2026-{n:05d}",
                            "stepLabel": "Manager approval",
                            "stepId": str(uuid.uuid4()),
                            "ownerName": "b_rep",
                            "subjectKind": "quote",
                            "url": f"#/quotes/{n}",
                        },
                        topic=f"quote-{uuid.uuid4()}",
                        url=f"#/quotes/{n}",
                        ttl_s=86_400,
                        urgency="high",
                    )
                async with write_transaction():
                    await outbox.write(rows)
                before = await _delivered(control)
                wall0, cpu0 = time.perf_counter(), time.process_time()
                done = 0
                while done < args.messages:
                    result = await deliverer.drain(budget_s=120)
                    done += result.sent
                    if result.claimed == 0:
                        break
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                arrived = await _delivered(control) - before
                if done != args.messages or arrived != args.messages:
                    raise SystemExit(f"run {run}: {done} settled as sent, {arrived} arrived of {args.messages}")

                messages = [
                    Message(
                        {"title": f"报价 Q-2026-{n:05d}", "body": "Manager approval", "url": f"#/quotes/{n}"},
                        ttl=86_400,
                        urgency="high",
                        topic=topic_for(f"quote-{n}"),
                    )
                    for n in range(args.messages)
                ]
                queue = iter(range(args.messages))
                failed: list[object] = []

                async def one(s: PushSender, it: Any, msgs: list[Any], bad: list[object]) -> None:
                    for n in it:
                        outcome = await s.send(subs[n % len(subs)], msgs[n])
                        if not isinstance(outcome, Sent):
                            bad.append(outcome)

                wall1, cpu1 = time.perf_counter(), time.process_time()
                await asyncio.gather(*(one(sender, queue, messages, failed) for _ in range(200)))
                raw_wall, raw_cpu = time.perf_counter() - wall1, time.process_time() - cpu1
                if failed:
                    raise SystemExit(f"run {run}: the library baseline failed: {failed[:1]}")
                runs.append(
                    {
                        "per_s": args.messages / wall,
                        "per_core_s": args.messages / cpu,
                        "cpu_us_per_msg": cpu / args.messages * 1e6,
                        "library_per_core_s": args.messages / raw_cpu,
                        "library_per_s": args.messages / raw_wall,
                    }
                )
        finally:
            await deliverer.aclose()
            await sender.aclose()

        # ---- latency: approval request -> arrival, through a real `fieldcrm worker`
        manager = people["b_manager"]
        await _subscribe(control, keys, manager)
        register_subject(BenchSubject(people["b_rep"]))
        login, _ = await org_services.login(
            username="b_hq", password="bench password 1", ip="127.0.0.1", user_agent="bench", old_token=None
        )
        hq = await org_services.authenticate(login.token, via_cookie=False)
        assert hq is not None
        body = {
            "key": "bench-approval",
            "subject": "bench",
            "type": "approval",
            "description": "bench: the manager approves",
            "rules": [{"when": {}, "chain": [["manager"]]}],
            "steps": {"manager": {"label": "Manager approval", "deciders": "owner_manager", "quorum": "any"}},
        }
        await workflow.put_definition(actor=hq, key="bench-approval", body=body)
        env = {
            **os.environ,
            "FIELDCRM_VAPID_PRIVATE_KEY_PATH": str(keys_file),
            "FIELDCRM_VAPID_SUBJECT": SUBJECT,
            "FIELDCRM_PUSH_ENDPOINT_HOSTS": "127.0.0.1",
        }
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fieldcrm.cli",
            "worker",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        latencies = []
        try:
            await asyncio.sleep(3)  # the worker opens its engine and runs its first turn
            rng = random.Random(7)
            for _ in range(args.latency_samples):
                await asyncio.sleep(rng.uniform(0.2, 1.2))
                before = await _delivered(control)
                started = time.perf_counter()
                await workflow.start(actor=None, kind="bench", subject_id=uuid.uuid4())
                while await _delivered(control) == before:
                    if time.perf_counter() - started > 30:
                        raise SystemExit("an approval request did not arrive within 30 s")
                    await asyncio.sleep(0.005)
                latencies.append(time.perf_counter() - started)
        finally:
            worker.terminate()
            await asyncio.wait_for(worker.wait(), timeout=15)
    await close_engine()

    def med(name: str) -> float:
        return round(float(statistics.median(float(r[name]) for r in runs)), 1)

    return {
        "messages": args.messages,
        "recipients": args.recipients,
        "runs": args.runs,
        "delivery_per_s": med("per_s"),
        "delivery_per_core_s": med("per_core_s"),
        "delivery_cpu_us_per_msg": med("cpu_us_per_msg"),
        "library_per_core_s": med("library_per_core_s"),
        "library_per_s": med("library_per_s"),
        "ratio_delivery_to_library_per_core": round(med("per_core_s") / med("library_per_core_s"), 2),
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_max": round(max(latencies), 3),
        "latency_samples": len(latencies),
    }


def child(args: argparse.Namespace) -> None:
    origin = os.environ["BENCH_PUSH_ORIGIN"]
    result = asyncio.run(measure(args, origin, Path(os.environ["BENCH_VAPID_FILE"])))
    print(json.dumps({"db": args.child, **result}, ensure_ascii=False))


def run_one(db: str, args: argparse.Namespace, origin: str) -> dict[str, Any]:
    from fieldcrm_push import VapidKeys

    env = dict(os.environ)
    folder = Path(tempfile.mkdtemp(prefix="fieldcrm-bench-push-"))
    if db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    else:
        import asyncpg

        async def fresh() -> None:
            admin = await asyncpg.connect(PG_BASE)
            await admin.execute('DROP DATABASE IF EXISTS "fieldcrm_bench_push" WITH (FORCE)')
            await admin.execute('CREATE DATABASE "fieldcrm_bench_push"')
            await admin.close()

        asyncio.run(fresh())
        env["DATABASE_URL"] = PG_BASE.rsplit("/", 1)[0] + "/fieldcrm_bench_push"
    keys_file = folder / "vapid.pem"
    VapidKeys.generate().save(keys_file)
    env.update(
        {
            "BENCH_PUSH_ORIGIN": origin,
            "BENCH_VAPID_FILE": str(keys_file),
            "PICCOLO_CONF": "fieldcrm.piccolo_conf",
            "FIELDCRM_ARGON2_TIME_COST": "1",
            "FIELDCRM_ARGON2_MEMORY_KIB": "1024",
            "FIELDCRM_ARGON2_PARALLELISM": "1",
        }
    )
    command = [sys.executable, __file__, "--child", db, "--runs", str(args.runs), "--messages", str(args.messages)]
    command += ["--recipients", str(args.recipients), "--latency-samples", str(args.latency_samples)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{db}: the bench failed:\n{out.stderr[-4000:]}\n{out.stdout[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--recipients", type=int, default=50)
    parser.add_argument("--latency-samples", type=int, default=15)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    service, origin = start_service()
    try:
        for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
            result = run_one(db, args, origin)
            print(json.dumps(result, ensure_ascii=False, indent=1))
            verdict = {
                f"≥ {TARGET_PER_CORE:,.0f}/s per core": result["delivery_per_core_s"] >= TARGET_PER_CORE,
                f"request -> arrival < {TARGET_LATENCY_S:.0f} s (max)": result["latency_s_max"] < TARGET_LATENCY_S,
            }
            print(db, "targets:", ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items()))
    finally:
        service.terminate()
        service.wait(timeout=10)


if __name__ == "__main__":
    main()
