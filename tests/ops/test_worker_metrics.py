"""The worker's own counters: push outcomes, served on an internal port by `fieldcrm worker`."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from fieldcrm.notifications.delivery import DeliveryResult
from fieldcrm.ops import metrics


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_a_drain_of_the_outbox_counts_each_outcome() -> None:
    before = metrics.generate_latest(metrics.REGISTRY).decode()
    metrics.observe_push_delivery(DeliveryResult(claimed=6, sent=3, retrying=2, dead=1, gone=1, pushes=4))
    after = metrics.generate_latest(metrics.REGISTRY).decode()
    for outcome, count in (("sent", 3), ("retrying", 2), ("dead", 1), ("gone", 1), ("held", 0)):
        name = "fieldcrm_push_deliveries_total"
        assert _value(after, name, outcome=outcome) - _value(before, name, outcome=outcome) == count, outcome
    accepted = "fieldcrm_push_requests_accepted_total"
    assert _value(after, accepted) - _value(before, accepted) == 4


def test_the_worker_serves_its_counters_on_its_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "FIELDCRM_WORKER_METRICS_PORT": str(port),
        "FIELDCRM_VAPID_PRIVATE_KEY_PATH": str(tmp_path / "vapid.pem"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "fieldcrm.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120  # generous: a loaded machine starts Python slowly
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
                break
            except httpx.TransportError:
                assert worker.poll() is None, "the worker exited"
                assert time.monotonic() < deadline, "the worker never served its metrics"
                time.sleep(0.2)
        assert r.status_code == 200
        assert "fieldcrm_push_requests_accepted_total" in r.text
    finally:
        worker.terminate()
        worker.wait(timeout=60)
