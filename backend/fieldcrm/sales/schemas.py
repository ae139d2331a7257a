"""API shapes of the catalogue, opportunities and quotes."""

import datetime
import uuid
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct

Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-/]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Short = Annotated[str, Meta(max_length=64)]
Text = Annotated[str, Meta(max_length=10_000)]
Cents = Annotated[int, Meta(ge=0, le=10**15)]
BasisPoints = Annotated[int, Meta(ge=0, le=10_000, description="1 bp = 0.01 %; 10000 = 100 %")]
Percent = Annotated[int, Meta(ge=0, le=100)]
Quantity = Annotated[int, Meta(ge=0, le=10**12)]
StageKey = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
StageKind = Literal["open", "won", "lost"]
QuoteState = Literal["draft", "submitted", "approved", "rejected", "returned", "sent", "accepted", "expired"]
QuoteAction = Literal["submit", "withdraw", "reopen", "send", "accept", "expire", "approve", "reject", "return"]


# ---------------------------------------------------------------- catalogue


class Product(BaseStruct):
    """A product or tariff of the catalogue."""

    id: uuid.UUID
    code: str
    name: str
    unit: str
    category: str
    list_price_cents: int
    max_discount_bp: int
    active: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ProductCreate(BaseStruct):
    """A new product (HQ)."""

    code: Code
    name: Name
    list_price_cents: Cents
    unit: Short = ""
    category: Short = ""
    max_discount_bp: BasisPoints = 0
    active: bool = True
    id: uuid.UUID | None = None


class ProductPatch(BaseStruct):
    """Changes to a product (HQ); existing quotes keep the prices they copied."""

    code: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    unit: Short | UnsetType = UNSET
    category: Short | UnsetType = UNSET
    list_price_cents: Cents | UnsetType = UNSET
    max_discount_bp: BasisPoints | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ProductPage(BaseStruct):
    """A page of products."""

    items: list[Product]
    total: int
    next_cursor: str | None


# ---------------------------------------------------------------- opportunities


class Stage(BaseStruct):
    """A stage of the funnel with its default win probability."""

    key: str
    name: str
    name_zh: str
    position: int
    probability: int
    kind: StageKind


class StagePut(BaseStruct):
    """Create or change a stage (HQ)."""

    name: Name
    probability: Percent
    position: Annotated[int, Meta(ge=0, le=1000)] = 0
    kind: StageKind = "open"
    name_zh: Annotated[str, Meta(max_length=120)] = ""


class Opportunity(BaseStruct):
    """An opportunity."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    owner_id: uuid.UUID
    owner_name: str
    name: str
    stage: str
    probability: int
    amount_cents: int
    weighted_cents: int
    expected_close: datetime.date | None
    product_ids: list[uuid.UUID]
    competitor: str
    next_step: str
    lost_reason: str
    closed_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class OpportunityCreate(BaseStruct):
    """A new opportunity on an account the caller sees; the stage's probability is the default."""

    account_id: uuid.UUID
    name: Name
    stage: StageKey = "lead"
    amount_cents: Cents = 0
    probability: Percent | None = None
    expected_close: datetime.date | None = None
    product_ids: Annotated[list[uuid.UUID], Meta(max_length=100)] = []  # noqa: RUF012 - msgspec copies defaults
    competitor: Annotated[str, Meta(max_length=200)] = ""
    next_step: Text = ""
    lost_reason: Text = ""
    owner_id: uuid.UUID | None = None
    id: uuid.UUID | None = None


class OpportunityPatch(BaseStruct):
    """Changed fields only, and ``baseVersion``: the version the edit was made on.

    Stage, amount and close date changed on the server since that version are not overwritten: they are
    reported as conflicts (409 over REST, ``conflicts`` in the sync result).
    """

    name: Name | UnsetType = UNSET
    stage: StageKey | UnsetType = UNSET
    amount_cents: Cents | UnsetType = UNSET
    probability: Percent | UnsetType = UNSET
    expected_close: datetime.date | None | UnsetType = UNSET
    product_ids: Annotated[list[uuid.UUID], Meta(max_length=100)] | UnsetType = UNSET
    competitor: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    next_step: Text | UnsetType = UNSET
    lost_reason: Text | UnsetType = UNSET
    base_version: int | UnsetType = UNSET


