"""API shapes of the integration surface: service accounts, tokens, billing batches, webhooks."""

import datetime
import uuid
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct

Scope = Literal["billing:write", "billing:read", "accounts:read", "accounts:write", "contracts:read"]
EventName = Literal[
    "contract.signed", "contract.amended", "quote.accepted", "account.changed", "case.opened", "case.closed"
]
Name = Annotated[str, Meta(min_length=1, max_length=120)]
Code = Annotated[str, Meta(min_length=1, max_length=64)]
Month = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Cents = Annotated[int, Meta(ge=0, le=10**15)]


# ---------------------------------------------------------------- service accounts


class ServiceAccountCreate(BaseStruct):
    """A new service account (HQ); its first token is in the answer, shown this once."""

    name: Name
    scopes: Annotated[list[Scope], Meta(max_length=10)]
    token_label: Annotated[str, Meta(max_length=120)] = ""


class ServiceAccountPatch(BaseStruct):
    """New scopes, or ``disabled: true`` to stop every token of the account at once."""

    scopes: Annotated[list[Scope], Meta(max_length=10)] | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


class ServiceToken(BaseStruct):
    """A token as HQ sees it later: never the token itself."""

    id: uuid.UUID
    prefix: str
    label: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class ServiceAccount(BaseStruct):
    """A system that calls fieldcrm, with what it may do."""

    id: uuid.UUID
    name: str
    scopes: list[str]
    disabled: bool
    tokens: list[ServiceToken]
    last_used_at: datetime.datetime | None
    created_at: datetime.datetime


class ServiceAccountPage(BaseStruct):
    """A page of service accounts."""

    items: list[ServiceAccount]
    total: int
    next_cursor: str | None


class TokenCreate(BaseStruct):
    """Another token for a service account (e.g. to rotate: issue, switch, revoke the old one)."""

    label: Annotated[str, Meta(max_length=120)] = ""


class NewToken(BaseStruct):
    """A token just issued: ``token`` is shown only in this answer; fieldcrm keeps only its hash."""

    token: str
    service_account_id: uuid.UUID
    details: ServiceToken


class ServiceAccountCreated(BaseStruct):
    """The new account and its first token."""

    service_account: ServiceAccount
    token: NewToken


# ---------------------------------------------------------------- billing batches


class BillIn(BaseStruct, forbid_unknown_fields=True):
    """A bill, upserted by its number."""

    bill_number: Code
    account_code: Code
    period: Month
    amount_due_cents: Cents
    due_on: datetime.date
    paid_cents: Cents = 0
    issued_on: datetime.date | None = None
    void: bool = False


class PaymentIn(BaseStruct, forbid_unknown_fields=True):
    """A payment, upserted by its reference; ``billNumber`` links it to a bill of the same account."""

    payment_ref: Code
    account_code: Code
    amount_cents: Annotated[int, Meta(ge=1, le=10**15)]
    paid_on: datetime.date
    bill_number: Code | None = None
    method: Annotated[str, Meta(max_length=32)] = ""


class HoldingIn(BaseStruct, forbid_unknown_fields=True):
    """A product the account has, upserted by (account code, product code)."""

    account_code: Code
    product_code: Code
    product: Annotated[str, Meta(min_length=1, max_length=200)]
    quantity: Annotated[int, Meta(ge=0, le=10**9)] = 1
    monthly_fee_cents: Cents = 0
    contract_start: datetime.date | None = None
    contract_end: datetime.date | None = None


class RevenueIn(BaseStruct, forbid_unknown_fields=True):
    """An account's revenue in one month, upserted by (account code, month)."""

    account_code: Code
    month: Month
    amount_cents: Cents


class RowError(BaseStruct):
    """What is wrong with one row: the section, its 1-based number there, the field and why."""

    section: str
    row: int
    field: str
    message: str


class SectionCounts(BaseStruct):
    """Rows of one section: new, changed and already as sent."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class BatchResult(BaseStruct):
    """What a batch did; the same batch sent again answers this again, unchanged."""

    batch_id: str
    status: Literal["applied"]
    rows: int
    body_sha256: str
    bills: SectionCounts
    payments: SectionCounts
    holdings: SectionCounts
    revenue: SectionCounts
    applied_at: datetime.datetime
    submitted_by: str
    replayed: bool = False


# ---------------------------------------------------------------- webhooks


class WebhookCreate(BaseStruct):
    """An HTTPS endpoint to receive events, signed with ``secret`` (at least 16 characters)."""

    url: Annotated[str, Meta(min_length=8, max_length=2000)]
    secret: Annotated[str, Meta(min_length=16, max_length=200)]
    events: Annotated[list[EventName], Meta(min_length=1, max_length=10)]
    description: Annotated[str, Meta(max_length=200)] = ""


class WebhookPatch(BaseStruct):
    """Changes to a webhook."""

    url: Annotated[str, Meta(min_length=8, max_length=2000)] | UnsetType = UNSET
    secret: Annotated[str, Meta(min_length=16, max_length=200)] | UnsetType = UNSET
    events: Annotated[list[EventName], Meta(min_length=1, max_length=10)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class Webhook(BaseStruct):
    """A registered webhook (never its secret)."""

    id: uuid.UUID
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class WebhookPage(BaseStruct):
    """A page of webhooks."""

    items: list[Webhook]
    total: int
    next_cursor: str | None


class DeliveryAttempt(BaseStruct):
    """One try: when, what the receiver answered (or the error), how long it took."""

    number: int
    at: datetime.datetime
    status_code: int | None
    error: str
    duration_ms: int


class Delivery(BaseStruct):
    """One event for one webhook, with its attempts."""

    id: uuid.UUID
    event: str
    event_id: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_status: int | None
    last_error: str
    delivered_at: datetime.datetime | None
    dead_at: datetime.datetime | None
    created_at: datetime.datetime
    tries: list[DeliveryAttempt]


class DeliveryPage(BaseStruct):
    """A page of deliveries, newest first."""

    items: list[Delivery]
    total: int
    next_cursor: str | None
