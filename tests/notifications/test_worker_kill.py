"""A real `fieldcrm worker` SIGKILLed mid-send: every item still arrives, none more than twice.

The local push service records each message as it arrives and answers only seconds later, so the
first worker dies with its requests answered by nobody; its claim lapses (a 3 s lease here) and a
second worker sends what the first could not settle.
"""

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fieldcrm.notifications import services as outbox
from fieldcrm.notifications.tables import Notification
from fieldcrm_push import VapidKeys
from tests.factories import Org
from tests.notifications.conftest import SUBJECT, subscribe_device
from tests.push.push_service import LocalPushService

ITEMS = 20


def _worker(keys_file: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FIELDCRM_VAPID_PRIVATE_KEY_PATH": str(keys_file),
        "FIELDCRM_VAPID_SUBJECT": SUBJECT,
        "FIELDCRM_PUSH_ENDPOINT_HOSTS": "127.0.0.1",
        "FIELDCRM_PUSH_LEASE_S": "3",
    }
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


async def test_a_worker_killed_mid_send_leads_to_each_item_once_or_twice(
    client: httpx.AsyncClient, org: Org, push_service: LocalPushService, server_keys: VapidKeys, tmp_path: Path
) -> None:
    keys_file = tmp_path / "vapid.pem"
    server_keys.save(keys_file)
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    device.delay_s = 6.0  # longer than we wait before the kill, shorter than the sender's 10 s timeout
    for n in range(ITEMS):
        await outbox.enqueue(
            user_ids=[org.manager_a.id], kind="approval.requested", params={"title": f"报价 {n}"}, topic=f"quote-{n}"
        )
    log = tmp_path / "worker.log"

    first = _worker(keys_file, log)
    try:

        async def some_arrived() -> bool:
            return len(push_service.deliveries_to(device)) >= 1

        await _wait_for(some_arrived, 30, "the first worker's pushes", log)
        await asyncio.sleep(0.3)  # let the rest of its batch go out too
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    sent_by_first = len(push_service.deliveries_to(device))
    assert await Notification.count().where(Notification.sent_at.is_not_null()) == 0  # it never settled

    device.delay_s = 0.0
    second = _worker(keys_file, log)
    try:

        async def all_settled() -> bool:
            return bool(await Notification.count().where(Notification.sent_at.is_not_null()) == ITEMS)

        await _wait_for(all_settled, 40, "the second worker to settle every item", log)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)

    per_item = collections.Counter(d.json()["id"] for d in push_service.deliveries_to(device))
    rows = await Notification.select(Notification.id)
    assert set(per_item) == {str(r["id"]) for r in rows}, "some item never arrived"
    assert max(per_item.values()) <= 2, per_item
    assert sum(per_item.values()) == sent_by_first + ITEMS  # the first worker's arrivals are the only repeats
