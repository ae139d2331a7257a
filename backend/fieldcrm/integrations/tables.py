"""Service accounts and their tokens, inbound billing batches, outbound webhooks and their outbox."""

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from fieldcrm.lib.tables import created_column, pk, updated_column
from fieldcrm.org.tables import User


class ServiceAccount(Table, tablename="service_accounts"):
    """Another system that calls fieldcrm (the billing system first); never a person."""

    id = pk()
    name = Varchar(length=120, unique=True)
    scopes = JSON(default="[]")  # e.g. ["billing:write", "accounts:read"]
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    disabled_at = Timestamptz(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()


class ServiceToken(Table, tablename="service_tokens"):
    """An API token of a service account: only its SHA-256 is kept; the token is shown once."""

    id = pk()
    service_account = ForeignKey(ServiceAccount, on_delete=OnDelete.cascade, index=True)
    digest = Varchar(length=64, unique=True, secret=True)
    prefix = Varchar(length=16, default="")  # the first characters, so HQ can tell tokens apart
    label = Varchar(length=120, default="")
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = created_column()


class BillingBatch(Table, tablename="billing_batches"):
    """An applied inbound batch: its id, the hash of its canonical body, and the answer given."""

    id = pk()
    batch_key = Varchar(length=100, unique=True)
    body_sha256 = Varchar(length=64)
    service_account = ForeignKey(ServiceAccount, null=True, default=None, on_delete=OnDelete.set_null)
    submitted_by = Varchar(length=120, default="")
    rows = Integer(default=0)
    result = JSON(default="{}")
    created_at = created_column()


class Webhook(Table, tablename="webhooks"):
    """An HTTPS endpoint HQ registered for some events, with the secret deliveries are signed with."""

    id = pk()
    url = Varchar(length=2000)
    secret = Varchar(length=200, secret=True)
    events = JSON(default="[]")
    description = Varchar(length=200, default="")
    active = Boolean(default=True)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = created_column()
    updated_at = updated_column()


class WebhookDelivery(Table, tablename="webhook_deliveries"):
    """One event for one webhook: written in the event's transaction, drained by the worker."""

    id = pk()
    webhook = ForeignKey(Webhook, on_delete=OnDelete.cascade, index=True)
    event = Varchar(length=40)
    event_id = Varchar(length=64, index=True)
    body = Text()
    status = Varchar(length=16, default="pending", index=True)  # pending | delivered | dead
    attempts = Integer(default=0)
    available_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None)
    last_error = Text(default="")
    delivered_at = Timestamptz(null=True, default=None)
    dead_at = Timestamptz(null=True, default=None)
    created_at = created_column()


class WebhookAttempt(Table, tablename="webhook_attempts"):
    """One try of a delivery, as the receiver answered it."""

    id = pk()
    delivery = ForeignKey(WebhookDelivery, on_delete=OnDelete.cascade, index=True)
    number = Integer(default=1)
    at = Timestamptz()
    status_code = Integer(null=True, default=None)
    error = Text(default="")
    duration_ms = BigInt(default=0)
