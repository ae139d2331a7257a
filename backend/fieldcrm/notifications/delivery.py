"""The delivery worker: drains the notification outbox to every device of each recipient through Web Push.

At least once per event and device: a batch of due rows is claimed (``locked_until`` = now + lease,
taken with FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single writer serialises the claim), sent,
then settled in one transaction. A worker that dies mid-send leaves its rows locked until the lease
ends; another worker then sends them again, so a device gets an item at most twice (the Topic and the
notification tag make the second replace the first on screen).

Per row and device, the push service's answer decides (fieldcrm_push's Outcome):

- Sent: done for that device (recorded in push_sends while the row still waits for other devices);
- Gone (404/410): the subscription is deleted; nothing more is sent to it;
- RetryLater (429 with Retry-After, 5xx, network): the row waits at least the Retry-After (else the
  backoff) and is tried again for the devices still missing; after ``max_attempts`` it is
  dead-lettered (``dead_at`` and ``last_error`` kept for the operator);
- Misconfigured (401/403): an ALERT in the log (the VAPID key is wrong for that push service), then
  retried like a 5xx, since only an operator can fix it;
- Rejected (other 4xx): that device is given up for this message.

The recipient's preferences switch kinds off (the row is settled without a push) and quiet hours hold
a row until they end. Titles and bodies are made in the recipient's language (messages.py).
"""

import asyncio
import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_uuid, engine, executemany, insert_rows, write_transaction
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.notifications import messages
from fieldcrm.notifications.subscriptions import PushNotConfigured, vapid_keys
from fieldcrm.notifications.tables import Notification, PushPreference, PushSend, PushSubscription
from fieldcrm.org.tables import User
from fieldcrm.settings import Settings, get_settings
from fieldcrm_push import (
    URGENCIES,
    Gone,
    Message,
    Misconfigured,
    Outcome,
    PushSender,
    Rejected,
    RetryLater,
    Sent,
    Subscription,
    Urgency,
    backoff,
    topic_for,
)

log = logging.getLogger("fieldcrm.push")

_CLAIM_COLUMNS = (
    Notification.id,
    Notification.user,
    Notification.kind,
    Notification.topic,
    Notification.params,
    Notification.url,
    Notification.urgency,
    Notification.ttl_s,
    Notification.created_at,
    Notification.attempts,
)


