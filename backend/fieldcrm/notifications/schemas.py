"""API shapes of Web Push: the server's public key, a user's devices (subscriptions) and preferences."""

import datetime
import uuid
from typing import Annotated

from msgspec import Meta

from fieldcrm.lib.structs import BaseStruct

Base64Url = Annotated[str, Meta(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_\-]+=*$")]
Endpoint = Annotated[str, Meta(min_length=12, max_length=1000)]
ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, 24-hour")]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64, description="IANA zone, e.g. Asia/Shanghai")]


class PublicKey(BaseStruct):
    """The VAPID application server key for ``pushManager.subscribe({applicationServerKey})``."""

    public_key: str


class SubscriptionKeys(BaseStruct):
    """The browser's P-256 key and auth secret (base64url), as ``PushSubscription.toJSON().keys``."""

    p256dh: Base64Url
    auth: Annotated[str, Meta(min_length=16, max_length=40, pattern=r"^[A-Za-z0-9_\-]+=*$")]


class PushSubscriptionCreate(BaseStruct):
    """``PushSubscription.toJSON()`` of this browser, plus what the device is (to tell devices apart)."""

    endpoint: Endpoint
    keys: SubscriptionKeys
    expiration_time: int | None = None
    user_agent: Annotated[str, Meta(max_length=200)] = ""


class PushDevice(BaseStruct):
    """A device that receives my notifications (the endpoint itself is not shown: it is a capability)."""

    id: uuid.UUID
    push_service: str
    user_agent: str
    created_at: datetime.datetime
    last_success_at: datetime.datetime | None


class PushDevicePage(BaseStruct):
    """A page of my devices."""

    items: list[PushDevice]
    total: int
    next_cursor: str | None


class QuietHours(BaseStruct):
    """No pushes from ``start`` to ``end`` (local time; may span midnight); they wait until it ends."""

    start: ClockTime
    end: ClockTime


class PushPreferences(BaseStruct):
    """Which kinds of notification I want, and my quiet hours."""

    approvals: bool = True
    sla_warnings: bool = True
    assignments: bool = True
    daily_digest: bool = False
    task_reminders: bool = True
    quiet_hours: QuietHours | None = None
    timezone: TimeZone = "Asia/Shanghai"