class OpportunityPage(BaseStruct):
    """A page of opportunities."""

    items: list[Opportunity]
    total: int
    next_cursor: str | None


class PipelineStage(BaseStruct):
    """One stage of the pipeline: how many, how much, weighted by probability."""

    stage: str
    name: str
    kind: StageKind
    count: int
    amount_cents: int
    weighted_cents: int


class Pipeline(BaseStruct):
    """Opportunities by stage within the caller's scope (and the filters)."""

    stages: list[PipelineStage]
    open_count: int
    open_amount_cents: int
    open_weighted_cents: int


# ---------------------------------------------------------------- quotes


class QuoteLineIn(BaseStruct):
    """A line: a catalogue product, how many, and optionally a unit price below list and a discount."""

    product_id: uuid.UUID
    quantity: Quantity
    unit_price_cents: Cents | None = None  # default: the product's list price now
    discount_bp: BasisPoints = 0


class QuoteLine(BaseStruct):
    """A line as the server computed it."""

    id: uuid.UUID
    position: int
    product_id: uuid.UUID | None
    product_code: str
    product_name: str
    unit: str
    quantity: int
    list_price_cents: int
    unit_price_cents: int
    discount_bp: int
    max_discount_bp: int
    discount_cents: int
    total_cents: int


class Quote(BaseStruct):
    """A quote revision with its lines and totals (integer cents)."""

    id: uuid.UUID
    number: str
    revision: int
    previous_id: uuid.UUID | None
    account_id: uuid.UUID
    account_name: str
    opportunity_id: uuid.UUID | None
    owner_id: uuid.UUID
    owner_name: str
    title: str
    state: QuoteState
    state_comment: str
    valid_until: datetime.date | None
    notes: str
    currency: str
    list_total_cents: int
    total_cents: int
    discount_bp: int
    deepest_excess_bp: int
    lines: list[QuoteLine]
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class QuoteSummary(BaseStruct):
    """A quote as lists show it."""

    id: uuid.UUID
    number: str
    revision: int
    account_id: uuid.UUID
    account_name: str
    owner_id: uuid.UUID
    title: str
    state: QuoteState
    total_cents: int
    discount_bp: int
    valid_until: datetime.date | None
    updated_at: datetime.datetime


class QuotePage(BaseStruct):
    """A page of quotes."""

    items: list[QuoteSummary]
    total: int
    next_cursor: str | None


class QuoteCreate(BaseStruct):
    """A new draft quote for an account the caller sees; the server numbers it."""

    account_id: uuid.UUID
    lines: Annotated[list[QuoteLineIn], Meta(max_length=500)] = []  # noqa: RUF012 - msgspec copies defaults
    title: Annotated[str, Meta(max_length=200)] = ""
    opportunity_id: uuid.UUID | None = None
    valid_until: datetime.date | None = None
    notes: Text = ""
    id: uuid.UUID | None = None


class QuotePatch(BaseStruct):
    """Changes to a draft; ``lines`` replaces all lines."""

    title: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    valid_until: datetime.date | None | UnsetType = UNSET
    notes: Text | UnsetType = UNSET
    lines: Annotated[list[QuoteLineIn], Meta(max_length=500)] | UnsetType = UNSET


class QuoteTransition(BaseStruct):
    """Move a quote on: submit, withdraw, reopen (a returned quote back to draft), send, accept, expire.

    approve / reject / return happen only through the approval workflow (POST /api/approvals/{stepId}/decision).
    """

    action: QuoteAction
    comment: Annotated[str, Meta(max_length=2000)] = ""
