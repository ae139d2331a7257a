"""Web Push set-up for users: the server's VAPID key, each user's devices (subscriptions), their preferences.

A user may have several devices; the same browser subscribing again updates its row (the endpoint
is unique), and when another person signs in on that browser the subscription moves to them, so a
phone never shows the previous user's approvals.
"""

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fieldcrm.lib.db import read_transaction, required, write_transaction
from fieldcrm.lib.errors import Conflict, DomainError, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.notifications.schemas import (
    PublicKey,
    PushDevice,
    PushDevicePage,
    PushPreferences,
    PushSubscriptionCreate,
    QuietHours,
)
from fieldcrm.notifications.tables import PushPreference, PushSubscription
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.settings import get_settings
from fieldcrm_push import Subscription, VapidKeys

if TYPE_CHECKING:
    from piccolo.columns import Column


class PushNotConfigured(DomainError):
    """The server has no VAPID key yet (an operator runs ``fieldcrm vapid``)."""

    status_code = 503
    title = "Push notifications are not set up"


# ---------------------------------------------------------------- the server's key

_keys: dict[str, VapidKeys] = {}
_override: list[VapidKeys] = []


def use_vapid_keys(keys: VapidKeys | None) -> None:
    """Use these keys instead of the key file (tests and benchmarks); None goes back to the file."""
    _override.clear()
    if keys is not None:
        _override.append(keys)


def key_path() -> Path:
    """Where the VAPID private key lives (``FIELDCRM_VAPID_PRIVATE_KEY_PATH``)."""
    return Path(get_settings().vapid_private_key_path)


