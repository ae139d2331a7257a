"""Catalogue, opportunity stages, opportunities, quotes and their lines, the per-year quote counter."""

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from fieldcrm.accounts.tables import Account
from fieldcrm.lib.tables import created_column, deleted_column, pk, updated_column
from fieldcrm.org.tables import User


class Product(Table, tablename="products"):
    """A product or tariff of the catalogue (HQ edits it; quotes copy what they need)."""

    id = pk()
    code = Varchar(length=64, unique=True)
    name = Varchar(length=200, index=True)
    unit = Varchar(length=32, default="")
    category = Varchar(length=64, default="", index=True)
    list_price_cents = BigInt(default=0)
    max_discount_bp = Integer(default=0)  # the largest discount a rep may give without approval
    active = Boolean(default=True, index=True)
    version = Integer(default=1)
    created_at = created_column()
    updated_at = updated_column()


class OpportunityStage(Table, tablename="opportunity_stages"):
    """A configurable stage of the sales funnel with its default win probability."""

    id = pk()
    key = Varchar(length=32, unique=True)
    name = Varchar(length=120)
    name_zh = Varchar(length=120, default="")
    position = Integer(default=0)
    probability = Integer(default=0)  # percent
    kind = Varchar(length=8, default="open")  # open | won | lost
    created_at = created_column()
    updated_at = updated_column()


class Opportunity(Table, tablename="opportunities"):
    """A chance to sell to an account; scoped through the account's owner."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)  # the rep working it
    name = Varchar(length=200)
    stage = Varchar(length=32, index=True)
    probability = Integer(default=0)
    amount_cents = BigInt(default=0)
    expected_close = Date(null=True, default=None, index=True)
    product_ids = JSON(default="[]")  # products of interest
    competitor = Varchar(length=200, default="")
    next_step = Text(default="")
    lost_reason = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    # The version at which each guarded field last changed: a stale edit conflicts only if the field moved since.
    stage_version = Integer(default=1)
    amount_version = Integer(default=1)
    close_version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers; never set by services
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class QuoteCounter(Table, tablename="quote_counters"):
    """The last quote number handed out in a year (gap-free: taken in the creating transaction)."""

    id = pk()
    year = Integer(unique=True)
    last = Integer(default=0)


class Quote(Table, tablename="quotes"):
    """One revision of a numbered quote; only a draft can be edited."""

    id = pk()
    number = Varchar(length=32, index=True)  # Q-2026-00001, shared by all revisions
    year = Integer()
    seq = Integer()
    revision = Integer(default=1)
    previous: ForeignKey["Quote"] = ForeignKey("self", null=True, default=None, on_delete=OnDelete.set_null)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    opportunity = ForeignKey(Opportunity, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200, default="")
    state = Varchar(length=16, default="draft", index=True)
    valid_until = Date(null=True, default=None)
    notes = Text(default="")
    currency = Varchar(length=3, default="CNY")
    list_total_cents = BigInt(default=0)
    total_cents = BigInt(default=0)
    discount_bp = Integer(default=0)  # overall depth below list price
    deepest_excess_bp = Integer(default=0)  # the deepest line discount beyond its product's free limit
    tier = Varchar(length=1, null=True, default=None)  # the account's tier when submitted
    state_comment = Text(default="")
    submitted_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers (lines and approvals too)
    created_at = created_column()
    updated_at = updated_column()


class QuoteLine(Table, tablename="quote_lines"):
    """A line of a quote; product name and prices are copied, so catalogue changes leave it alone."""

    id = pk()
    quote = ForeignKey(Quote, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    product = ForeignKey(Product, null=True, default=None, on_delete=OnDelete.set_null)
    product_code = Varchar(length=64, default="")
    product_name = Varchar(length=200, default="")
    unit = Varchar(length=32, default="")
    quantity = BigInt(default=1)
    list_price_cents = BigInt(default=0)
    unit_price_cents = BigInt(default=0)
    discount_bp = Integer(default=0)
    max_discount_bp = Integer(default=0)
    total_cents = BigInt(default=0)