@dataclass
class DeliveryResult:
    """What one drain did (counts of outbox rows, except ``gone``: subscriptions deleted)."""

    claimed: int = 0
    sent: int = 0
    held: int = 0
    skipped: int = 0
    retrying: int = 0
    dead: int = 0
    gone: int = 0
    pushes: int = 0  # requests answered 201

    def add(self, other: "DeliveryResult") -> None:
        """Add another batch's counts to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Row:
    id: uuid.UUID
    user: uuid.UUID
    kind: str
    topic: str
    params: dict[str, Any]
    url: str
    urgency: str
    ttl_s: int
    created_at: datetime.datetime
    attempts: int
    # what happened in this pass
    sent: list[uuid.UUID] = field(default_factory=list)
    pending: list[tuple[float, str]] = field(default_factory=list)  # (wait s, reason) per device to retry
    failed: list[str] = field(default_factory=list)
    gone: int = 0


@dataclass
class _Batch:
    """What one batch needs about its recipients: language, preferences, devices, devices already reached."""

    locales: dict[uuid.UUID, str]
    prefs: dict[uuid.UUID, dict[str, Any]]
    devices: dict[uuid.UUID, list[dict[str, Any]]]
    done: dict[uuid.UUID, set[uuid.UUID]]
    gone_subs: set[uuid.UUID] = field(default_factory=set)
    ok_subs: set[uuid.UUID] = field(default_factory=set)

    @classmethod
    async def load(cls, rows: list[_Row]) -> "_Batch":
        users = list({r.user for r in rows})
        people = await User.select(User.id, User.locale, User.is_active).where(User.id.is_in(users))
        locales = {as_uuid(u["id"]): u["locale"] for u in people if u["is_active"]}
        prefs = {as_uuid(p["user"]): p for p in await PushPreference.select().where(PushPreference.user.is_in(users))}
        devices: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for s in await PushSubscription.select(
            PushSubscription.id,
            PushSubscription.user,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
        ).where(PushSubscription.user.is_in(users)):
            devices.setdefault(as_uuid(s["user"]), []).append(s)
        done: dict[uuid.UUID, set[uuid.UUID]] = {}
        retried = [r.id for r in rows if r.attempts > 0]
        if retried:
            for s in await PushSend.select(PushSend.notification, PushSend.subscription).where(
                PushSend.notification.is_in(retried)
            ):
                done.setdefault(as_uuid(s["notification"]), set()).add(as_uuid(s["subscription"]))
        return cls(locales=locales, prefs=prefs, devices=devices, done=done)


@dataclass
class _Push:
    message: Message
    devices: list[dict[str, Any]]


def _json(value: Any) -> dict[str, Any]:
    data = json.loads(value) if isinstance(value, str) else value
    return data if isinstance(data, dict) else {}


def quiet_until(
    *, start_min: int | None, end_min: int | None, timezone: str, now: datetime.datetime
) -> datetime.datetime | None:
    """When the quiet hours that hold ``now`` end (UTC), or None when ``now`` is not in quiet hours."""
    if start_min is None or end_min is None or start_min == end_min:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    quiet = start_min <= minute < end_min if start_min < end_min else minute >= start_min or minute < end_min
    if not quiet:
        return None
    end = local.replace(hour=end_min // 60, minute=end_min % 60, second=0, microsecond=0)
    if end <= local:
        end += datetime.timedelta(days=1)
    return end.astimezone(datetime.UTC)


class Deliverer:
    """Sends due outbox rows through one PushSender; one per worker process (it keeps connections and tokens)."""

    def __init__(
        self,
        sender: PushSender,
        *,
        max_attempts: int = 8,
        lease_s: int = 120,
        batch: int = 500,
        concurrency: int = 200,
        clock: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        """Set up a deliverer.

        Args:
            sender: The Web Push sender (VAPID keys, HTTP pool).
            max_attempts: Tries of a row before it is dead-lettered.
            lease_s: How long a claimed row stays with this worker before another may take it.
            batch: Rows claimed at once.
            concurrency: Pushes in flight at once.
            clock: Now, in UTC.
        """
        self.sender = sender
        self.max_attempts = max_attempts
        self.lease = datetime.timedelta(seconds=lease_s)
        self.batch = batch
        self.clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self._subscriptions: dict[tuple[str, str, str], Subscription] = {}
        self._alerted: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> "Deliverer":
        """A deliverer with the key file and the settings of this process.

        Raises:
            PushNotConfigured: No VAPID key yet.
        """
        sender = PushSender(vapid_keys(), subject=settings.vapid_subject)
        return cls(
            sender,
            max_attempts=settings.push_max_attempts,
            lease_s=settings.push_lease_s,
            batch=settings.push_batch,
            concurrency=settings.push_concurrency,
        )

    async def aclose(self) -> None:
        """Close the sender's connections."""
        await self.sender.aclose()

    # ------------------------------------------------------------ claiming

    async def claim(self, now: datetime.datetime) -> list[_Row]:
        """Take up to ``batch`` due rows for this worker (locked until now + lease)."""
        async with write_transaction():
            query = (
                Notification.select(*_CLAIM_COLUMNS)
                .where(
                    Notification.sent_at.is_null(),
                    Notification.dead_at.is_null(),
                    Notification.available_at <= now,
                    (Notification.locked_until.is_null()) | (Notification.locked_until <= now),
                )
                .order_by(Notification.available_at)
                .limit(self.batch)
            )
            if not isinstance(engine(), FieldcrmSQLiteEngine):
                query = query.lock_rows("UPDATE", skip_locked=True)
            rows = await query
            if rows:
                await Notification.update({Notification.locked_until: now + self.lease}).where(
                    Notification.id.is_in([r["id"] for r in rows])
                )
        return [
            _Row(
                id=as_uuid(r["id"]),
                user=as_uuid(r["user"]),
                kind=r["kind"],
                topic=r["topic"] or "",
                params=_json(r["params"]),
                url=r["url"] or "",
                urgency=r["urgency"] or "normal",
                ttl_s=int(r["ttl_s"]),
                created_at=r["created_at"],
                attempts=int(r["attempts"]),
            )
            for r in rows
        ]

    # ------------------------------------------------------------ one batch

    async def run_once(self) -> DeliveryResult:
        """Claim one batch of due rows, push them, settle them; the counts of what happened."""
        now = self.clock()
        rows = await self.claim(now)
        result = DeliveryResult(claimed=len(rows))
        if not rows:
            return result
        batch = await _Batch.load(rows)
        updates: list[tuple[Any, ...]] = []
        sends: list[Any] = []
        for row in rows:
            planned = self._plan(row, batch, now, result)
            if isinstance(planned, _Push):
                sends += [self._push(row, device, planned.message, batch) for device in planned.devices]
            else:
                updates.append(planned)
        if sends:
            await asyncio.gather(*sends)
        settle = self.clock()
        done_rows: list[PushSend] = []
        for row in rows:
            if row.sent or row.pending or row.failed or row.gone:
                updates.append(self._outcome(row, settle, result))
                if row.pending:
                    done_rows += [
                        PushSend(id=new_id(), notification=row.id, subscription=s, sent_at=settle) for s in row.sent
                    ]
        await self._settle(updates, done_rows, batch.gone_subs, batch.ok_subs, settle)
        return result

    def _plan(
        self, row: _Row, batch: "_Batch", now: datetime.datetime, result: DeliveryResult
    ) -> "tuple[Any, ...] | _Push":
        """The row's settlement when nothing is to be pushed now (an UPDATE's values), else the message and devices."""
        if row.user not in batch.locales:
            result.skipped += 1
            return (row.attempts, None, now, None, "not pushed: the user is deactivated", row.id)
        pref = batch.prefs.get(row.user)
        category = messages.CATEGORY_OF.get(row.kind)
        if pref is not None and category is not None and not pref[category]:
            result.skipped += 1
            return (row.attempts, None, now, None, f"not pushed: the user switched off {category}", row.id)
        if pref is not None:
            until = quiet_until(
                start_min=pref["quiet_start_min"], end_min=pref["quiet_end_min"], timezone=pref["timezone"], now=now
            )
            if until is not None:
                result.held += 1
                return (row.attempts, until, None, None, None, row.id)
        ttl = min(row.ttl_s, messages.TTL_OF.get(row.kind, messages.DEFAULT_TTL_S))
        ttl -= int((now - row.created_at).total_seconds())
        if ttl <= 0:
            result.dead += 1
            return (row.attempts, None, None, now, "expired before it could be pushed (TTL)", row.id)
        skip = batch.done.get(row.id, set())
        targets = [d for d in batch.devices.get(row.user, []) if as_uuid(d["id"]) not in skip]
        if not targets:
            result.skipped += 1
            return (row.attempts, None, now, None, "not pushed: no device subscribed", row.id)
        payload = messages.render(
            notification_id=row.id,
            kind=row.kind,
            params=row.params,
            url=row.url,
            topic=row.topic,
            locale=batch.locales.get(row.user),
            timezone=pref["timezone"] if pref is not None else get_settings().timezone,
        )
        urgency: Urgency = row.urgency if row.urgency in URGENCIES else "normal"  # type: ignore[assignment]
        message = Message(payload, ttl=ttl, urgency=urgency, topic=topic_for(row.topic) if row.topic else None)
        return _Push(message, targets)

    def _outcome(self, row: _Row, now: datetime.datetime, result: DeliveryResult) -> tuple[Any, ...]:
        """The row's settlement after its pushes: sent, retried later, or dead-lettered."""
        result.pushes += len(row.sent)
        result.gone += row.gone
        attempts = row.attempts + 1
        if row.pending:
            reason = "; ".join(sorted({r for _, r in row.pending}))[:1000]
            if attempts >= self.max_attempts:
                log.warning("notification %s dead-lettered after %d attempts: %s", row.id, attempts, reason)
                result.dead += 1
                return (attempts, None, None, now, reason, row.id)
            result.retrying += 1
            wait = max(w for w, _ in row.pending)  # at least every Retry-After asked for
            return (attempts, now + datetime.timedelta(seconds=wait), None, None, reason, row.id)
        if row.failed and not row.sent:
            result.dead += 1
            return (attempts, None, None, now, "; ".join(row.failed)[:1000], row.id)
        result.sent += 1
        note = "; ".join(row.failed)[:1000] or ("some devices were gone" if row.gone else None)
        return (attempts, None, now, None, note, row.id)

    async def _push(
        self,
        row: _Row,
        device: Mapping[str, Any],
        message: Message,
        batch: "_Batch",
    ) -> None:
        sub_id = as_uuid(device["id"])
        key = (device["endpoint"], device["p256dh"], device["auth"])
        subscription = self._subscriptions.get(key)
        if subscription is None:
            try:
                subscription = Subscription(endpoint=key[0], p256dh=key[1], auth=key[2])
            except ValueError as exc:  # checked at registration; a row edited by hand lands here
                row.failed.append(f"unusable subscription {sub_id}: {exc}")
                return
            if len(self._subscriptions) > 100_000:
                self._subscriptions.clear()
            self._subscriptions[key] = subscription
        async with self._limit:
            outcome: Outcome = await self.sender.send(subscription, message, attempt=row.attempts)
        if isinstance(outcome, Sent):
            row.sent.append(sub_id)
            batch.ok_subs.add(sub_id)
        elif isinstance(outcome, Gone):
            row.gone += 1
            batch.gone_subs.add(sub_id)
        elif isinstance(outcome, RetryLater):
            row.pending.append((outcome.after_s, outcome.reason))
        elif isinstance(outcome, Misconfigured):
            self._alert(subscription.audience, outcome)
            row.pending.append((backoff(row.attempts), f"misconfigured: {outcome.reason}"))
        elif isinstance(outcome, Rejected):
            log.warning("push service refused notification %s for device %s: %s", row.id, sub_id, outcome.reason)
            row.failed.append(outcome.reason)

    def _alert(self, audience: str, outcome: Misconfigured) -> None:
        last = self._alerted.get(audience, 0.0)
        if time.monotonic() - last > 60:  # once a minute per push service, not once per message
            self._alerted[audience] = time.monotonic()
            log.error(
                "ALERT push service %s refused our VAPID credentials (%s): check FIELDCRM_VAPID_PRIVATE_KEY_PATH "
                "is the key the browsers subscribed with, and the server clock; notifications are retried",
                audience,
                outcome.reason,
            )

    async def _settle(
        self,
        updates: list[tuple[Any, ...]],
        sends: list[PushSend],
        gone_subs: set[uuid.UUID],
        ok_subs: set[uuid.UUID],
        now: datetime.datetime,
    ) -> None:
        async with write_transaction():
            await executemany(
                "UPDATE notifications SET attempts = ?, available_at = COALESCE(?, available_at), locked_until = NULL, "
                "sent_at = ?, dead_at = ?, last_error = ? WHERE id = ?",
                updates,
            )
            if gone_subs:
                await PushSubscription.delete().where(PushSubscription.id.is_in(list(gone_subs)))
            live = [s for s in ok_subs if s not in gone_subs]
            if sends:
                await insert_rows(PushSend, [s for s in sends if as_uuid(s.subscription) not in gone_subs])
            if live:
                await PushSubscription.update({PushSubscription.last_success_at: now}).where(
                    PushSubscription.id.is_in(live)
                )

    async def drain(self, *, budget_s: float = 5.0) -> DeliveryResult:
        """Run batches while rows are due, for at most about ``budget_s`` seconds."""
        total = DeliveryResult()
        deadline = time.monotonic() + budget_s
        while True:
            result = await self.run_once()
            total.add(result)
            if result.claimed < self.batch or time.monotonic() >= deadline:
                return total


# ---------------------------------------------------------------- the worker job

_worker: dict[str, Deliverer] = {}
_warned: list[str] = []


async def deliver_due() -> object:
    """The worker job: push what is due (the deliverer lives as long as the worker process)."""
    deliverer = _worker.get("deliverer")
    if deliverer is None:
        try:
            deliverer = _worker["deliverer"] = Deliverer.from_settings(get_settings())
        except PushNotConfigured as exc:
            if not _warned:
                _warned.append(exc.message)
                log.warning("%s; notifications wait in the outbox", exc.message)
            return 0  # warned once above; the rows wait
    return await deliverer.drain()
