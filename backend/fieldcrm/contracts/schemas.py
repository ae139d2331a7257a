"""API shapes of contracts, agreed tariffs, documents, bills, payments, arrears and collections."""

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct

Status = Literal["draft", "signed", "active", "expiring", "renewed", "ended", "terminated"]
Action = Literal["sign", "activate", "renew", "end", "terminate"]
Cents = Annotated[int, Meta(ge=0, le=10**15)]
BasisPoints = Annotated[int, Meta(ge=0, le=10_000)]
Title = Annotated[str, Meta(max_length=200)]
Signatory = Annotated[str, Meta(min_length=1, max_length=120)]


class TariffIn(BaseStruct):
    """A price (cents a unit) or a discount (basis points off list), or both, agreed on one product."""

    product_id: uuid.UUID
    price_cents: Cents | None = None
    discount_bp: BasisPoints | None = None
    valid_from: datetime.date | None = None  # default: the contract's start
    valid_to: datetime.date | None = None  # default: the contract's end


class Tariff(BaseStruct):
    """An agreed tariff."""

    id: uuid.UUID
    product_id: uuid.UUID | None
    product_code: str
    product_name: str
    price_cents: int | None
    discount_bp: int | None
    valid_from: datetime.date | None
    valid_to: datetime.date | None


class TariffsPut(BaseStruct):
    """The contract's whole list of agreed tariffs."""

    tariffs: Annotated[list[TariffIn], Meta(max_length=500)]


class ContractLine(BaseStruct):
    """A line of the contract (from its quote, exactly)."""

    position: int
    product_id: uuid.UUID | None
    product_code: str
    product_name: str
    unit: str
    quantity: int
    list_price_cents: int
    unit_price_cents: int
    discount_bp: int
    total_cents: int


class Document(BaseStruct):
    """A signed scan or PDF of the contract."""

    id: uuid.UUID
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime.datetime


class Contract(BaseStruct):
    """A contract with its lines, agreed tariffs and documents."""

    id: uuid.UUID
    number: str
    account_id: uuid.UUID
    account_name: str
    title: str
    status: Status
    start_on: datetime.date | None
    end_on: datetime.date | None
    auto_renew: bool
    notice_days: int
    signed_on: datetime.date | None
    signatories: list[str]
    currency: str
    total_cents: int
    quote_ids: list[uuid.UUID]
    lines: list[ContractLine]
    tariffs: list[Tariff]
    documents: list[Document]
    renewal_opened_at: datetime.datetime | None
    renewed_by_id: uuid.UUID | None
    allowed_actions: list[str]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContractSummary(BaseStruct):
    """A contract in a list."""

    id: uuid.UUID
    number: str
    account_id: uuid.UUID
    account_name: str
    title: str
    status: Status
    start_on: datetime.date | None
    end_on: datetime.date | None
    auto_renew: bool
    total_cents: int


class ContractPage(BaseStruct):
    """A page of contracts."""

    items: list[ContractSummary]
    total: int
    next_cursor: str | None


class ContractCreate(BaseStruct):
    """A draft contract for an account (without a quote)."""

    account_id: uuid.UUID
    title: Title = ""
    start_on: datetime.date | None = None
    end_on: datetime.date | None = None
    auto_renew: bool = False
    notice_days: Annotated[int, Meta(ge=0, le=365)] = 30
    tariffs: Annotated[list[TariffIn], Meta(max_length=500)] = msgspec.field(default_factory=list)


class ContractPatch(BaseStruct):
    """Changes to a draft contract."""

    title: Title | UnsetType = UNSET
    start_on: datetime.date | None | UnsetType = UNSET
    end_on: datetime.date | None | UnsetType = UNSET
    auto_renew: bool | UnsetType = UNSET
    notice_days: Annotated[int, Meta(ge=0, le=365)] | UnsetType = UNSET
    signatories: Annotated[list[Signatory], Meta(max_length=10)] | UnsetType = UNSET


class ContractTransition(BaseStruct):
    """Move a contract on: sign (with the date and signatories), activate, renew, end, terminate."""

    action: Action
    signed_on: datetime.date | None = None
    signatories: Annotated[list[Signatory], Meta(max_length=10)] | None = None
    comment: Annotated[str, Meta(max_length=500)] = ""


class AccountCommercial(BaseStruct):
    """What the customer 360 shows of contracts and money: live contracts, renewals, tariffs, arrears."""

    account_id: uuid.UUID
    contracts: list[ContractSummary]
    next_renewal_on: datetime.date | None
    tariffs: list[Tariff]
    outstanding_cents: int
    overdue_cents: int


# ---------------------------------------------------------------- bills and collections


class BillOut(BaseStruct):
    """A bill as the billing system sent it, with what is still open."""

    id: uuid.UUID
    bill_number: str
    account_id: uuid.UUID
    account_name: str
    period: str
    amount_due_cents: int
    paid_cents: int
    outstanding_cents: int
    issued_on: datetime.date | None
    due_on: datetime.date
    days_overdue: int
    status: str


class BillPage(BaseStruct):
    """A page of bills."""

    items: list[BillOut]
    total: int
    next_cursor: str | None


class PaymentOut(BaseStruct):
    """A payment."""

    id: uuid.UUID
    payment_ref: str
    account_id: uuid.UUID
    bill_number: str | None
    amount_cents: int
    paid_on: datetime.date
    method: str


class PaymentPage(BaseStruct):
    """A page of payments."""

    items: list[PaymentOut]
    total: int
    next_cursor: str | None


class Aging(BaseStruct):
    """Unpaid amounts by days past due (counted in the business time zone)."""

    current_cents: int = 0
    d1_30_cents: int = 0
    d31_60_cents: int = 0
    d61_90_cents: int = 0
    d90_plus_cents: int = 0
    total_cents: int = 0


class ArrearsRow(BaseStruct):
    """One account's arrears."""

    account_id: uuid.UUID
    account_code: str
    account_name: str
    owner_id: uuid.UUID
    oldest_due_on: datetime.date
    days_overdue: int
    aging: Aging


class ArrearsPage(BaseStruct):
    """Accounts with unpaid bills, the most overdue first, and the total of the whole scope."""

    items: list[ArrearsRow]
    total: int
    next_cursor: str | None
    as_of: datetime.date
    scope_total: Aging | None  # with ?totals=true: the aging of every account in the scope


class CollectionCreate(BaseStruct, forbid_unknown_fields=False):
    """A collection contact: a promise to pay (date and amount), a dispute (reason), or a note."""

    account_id: uuid.UUID
    kind: Literal["promise", "dispute", "note"]
    id: uuid.UUID | None = None  # made on the device when recorded offline
    bill_id: uuid.UUID | None = None
    promised_on: datetime.date | None = None
    promised_cents: Annotated[int, Meta(ge=1, le=10**15)] | None = None
    reason: Annotated[str, Meta(max_length=1000)] = ""
    note: Annotated[str, Meta(max_length=2000)] = ""
    captured_at: datetime.datetime | None = None


class Collection(BaseStruct):
    """A recorded collection contact."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    bill_id: uuid.UUID | None
    kind: str
    promised_on: datetime.date | None
    promised_cents: int | None
    reason: str
    note: str
    status: str
    recorded_by_name: str
    captured_at: datetime.datetime | None
    created_at: datetime.datetime


class CollectionPage(BaseStruct):
    """A page of collection contacts, newest first."""

    items: list[Collection]
    total: int
    next_cursor: str | None
