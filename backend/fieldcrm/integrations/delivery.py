"""The webhook delivery worker: drains the outbox, signed, with retries, backoff and a dead letter.

At least once per delivery: a batch of due rows is claimed (``locked_until`` = now + lease; FOR UPDATE
SKIP LOCKED on PostgreSQL, SQLite's single writer serialises the claim), POSTed, then settled in one
transaction. A worker killed mid-send leaves its rows locked until the lease ends; another worker then
sends them again, so a receiver may see a delivery twice and de-duplicates by its ``id`` (the event id).

Each POST carries ``X-Fieldcrm-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>``.
Redirects are not followed (a 3xx is a failure), and the host is resolved before every try: an internal
address dead-letters the delivery at once; otherwise the request goes to the address just checked.
"""

import asyncio
import dataclasses
import datetime
import hashlib
import hmac
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from fieldcrm.integrations.config import IntegrationSettings, integration_settings
from fieldcrm.integrations.tables import WebhookDelivery
from fieldcrm.integrations.webhooks import UnsafeAddress, resolve_public
from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_uuid, engine, executemany, write_transaction
from fieldcrm.lib.tables import utcnow

SIGNATURE_HEADER = "X-Fieldcrm-Signature"
USER_AGENT = "fieldcrm-webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff(attempts: int, settings: IntegrationSettings) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th failure."""
    seconds = min(settings.webhook_backoff_s * 2 ** max(0, attempts - 1), settings.webhook_backoff_max_s)
    return datetime.timedelta(seconds=seconds)


def pinned(url: str, address: str) -> tuple[str, str, dict[str, Any]]:
    """The URL aimed at the address just checked, the Host header, and the TLS name to verify.

    Connecting to the checked address (not resolving the name again) means a DNS answer that changes
    after the check (rebinding) cannot send the request to an internal address; TLS still verifies
    the certificate against the original host name.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = f"{host}:{parts.port}" if parts.port else host
    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, extensions


@dataclasses.dataclass
class _Claimed:
    id: uuid.UUID
    event: str
    event_id: str
    body: str
    attempts: int
    url: str
    secret: str


@dataclasses.dataclass
class _Outcome:
    claimed: _Claimed
    status_code: int | None
    error: str
    duration_ms: int
    unsafe: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_CLAIM_SQL = (
    "SELECT d.id, d.event, d.event_id, d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d "
    "JOIN webhooks w ON w.id = d.webhook WHERE d.id IN ({})"
)


async def claim(*, now: datetime.datetime, limit: int | None = None) -> list[_Claimed]:
    """Take up to ``limit`` due deliveries for this worker (locked until now + lease)."""
    settings = integration_settings()
    async with write_transaction():
        query = (
            WebhookDelivery.select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.available_at <= now,
                (WebhookDelivery.locked_until.is_null()) | (WebhookDelivery.locked_until <= now),
            )
            .order_by(WebhookDelivery.available_at)
            .limit(limit or settings.webhook_batch)
        )
        if not isinstance(engine(), FieldcrmSQLiteEngine):
            query = query.lock_rows("UPDATE", skip_locked=True)
        ids = [as_uuid(r["id"]) for r in await query]
        if not ids:
            return []
        lease = now + datetime.timedelta(seconds=settings.webhook_lease_s)
        await WebhookDelivery.update({WebhookDelivery.locked_until: lease}).where(WebhookDelivery.id.is_in(ids))
        marks = ", ".join("{}" for _ in ids)
        rows = await WebhookDelivery.raw(_CLAIM_SQL.format(marks), *ids)
    return [
        _Claimed(
            id=as_uuid(r["id"]),
            event=r["event"],
            event_id=r["event_id"],
            body=r["body"],
            attempts=r["attempts"],
            url=r["url"],
            secret=r["secret"],
        )
        for r in rows
    ]


async def _send(client: httpx.AsyncClient, item: _Claimed, now: datetime.datetime) -> _Outcome:
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        addresses = await resolve_public(item.url)
    except UnsafeAddress as exc:
        return _Outcome(item, None, f"refused: {exc}", took(), unsafe=True)
    except Exception as exc:  # a URL that no longer passes the rules: not deliverable
        return _Outcome(item, None, f"refused: {exc}", took(), unsafe=True)
    url, host_header, extensions = pinned(item.url, addresses[0])
    body = item.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(item.secret, timestamp, body),
        "X-Fieldcrm-Event": item.event,
        "X-Fieldcrm-Delivery": item.event_id,
    }
    try:
        response = await client.post(url, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return _Outcome(item, None, f"{type(exc).__name__}: {exc}"[:500], took())
    error = ""
    if response.is_redirect:
        error = f"redirected to {response.headers.get('location', '?')}; redirects are not followed"
    elif not response.is_success:
        error = response.text[:200]
    return _Outcome(item, response.status_code, error, took())


async def settle(outcomes: list[_Outcome], *, now: datetime.datetime) -> None:
    """Record the attempts and move each delivery on: delivered, retried later, or dead."""
    settings = integration_settings()
    attempts, delivered, retried, dead = [], [], [], []
    for o in outcomes:
        number = o.claimed.attempts + 1
        attempts.append((uuid.uuid4(), o.claimed.id, number, now, o.status_code, o.error, o.duration_ms))
        if o.ok:
            delivered.append((number, o.status_code, now, o.claimed.id))
        elif o.unsafe or number >= settings.webhook_max_attempts:
            dead.append((number, o.status_code, o.error, now, o.claimed.id))
        else:
            retried.append((number, o.status_code, o.error, now + backoff(number, settings), o.claimed.id))
    async with write_transaction():
        await executemany(
            "INSERT INTO webhook_attempts (id, delivery, number, at, status_code, error, duration_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            attempts,
        )
        await executemany(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, last_status = ?, last_error = '', "
            "delivered_at = ?, locked_until = NULL WHERE id = ?",
            delivered,
        )
        await executemany(
            "UPDATE webhook_deliveries SET attempts = ?, last_status = ?, last_error = ?, available_at = ?, "
            "locked_until = NULL WHERE id = ?",
            retried,
        )
        await executemany(
            "UPDATE webhook_deliveries SET status = 'dead', attempts = ?, last_status = ?, last_error = ?, "
            "dead_at = ?, locked_until = NULL WHERE id = ?",
            dead,
        )


async def deliver_due(*, now: datetime.datetime | None = None, client: httpx.AsyncClient | None = None) -> int:
    """The worker job: claim what is due, POST it, settle it; returns how many were tried."""
    settings = integration_settings()
    now = now or utcnow()
    claimed = await claim(now=now)
    if not claimed:
        return 0
    own = client is None
    http = client or httpx.AsyncClient(follow_redirects=False, timeout=settings.webhook_timeout_s)
    limit = asyncio.Semaphore(settings.webhook_concurrency)

    async def one(item: _Claimed) -> _Outcome:
        async with limit:
            return await _send(http, item, now)

    try:
        outcomes = await asyncio.gather(*(one(c) for c in claimed))
    finally:
        if own:
            await http.aclose()
    await settle(list(outcomes), now=now)
    return len(outcomes)


def pending_summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Counts by status, for logs and benchmarks."""
    summary: dict[str, int] = {}
    for r in rows:
        summary[r["status"]] = summary.get(r["status"], 0) + 1
    return summary