def vapid_keys() -> VapidKeys:
    """The server's VAPID key pair, read once from the key file.

    Raises:
        PushNotConfigured: There is no key file, or it does not hold a P-256 private key.
    """
    if _override:
        return _override[0]
    path = key_path()
    cached = _keys.get(str(path))
    if cached is not None:
        return cached
    try:
        keys = VapidKeys.load(path)
    except FileNotFoundError:
        msg = f"push notifications are not set up: no VAPID key at {path} (an operator runs `fieldcrm vapid`)"
        raise PushNotConfigured(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"push notifications are not set up: the VAPID key at {path} cannot be read ({exc})"
        raise PushNotConfigured(msg) from None
    _keys[str(path)] = keys
    return keys


async def public_key() -> PublicKey:
    """The application server key browsers subscribe with."""
    return PublicKey(public_key=vapid_keys().application_server_key)


# ---------------------------------------------------------------- devices


def _push_service(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return parts.hostname or ""


def _device(row: dict[str, Any]) -> PushDevice:
    return PushDevice(
        id=row["id"],
        push_service=_push_service(row["endpoint"]),
        user_agent=row["user_agent"],
        created_at=row["created_at"],
        last_success_at=row["last_success_at"],
    )


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_FORBIDDEN = re.compile(r"[\\\x00-\x20\x7f]|%00")


def _allowed_hosts() -> list[str]:
    """The operator's list: exact hosts, ``*.domain`` for exactly one label under a domain, or ``*``."""
    return [h.strip().lower() for h in get_settings().push_endpoint_hosts.split(",") if h.strip()]


def _host_allowed(host: str, allowed: list[str]) -> bool:
    for entry in allowed:
        if entry in {"*", host}:
            return True
        if entry.startswith("*."):
            label, _, rest = host.partition(".")
            if rest == entry[2:] and _LABEL.fullmatch(label):
                return True
    return False


def _refuse(endpoint: str, why: str) -> InvalidInput:
    return InvalidInput(f"this is not a usable push endpoint ({why}): {endpoint[:80]!r}", field="endpoint")


def normalised_endpoint(endpoint: str) -> str:
    """The endpoint parsed, checked and written back in one canonical form, or why not.

    The server POSTs to whatever URL a browser gave, so only to the push services the operator allows
    (``FIELDCRM_PUSH_ENDPOINT_HOSTS``, exact hosts), over https on port 443, with no user info, no escaped
    or raw separators (``%2f`` in the host, backslashes), no NUL or control characters, and a plain DNS host.
    Loopback hosts in the list (tests, a local push service) may use http and any port.

    Raises:
        InvalidInput: The endpoint is not one the server may send to.
    """
    if _FORBIDDEN.search(endpoint):
        raise _refuse(endpoint, "NUL or control characters, spaces or backslashes")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise _refuse(endpoint, "not a URL") from None
    host = (parts.hostname or "").rstrip(".")
    if "%" in parts.netloc:  # an escaped "/", "@" or NUL in the host part means another host to someone
        raise _refuse(endpoint, "escaped characters in the host")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _refuse(endpoint, "it carries a user name or password")
    loopback = host in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise _refuse(endpoint, "push endpoints are https URLs")
    if not loopback and (not host.isascii() or not all(_LABEL.fullmatch(label) for label in host.split("."))):
        raise _refuse(endpoint, "the host is not a plain DNS name")
    if not loopback and port not in (None, 443):
        raise _refuse(endpoint, "push services listen on port 443 only")
    if not _host_allowed(host, _allowed_hosts()):
        msg = (
            f"push service {host} is not one this server sends to; "
            "an operator can allow it in FIELDCRM_PUSH_ENDPOINT_HOSTS"
        )
        raise InvalidInput(msg, field="endpoint")
    netloc = f"[{host}]" if ":" in host else host
    if loopback and port is not None:
        netloc = f"{netloc}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path or '/'}{query}"


def _checked(data: PushSubscriptionCreate) -> Subscription:
    endpoint = normalised_endpoint(data.endpoint)
    try:
        return Subscription(endpoint=endpoint, p256dh=data.keys.p256dh, auth=data.keys.auth)
    except ValueError as exc:
        raise InvalidInput(f"this is not a usable push subscription: {exc}", field="endpoint") from None


_DEVICE_COLUMNS = (
    PushSubscription.id,
    PushSubscription.endpoint,
    PushSubscription.user_agent,
    PushSubscription.created_at,
    PushSubscription.last_success_at,
)


async def _check_device_cap(actor: Actor) -> None:
    cap = get_settings().push_max_devices
    if await PushSubscription.count().where(PushSubscription.user == actor.id) >= cap:
        msg = (
            f"you already receive notifications on {cap} devices; remove one you no longer use "
            "(Settings, notifications) before adding this one"
        )
        raise Conflict(msg, field="endpoint", extra={"code": "too_many_devices"})


async def register(*, actor: Actor, data: PushSubscriptionCreate) -> PushDevice:
    """Register this browser's subscription for the caller (again is fine: the row is updated).

    Raises:
        InvalidInput: The endpoint or keys are unusable, or the push service is not allowed.
    """
    scope.require(actor, "push.subscribe")
    subscription = _checked(data)
    async with write_transaction():
        existing = (
            await PushSubscription.select(PushSubscription.id)
            .where(PushSubscription.endpoint == subscription.endpoint)
            .first()
        )
        if existing is None:
            await _check_device_cap(actor)
            sub_id = new_id()
            await PushSubscription.insert(
                PushSubscription(
                    id=sub_id,
                    user=actor.id,
                    endpoint=subscription.endpoint,
                    p256dh=subscription.p256dh,
                    auth=subscription.auth,
                    user_agent=data.user_agent,
                    created_at=utcnow(),
                )
            )
        else:
            sub_id = existing["id"]
            await PushSubscription.update(
                {
                    PushSubscription.user: actor.id,
                    PushSubscription.p256dh: subscription.p256dh,
                    PushSubscription.auth: subscription.auth,
                    PushSubscription.user_agent: data.user_agent,
                }
            ).where(PushSubscription.id == sub_id)
        row = await PushSubscription.select(*_DEVICE_COLUMNS).where(PushSubscription.id == sub_id).first()
    return _device(required(row))


async def list_devices(*, actor: Actor, page: PageParams) -> PushDevicePage:
    """The caller's devices, newest first."""
    scope.require(actor, "push.subscribe")
    async with read_transaction():
        total = await PushSubscription.count().where(PushSubscription.user == actor.id)
        rows = (
            await PushSubscription.select(*_DEVICE_COLUMNS)
            .where(PushSubscription.user == actor.id)
            .order_by(PushSubscription.created_at, ascending=False)
            .order_by(PushSubscription.id)
            .limit(page.limit)
            .offset(page.offset)
        )
    return PushDevicePage(items=[_device(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def remove(*, actor: Actor, subscription_id: uuid.UUID) -> None:
    """Stop pushing to one of the caller's devices (another person's device is not found).

    Raises:
        NotFound: No such device of the caller's.
    """
    scope.require(actor, "push.subscribe")
    async with write_transaction():
        gone = (
            await PushSubscription.delete()
            .where(PushSubscription.id == subscription_id, PushSubscription.user == actor.id)
            .returning(PushSubscription.id)
        )
    if not gone:
        msg = f"device {subscription_id} not found among your push subscriptions"
        raise NotFound(msg)


# ---------------------------------------------------------------- preferences


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


def preferences_out(row: dict[str, Any] | None) -> PushPreferences:
    """The preferences of a row (the defaults when the user never saved any)."""
    if row is None:
        return PushPreferences(timezone=get_settings().timezone)
    quiet = None
    if row["quiet_start_min"] is not None and row["quiet_end_min"] is not None:
        quiet = QuietHours(start=_hhmm(row["quiet_start_min"]), end=_hhmm(row["quiet_end_min"]))
    return PushPreferences(
        approvals=row["approvals"],
        sla_warnings=row["sla_warnings"],
        assignments=row["assignments"],
        daily_digest=row["daily_digest"],
        task_reminders=row["task_reminders"],
        quiet_hours=quiet,
        timezone=row["timezone"],
    )


async def get_preferences(*, actor: Actor) -> PushPreferences:
    """The caller's notification preferences."""
    scope.require(actor, "push.subscribe")
    row = await PushPreference.select().where(PushPreference.user == actor.id).first()
    return preferences_out(row)


async def put_preferences(*, actor: Actor, data: PushPreferences) -> PushPreferences:
    """Replace the caller's preferences.

    Raises:
        InvalidInput: An unknown time zone, or quiet hours that start when they end.
    """
    scope.require(actor, "push.subscribe")
    try:
        ZoneInfo(data.timezone)
    except (KeyError, ValueError):
        raise InvalidInput(f"unknown time zone {data.timezone!r} (use e.g. Asia/Shanghai)", field="timezone") from None
    start = end = None
    if data.quiet_hours is not None:
        start, end = _minutes(data.quiet_hours.start), _minutes(data.quiet_hours.end)
        if start == end:
            msg = "quiet hours must end at another time than they start (or send quietHours: null for none)"
            raise InvalidInput(msg, field="quietHours.end")
    values: dict[Column | str, Any] = {
        PushPreference.approvals: data.approvals,
        PushPreference.sla_warnings: data.sla_warnings,
        PushPreference.assignments: data.assignments,
        PushPreference.daily_digest: data.daily_digest,
        PushPreference.task_reminders: data.task_reminders,
        PushPreference.quiet_start_min: start,
        PushPreference.quiet_end_min: end,
        PushPreference.timezone: data.timezone,
        PushPreference.updated_at: utcnow(),
    }
    async with write_transaction():
        updated = (
            await PushPreference.update(values).where(PushPreference.user == actor.id).returning(PushPreference.id)
        )
        if not updated:
            row = PushPreference(id=new_id(), user=actor.id)
            for column, value in values.items():
                setattr(row, column if isinstance(column, str) else column._meta.name, value)
            await PushPreference.insert(row)
        saved = await PushPreference.select().where(PushPreference.user == actor.id).first()
    return preferences_out(saved)
