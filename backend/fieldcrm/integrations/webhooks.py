"""Outbound webhooks: HQ registers HTTPS endpoints; events are queued in the event's own transaction.

``emit`` writes one delivery per interested webhook inside the caller's transaction, so an event
that rolls back is never sent and one that commits is never lost. The worker (delivery.py) drains them.
"""

import asyncio
import datetime
import ipaddress
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from fieldcrm.audit import services as audit
from fieldcrm.integrations.config import integration_settings
from fieldcrm.integrations.schemas import (
    Delivery,
    DeliveryAttempt,
    DeliveryPage,
    EventName,
    Webhook,
    WebhookCreate,
    WebhookPage,
    WebhookPatch,
)
from fieldcrm.integrations.tables import Webhook as WebhookRow
from fieldcrm.integrations.tables import WebhookAttempt, WebhookDelivery
from fieldcrm.lib.db import engine, executemany, write_transaction
from fieldcrm.lib.errors import InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

EVENTS: tuple[str, ...] = EventName.__args__  # type: ignore[attr-defined]


class UnsafeAddress(Exception):
    """The endpoint's host is, or resolves to, an address fieldcrm must not call."""


# ---------------------------------------------------------------- the address guard


def _loopback_http_allowed(scheme: str, host: str) -> bool:
    return integration_settings().webhook_allow_loopback_http and scheme == "http" and host == "127.0.0.1"


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable endpoint URL, else InvalidInput naming why."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not host:
        msg = "the URL has no host; give https://host/path"
        raise InvalidInput(msg, field="url")
    if scheme != "https" and not _loopback_http_allowed(scheme, host):
        msg = "webhook URLs must use https://"
        raise InvalidInput(msg, field="url")
    if parts.username or parts.password:
        msg = "put no user name or password in the URL; deliveries are signed with the secret instead"
        raise InvalidInput(msg, field="url")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        msg = "the URL's port is not a number between 1 and 65535"
        raise InvalidInput(msg, field="url") from None
    return scheme, host, port


