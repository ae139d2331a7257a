"""Web Push sending figures: notifications per second, and per core of the sender, to the local push service.

    python bench/push_bench.py [--messages 5000] [--runs 5] [--concurrency 64] [--subscriptions 200]

Starts the local push service (tests/push/push_service.py) in a process of its own, so its VAPID
checks and decryption do not count against the sender, and makes `--subscriptions` subscriptions
there. Each run sends `--messages` notifications (a ~150-byte JSON payload, TTL, Urgency, Topic)
through one PushSender with `--concurrency` sends in flight, and measures wall time and the
sender process's CPU time: notifications/s, and notifications per CPU-second ("per core").
Baselines measured in the same run: pywebpush's aes128gcm encryption alone and py_vapid's ES256
signing alone, per message. The service counts what it accepted; every message must be accepted.
Target from the issue: at least 1,000 notifications per second per core, encryption included.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from py_vapid import Vapid02

from fieldcrm_push import Message, PushSender, Sent, Subscription, VapidKeys, topic_for

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_PER_CORE = 1000.0


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


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far, from /proc (Linux); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_message_us(fn: Callable[[], object], n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n * 1e6


async def send_all(
    sender: PushSender, subs: list[Subscription], messages: list[Message], concurrency: int
) -> list[object]:
    """Send messages[n] to subs[n % len(subs)] with `concurrency` sends in flight; return what was not Sent."""
    queue = iter(range(len(messages)))
    failures: list[object] = []

    async def worker() -> None:
        for n in queue:
            outcome = await sender.send(subs[n % len(subs)], messages[n])
            if not isinstance(outcome, Sent):
                failures.append(outcome)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


async def measure(origin: str, service_pid: int, args: argparse.Namespace) -> dict[str, object]:
    keys = VapidKeys.generate()
    async with httpx.AsyncClient(base_url=origin) as control:
        subs = []
        for _ in range(args.subscriptions):
            made = await control.post(
                "/_control/subscriptions", json={"applicationServerKey": keys.application_server_key}
            )
            made.raise_for_status()
            subs.append(Subscription.from_json(made.json()))

        payloads = [
            Message(
                {
                    "kind": "quote.submitted",
                    "quoteId": f"q-{n:06d}",
                    "title": "待审批报价",
                    "body": "A quote waits for you",
                },
                ttl=24 * 3600,
                urgency="high",
                topic=topic_for(f"quote:q-{n:06d}"),
            )
            for n in range(args.messages)
        ]
        vapid = Vapid02(keys.private_key)
        sample = payloads[0]

        runs: list[dict[str, float]] = []
        for run in range(args.runs):
            before = (await control.get("/_control/stats")).json()["delivered"]
            async with PushSender(
                keys, subject="mailto:bench@fieldcrm.test", max_connections=args.concurrency
            ) as sender:
                # Warm the pool (connections, token) outside the timing, as a long-running worker would be.
                await asyncio.gather(*(sender.send(subs[i % len(subs)], sample) for i in range(args.concurrency)))
                wall0, cpu0, service0 = time.perf_counter(), time.process_time(), process_cpu_s(service_pid)
                failures = await send_all(sender, subs, payloads, args.concurrency)
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                service_cpu = process_cpu_s(service_pid) - service0
            delivered = (await control.get("/_control/stats")).json()["delivered"] - before - args.concurrency
            if failures or delivered != args.messages:
                raise SystemExit(f"run {run}: {len(failures)} not sent (first: {failures[:1]}), {delivered} delivered")

            # Baselines in the same run, same process: encryption alone, signing alone (fresh claims each).
            enc_us = per_message_us(lambda: PushSender.encrypt(subs[0], sample.data), 500)
            sign_us = per_message_us(
                lambda: vapid.sign(
                    {"aud": origin, "exp": int(time.time()) + 3600, "sub": "mailto:bench@fieldcrm.test"}
                ),
                500,
            )
            runs.append(
                {
                    "per_s": args.messages / wall,
                    "per_core_s": args.messages / cpu,
                    "cpu_us_per_msg": cpu / args.messages * 1e6,
                    "encrypt_us": enc_us,
                    "sign_us": sign_us,
                    "service_cpu_us_per_msg": service_cpu / args.messages * 1e6,
                }
            )
            last = runs[-1]
            print(
                f"run {run + 1}: {last['per_s']:8.0f} notifications/s  {last['per_core_s']:8.0f} per core-second  "
                f"{last['cpu_us_per_msg']:6.0f} µs CPU/msg  (encrypt {enc_us:.0f} µs, sign {sign_us:.0f} µs)",
                flush=True,
            )
        stats = (await control.get("/_control/stats")).json()
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    return {"median": med, "runs": runs, "service": stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    proc, origin = start_service()
    try:
        result = asyncio.run(asyncio.wait_for(measure(origin, proc.pid, args), timeout=600))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    med = result["median"]
    assert isinstance(med, dict)
    print()
    print(f"Web Push to the local push service ({origin}), {args.messages} messages x {args.runs} runs, ")
    print(f"concurrency {args.concurrency}, {args.subscriptions} subscriptions; medians:")
    print(f"  notifications/s (wall)          {med['per_s']:8.0f}")
    verdict = "met" if med["per_core_s"] >= TARGET_PER_CORE else "NOT met"
    print(f"  notifications per CPU-second    {med['per_core_s']:8.0f}   target {TARGET_PER_CORE:.0f}: {verdict}")
    print(f"  sender CPU per notification     {med['cpu_us_per_msg']:8.0f} µs")
    print(f"  baseline: encryption alone      {med['encrypt_us']:8.0f} µs  (pywebpush aes128gcm)")
    print(f"  baseline: VAPID signing alone   {med['sign_us']:8.0f} µs  (once per push service, then reused)")
    rest = med["cpu_us_per_msg"] - med["encrypt_us"]
    print(f"  HTTP and bookkeeping            {rest:8.0f} µs  (CPU per notification less encryption)")
    print(
        f"  local push service CPU/msg      {med['service_cpu_us_per_msg']:8.0f} µs  (its process: checks, decryption)"
    )
    print(f"  local push service: {json.dumps(result['service'])}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
