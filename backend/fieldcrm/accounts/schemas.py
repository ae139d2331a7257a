"""API shapes of key accounts, contacts, holdings, revenue and the customer 360."""

import datetime
import uuid
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct
from fieldcrm.org.schemas import Email, Latitude, Longitude

Tier = Literal["A", "B", "C"]
Status = Literal["prospect", "active", "at_risk", "lost"]
DecisionRole = Literal["decision_maker", "influencer", "user", "gatekeeper"]
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-/]+$")]
AccountName = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=120)]
Address = Annotated[str, Meta(max_length=300)]
Notes = Annotated[str, Meta(max_length=10_000)]
Radius = Annotated[int, Meta(ge=10, le=50_000)]
Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Cents = Annotated[int, Meta(ge=0, le=10**15)]
PhoneNumber = Annotated[str, Meta(min_length=3, max_length=32, pattern=r"^[0-9+\-() ]+$")]
Month = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class AccountSummary(BaseStruct):
    """An account as lists show it."""

    id: uuid.UUID
    code: str
    name: str
    industry: str
    tier: Tier | None
    status: Status
    city: str
    owner_id: uuid.UUID
    owner_name: str
    org_unit_id: uuid.UUID
    revenue_12m_cents: int
    member_lines: int
    parent_id: uuid.UUID | None
    latitude: float | None
    longitude: float | None
    updated_at: datetime.datetime


class Account(BaseStruct):
    """A key account with everything editable about it."""

    id: uuid.UUID
    code: str
    name: str
    industry: str
    tier: Tier | None
    computed_tier: Tier | None
    tier_override: Tier | None
    tier_override_reason: str | None
    revenue_12m_cents: int
    owner_id: uuid.UUID
    owner_name: str
    org_unit_id: uuid.UUID
    org_unit_name: str
    address: str
    city: str
    latitude: float | None
    longitude: float | None
    visit_radius_m: int
    status: Status
    parent_id: uuid.UUID | None
    member_lines: int
    notes: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    last_visited_on: datetime.date | None = None  # the last visit that counts for coverage


class AccountCreate(BaseStruct):
    """A new account; the owner defaults to the caller and the org unit to the owner's."""

    code: Code
    name: AccountName
    industry: ShortText = ""
    owner_id: uuid.UUID | None = None
    org_unit_id: uuid.UUID | None = None
    address: Address = ""
    city: ShortText = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    visit_radius_m: Radius = 300
    status: Status = "prospect"
    parent_id: uuid.UUID | None = None
    member_lines: Count = 0
    notes: Notes = ""
    id: uuid.UUID | None = None


class AccountPatch(BaseStruct):
    """Changes to an account: absent fields stay, null clears."""

    code: Code | UnsetType = UNSET
    name: AccountName | UnsetType = UNSET
    industry: ShortText | UnsetType = UNSET
    owner_id: uuid.UUID | UnsetType = UNSET
    org_unit_id: uuid.UUID | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    city: ShortText | UnsetType = UNSET
    latitude: Latitude | None | UnsetType = UNSET
    longitude: Longitude | None | UnsetType = UNSET
    visit_radius_m: Radius | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    parent_id: uuid.UUID | None | UnsetType = UNSET
    member_lines: Count | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET


class AccountPage(BaseStruct):
    """A page of accounts."""

    items: list[AccountSummary]
    total: int
    next_cursor: str | None


class TierOverride(BaseStruct):
    """HQ sets a tier by hand (it survives recomputation) or clears the override with null."""

    tier: Tier | None
    reason: Annotated[str, Meta(max_length=500)] = ""


