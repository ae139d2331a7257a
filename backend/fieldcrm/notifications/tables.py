"""The notification outbox: rows written in the same transaction as the event; a worker delivers them."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fieldcrm.lib.tables import created_column, pk
from fieldcrm.org.tables import User


class Notification(Table, tablename="notifications"):
    """One notification for one user; title and body are localised at delivery from ``kind`` and ``params``."""

    id = pk()
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=48)
    topic = Varchar(length=80, default="")
    params = JSON(default="{}")
    url = Varchar(length=300, default="")
    urgency = Varchar(length=8, default="normal")  # very-low | low | normal | high
    ttl_s = Integer(default=86_400)
    created_at = created_column()
    available_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    dead_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)


# ---------------------------------------------------------------- Web Push (subscriptions, preferences, sends)


class PushSubscription(Table, tablename="push_subscriptions"):
    """One browser (device) of one user that receives Web Push; a user may have several.

    The endpoint is unique: the same browser subscribing again (or another user signing in on it)
    updates the row instead of adding one.
    """

    id = pk()
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    endpoint = Text(unique=True)
    p256dh = Varchar(length=100, secret=True)
    auth = Varchar(length=40, secret=True)
    user_agent = Varchar(length=200, default="")
    created_at = created_column()
    last_success_at = Timestamptz(null=True, default=None)


class PushPreference(Table, tablename="push_preferences"):
    """What one user wants pushed, and when not (quiet hours in their time zone; minutes after midnight)."""

    id = pk()
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    approvals = Boolean(default=True)
    sla_warnings = Boolean(default=True)
    assignments = Boolean(default=True)
    daily_digest = Boolean(default=False)
    task_reminders = Boolean(default=True)
    quiet_start_min = Integer(null=True, default=None)
    quiet_end_min = Integer(null=True, default=None)
    timezone = Varchar(length=64, default="Asia/Shanghai")
    updated_at = Timestamptz(default=TimestamptzNow())


class PushSend(Table, tablename="push_sends"):
    """A notification that reached one subscription's push service, so a retry of the row skips that device."""

    id = pk()
    notification = ForeignKey(Notification, on_delete=OnDelete.cascade, index=True)
    subscription = ForeignKey(PushSubscription, on_delete=OnDelete.cascade)
    sent_at = Timestamptz(default=TimestamptzNow())