def _refused(address: str, *, scheme: str, host: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback and _loopback_http_allowed(scheme, host):
        return False
    # Private, loopback, link-local (cloud metadata), shared, reserved, multicast and unspecified are all non-global.
    return not ip.is_global or ip.is_multicast


async def resolve_public(url: str) -> list[str]:
    """The addresses the URL's host resolves to, all of them public; else UnsafeAddress.

    Raises:
        UnsafeAddress: The host cannot be resolved, or one of its addresses is internal.
    """
    scheme, host, port = check_url(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, proto=6)
    except OSError as exc:
        msg = f"{host} cannot be resolved ({exc})"
        raise UnsafeAddress(msg) from None
    addresses = sorted({str(info[4][0]) for info in infos})
    bad = [a for a in addresses if _refused(a, scheme=scheme, host=host)]
    if bad or not addresses:
        msg = f"{host} resolves to an internal address ({', '.join(bad) or 'none'}); fieldcrm does not call those"
        raise UnsafeAddress(msg)
    return addresses


async def _checked_url(url: str) -> str:
    try:
        await resolve_public(url)
    except UnsafeAddress as exc:
        raise InvalidInput(str(exc), field="url") from None
    return url


# ---------------------------------------------------------------- registering


def _events(value: Any) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


def _out(row: Mapping[str, Any]) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        events=_events(row["events"]),
        description=row["description"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _row(webhook_id: uuid.UUID) -> dict[str, Any]:
    row = await WebhookRow.select().where(WebhookRow.id == webhook_id).first()
    if row is None:
        msg = f"there is no webhook {webhook_id}"
        raise NotFound(msg)
    return row


async def create_webhook(*, actor: Actor, data: WebhookCreate) -> Webhook:
    """Register an endpoint (HQ); its host must resolve to public addresses only."""
    scope.require(actor, "integrations.manage")
    url = await _checked_url(data.url)
    webhook_id = new_id()
    async with write_transaction():
        await WebhookRow.insert(
            WebhookRow(
                id=webhook_id,
                url=url,
                secret=data.secret,
                events=sorted(set(data.events)),
                description=data.description,
                created_by=actor.id,
            )
        )
        await audit.record(
            actor=actor,
            entity="webhook",
            entity_id=webhook_id,
            action="create",
            after={"url": url, "events": sorted(set(data.events))},
        )
        return _out(await _row(webhook_id))


async def list_webhooks(*, actor: Actor, page: PageParams) -> WebhookPage:
    """Every webhook, oldest first."""
    scope.require(actor, "integrations.manage")
    rows = await WebhookRow.select().order_by(WebhookRow.created_at).limit(page.limit).offset(page.offset)
    total = await WebhookRow.count()
    return WebhookPage(items=[_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def get_webhook(*, actor: Actor, webhook_id: uuid.UUID) -> Webhook:
    """One webhook."""
    scope.require(actor, "integrations.manage")
    return _out(await _row(webhook_id))


async def update_webhook(*, actor: Actor, webhook_id: uuid.UUID, data: WebhookPatch) -> Webhook:
    """Change a webhook; a new URL is checked like a new webhook's."""
    scope.require(actor, "integrations.manage")
    changes = changed_fields(data)
    if "url" in changes:
        await _checked_url(changes["url"])
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    async with write_transaction():
        before = await _row(webhook_id)
        values = {getattr(WebhookRow, k): v for k, v in changes.items()} | {WebhookRow.updated_at: utcnow()}
        await WebhookRow.update(values).where(WebhookRow.id == webhook_id)
        shown = {k: v for k, v in changes.items() if k != "secret"}
        if "secret" in changes:
            shown["secret"] = "(changed)"  # noqa: S105 - the audit says it changed, never what to
        await audit.record(
            actor=actor,
            entity="webhook",
            entity_id=webhook_id,
            action="update",
            changes={k: [None if k == "secret" else before.get(k), v] for k, v in shown.items()},
        )
        return _out(await _row(webhook_id))


async def delete_webhook(*, actor: Actor, webhook_id: uuid.UUID) -> None:
    """Remove a webhook with its deliveries."""
    scope.require(actor, "integrations.manage")
    async with write_transaction():
        before = await _row(webhook_id)
        await WebhookRow.delete().where(WebhookRow.id == webhook_id)
        await audit.record(
            actor=actor, entity="webhook", entity_id=webhook_id, action="delete", before={"url": before["url"]}
        )


# ---------------------------------------------------------------- the outbox


async def emit(event: str, data: Mapping[str, Any], *, now: datetime.datetime | None = None) -> int:
    """Queue ``event`` for every active webhook that wants it, in the caller's transaction; the count queued.

    Raises:
        RuntimeError: Called outside a write transaction (the event would not share its fate).
    """
    if event not in EVENTS:
        msg = f"unknown webhook event {event!r}"
        raise ValueError(msg)
    if engine().current_transaction.get() is None:
        msg = "webhooks.emit must run inside the event's write transaction"
        raise RuntimeError(msg)
    hooks = await WebhookRow.select(WebhookRow.id, WebhookRow.events).where(WebhookRow.active.eq(True))
    wanted = [h["id"] for h in hooks if event in _events(h["events"])]
    if not wanted:
        return 0
    now = now or utcnow()
    event_id = str(uuid.uuid4())
    body = msgspec.json.encode({"id": event_id, "event": event, "occurredAt": now, "data": data}).decode()
    await executemany(
        "INSERT INTO webhook_deliveries (id, webhook, event, event_id, body, status, attempts, available_at, "
        "locked_until, last_status, last_error, delivered_at, dead_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, NULL, NULL, '', NULL, NULL, ?)",
        [(uuid.uuid4(), hook_id, event, event_id, body, now, now) for hook_id in wanted],
    )
    return len(wanted)


# ---------------------------------------------------------------- deliveries


def _attempt_out(row: Mapping[str, Any]) -> DeliveryAttempt:
    return DeliveryAttempt(
        number=row["number"],
        at=row["at"],
        status_code=row["status_code"],
        error=row["error"],
        duration_ms=row["duration_ms"],
    )


async def list_deliveries(
    *, actor: Actor, webhook_id: uuid.UUID, page: PageParams, status: str | None = None
) -> DeliveryPage:
    """A webhook's deliveries, newest first, each with its attempts."""
    scope.require(actor, "integrations.manage")
    await _row(webhook_id)
    if status is not None and status not in {"pending", "delivered", "dead"}:
        msg = f"status must be pending, delivered or dead, not {status!r}"
        raise InvalidInput(msg, field="status")
    conditions = [WebhookDelivery.webhook == webhook_id]
    if status is not None:
        conditions.append(WebhookDelivery.status == status)
    query = WebhookDelivery.select().order_by(WebhookDelivery.created_at, ascending=False).order_by(WebhookDelivery.id)
    count = WebhookDelivery.count()
    for c in conditions:
        query, count = query.where(c), count.where(c)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await count
    tries: dict[str, list[DeliveryAttempt]] = {}
    if rows:
        found = (
            await WebhookAttempt.select()
            .where(WebhookAttempt.delivery.is_in([r["id"] for r in rows]))
            .order_by(WebhookAttempt.number)
        )
        for a in found:
            tries.setdefault(str(a["delivery"]), []).append(_attempt_out(a))
    items = [
        Delivery(
            id=r["id"],
            event=r["event"],
            event_id=r["event_id"],
            status=r["status"],
            attempts=r["attempts"],
            next_attempt_at=r["available_at"] if r["status"] == "pending" else None,
            last_status=r["last_status"],
            last_error=r["last_error"],
            delivered_at=r["delivered_at"],
            dead_at=r["dead_at"],
            created_at=r["created_at"],
            tries=tries.get(str(r["id"]), []),
        )
        for r in rows
    ]
    return DeliveryPage(items=items, total=total, next_cursor=page.next_cursor(total))