class Contact(BaseStruct):
    """A person at the customer."""

    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    title: str
    phones: list[str]
    email: str | None
    decision_role: DecisionRole
    notes: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContactCreate(BaseStruct):
    """A new contact."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    title: ShortText = ""
    phones: Annotated[list[PhoneNumber], Meta(max_length=10)] = []  # noqa: RUF012 - msgspec copies defaults
    email: Email | None = None
    decision_role: DecisionRole = "user"
    notes: Notes = ""
    id: uuid.UUID | None = None


class ContactPatch(BaseStruct):
    """Changes to a contact."""

    name: Annotated[str, Meta(min_length=1, max_length=120)] | UnsetType = UNSET
    title: ShortText | UnsetType = UNSET
    phones: Annotated[list[PhoneNumber], Meta(max_length=10)] | UnsetType = UNSET
    email: Email | None | UnsetType = UNSET
    decision_role: DecisionRole | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET


class ContactPage(BaseStruct):
    """A page of contacts."""

    items: list[Contact]
    total: int
    next_cursor: str | None


class Holding(BaseStruct):
    """A product or service the customer has."""

    id: uuid.UUID
    account_id: uuid.UUID
    product_code: str
    product: str
    quantity: int
    monthly_fee_cents: int
    contract_start: datetime.date | None
    contract_end: datetime.date | None
    ends_in_days: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class HoldingCreate(BaseStruct):
    """A new holding."""

    product: Annotated[str, Meta(min_length=1, max_length=200)]
    product_code: Annotated[str, Meta(max_length=64)] = ""
    quantity: Annotated[int, Meta(ge=1, le=10_000_000)] = 1
    monthly_fee_cents: Cents = 0
    contract_start: datetime.date | None = None
    contract_end: datetime.date | None = None
    id: uuid.UUID | None = None


class HoldingPatch(BaseStruct):
    """Changes to a holding."""

    product: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    product_code: Annotated[str, Meta(max_length=64)] | UnsetType = UNSET
    quantity: Annotated[int, Meta(ge=1, le=10_000_000)] | UnsetType = UNSET
    monthly_fee_cents: Cents | UnsetType = UNSET
    contract_start: datetime.date | None | UnsetType = UNSET
    contract_end: datetime.date | None | UnsetType = UNSET


class HoldingPage(BaseStruct):
    """A page of holdings."""

    items: list[Holding]
    total: int
    next_cursor: str | None


class RevenueMonth(BaseStruct):
    """Revenue of one month."""

    month: Month
    amount_cents: Cents


class RevenuePut(BaseStruct):
    """Set the revenue of some months (each replaces what was there)."""

    months: Annotated[list[RevenueMonth], Meta(min_length=1, max_length=240)]


class AccountRef(BaseStruct):
    """Another account, named."""

    id: uuid.UUID
    code: str
    name: str
    tier: Tier | None
    status: Status


class TierExplanation(BaseStruct):
    """The account's tier and why."""

    tier: Tier | None
    computed_tier: Tier | None
    override: Tier | None
    override_reason: str | None
    revenue_12m_cents: int
    cumulative_share: float | None
    window_start: str | None
    window_end: str | None
    reason: str


class TimelineItem(BaseStruct):
    """One event on an account's timeline; every capability adds its own kinds."""

    at: datetime.datetime
    kind: str
    title: str
    detail: str = ""
    ref_id: uuid.UUID | None = None
    actor_name: str = ""
    data: dict[str, Any] = {}  # noqa: RUF012 - msgspec copies defaults


class Overview(BaseStruct):
    """The customer 360: what an account manager reads before a visit."""

    account: Account
    parent: AccountRef | None
    members: list[AccountRef]
    member_count: int
    contacts: list[Contact]
    holdings: list[Holding]
    contracts_ending_soon: list[Holding]
    revenue_trend: list[RevenueMonth]
    tier: TierExplanation
    timeline: list[TimelineItem]


class Note(BaseStruct):
    """A note on an account."""

    id: uuid.UUID
    account_id: uuid.UUID
    author_id: uuid.UUID | None
    author_name: str
    text: str
    captured_at: datetime.datetime | None
    created_at: datetime.datetime


class NoteCreate(BaseStruct):
    """A new note; ``capturedAt`` is when the device saved it (offline notes arrive later)."""

    text: Annotated[str, Meta(min_length=1, max_length=10_000)]
    captured_at: datetime.datetime | None = None
    id: uuid.UUID | None = None


class NotePage(BaseStruct):
    """A page of notes, newest first."""

    items: list[Note]
    total: int
    next_cursor: str | None
