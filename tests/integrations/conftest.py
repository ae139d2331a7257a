"""Fixtures of the integration tests: service accounts and a local webhook receiver that checks signatures."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fieldcrm.integrations.config import IntegrationSettings, use_integration_settings


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: verifies each request's HMAC and answers the next queued status."""

    secret: str
    statuses: list[int] = field(default_factory=list)  # answered in turn; then 200
    received: list[dict[str, Any]] = field(default_factory=list)  # verified deliveries
    rejected: list[str] = field(default_factory=list)  # requests whose signature did not verify
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay_s: float = 0.0  # answer this much later (a worker killed meanwhile never hears back)
    arrived: list[dict[str, Any]] = field(default_factory=list)  # verified requests, as they arrive

    def verify(self, header: str, body: bytes) -> bool:
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts:
            return False
        expected = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                if not receiver.verify(self.headers.get("X-Fieldcrm-Signature", ""), body):
                    receiver.rejected.append(self.headers.get("X-Fieldcrm-Signature", ""))
                    status = 401
                else:
                    receiver.arrived.append(json.loads(body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            if status == 200:
                with receiver.lock:
                    receiver.received.append(json.loads(body))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def loopback_webhooks() -> Iterator[None]:
    """Allow http://127.0.0.1 endpoints (the test-only setting), with short backoff."""
    use_integration_settings(
        IntegrationSettings(webhook_allow_loopback_http=True, webhook_backoff_s=10, webhook_max_attempts=3)
    )
    yield
    use_integration_settings(None)


@pytest.fixture
def receiver(loopback_webhooks: None) -> Iterator[Receiver]:
    r = Receiver(secret="s3cret-s3cret-s3cret")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(r))
    r.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/fieldcrm"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield r
    server.shutdown()
    server.server_close()


async def make_service_account(client: Any, hq_headers: dict[str, str], name: str, scopes: list[str]) -> dict[str, Any]:
    """A service account made through the API: {'id', 'token', 'tokenId', 'headers'}."""
    r = await client.post(
        "/api/integrations/service-accounts", json={"name": name, "scopes": scopes}, headers=hq_headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    token = body["token"]["token"]
    return {
        "id": body["serviceAccount"]["id"],
        "token": token,
        "tokenId": body["token"]["details"]["id"],
        "headers": {"Authorization": f"Bearer {token}"},
    }
