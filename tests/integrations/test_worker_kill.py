"""A real `fieldcrm worker` SIGKILLed while its webhook requests wait for answers: every event still arrives.

The receiver records each signed request as it arrives and answers only seconds later, so the first
worker dies with its deliveries claimed and unsettled; its lease (3 s here) lapses and a second worker
delivers them again. The receiver de-duplicates by event id; no event is lost, none sent more than twice.
"""

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fieldcrm.integrations import webhooks
from fieldcrm.integrations.tables import WebhookDelivery
from fieldcrm.lib.db import write_transaction

EVENTS = 12


def _worker(log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FIELDCRM_WEBHOOK_ALLOW_LOOPBACK_HTTP": "1", "FIELDCRM_WEBHOOK_LEASE_S": "3"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "fieldcrm.cli", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _wait_for(condition: object, timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text(errors='replace')[-3000:]}")


async def test_a_worker_killed_mid_delivery_loses_no_event(client, org, receiver, tmp_path):
    r = await client.post(
        "/api/webhooks",
        json={"url": receiver.url, "secret": receiver.secret, "events": ["contract.signed"]},
        headers=org.hq.headers,
    )
    assert r.status_code == 201, r.text
    async with write_transaction():
        for n in range(EVENTS):
            await webhooks.emit("contract.signed", {"n": n})
    receiver.delay_s = 8.0  # longer than we wait before the kill, shorter than the worker's 10 s timeout
    log = tmp_path / "worker.log"
    first = _worker(log)
    try:

        async def some_arrived() -> bool:
            return len(receiver.arrived) >= 1

        await _wait_for(some_arrived, 60, "the first worker's requests", log)
        await asyncio.sleep(0.3)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert await WebhookDelivery.count().where(WebhookDelivery.status == "delivered") == 0  # it never settled
    sent_by_first = len(receiver.arrived)

    receiver.delay_s = 0.0
    second = _worker(log)
    try:

        async def all_delivered() -> bool:
            return bool(await WebhookDelivery.count().where(WebhookDelivery.status == "delivered") == EVENTS)

        await _wait_for(all_delivered, 90, "the second worker to deliver every event", log)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    per_event = collections.Counter(d["id"] for d in receiver.arrived)
    rows = await WebhookDelivery.select(WebhookDelivery.event_id)
    assert set(per_event) == {r["event_id"] for r in rows}, "some event never arrived"
    assert max(per_event.values()) <= 2, per_event
    assert sum(per_event.values()) == sent_by_first + EVENTS
