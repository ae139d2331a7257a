"""Key accounts, contacts, holdings and monthly revenue."""

from piccolo.columns import (
    JSON,
    BigInt,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from fieldcrm.lib.tables import created_column, deleted_column, pk, updated_column
from fieldcrm.org.tables import OrgUnit, User


class Account(Table, tablename="accounts"):
    """A key account (group customer) or one of its member companies."""

    id = pk()
    code = Varchar(length=64, unique=True)  # the billing system's id
    name = Varchar(length=200, index=True)
    # Case-folded name, code and contact names: one LIKE serves search in any script.
    search_text = Text(default="")
    industry = Varchar(length=64, default="")
    tier = Varchar(length=1, null=True, default=None, index=True)  # effective tier: override or computed
    computed_tier = Varchar(length=1, null=True, default=None)
    tier_override = Varchar(length=1, null=True, default=None)
    tier_override_reason = Text(null=True, default=None)
    revenue_12m_cents = BigInt(default=0, index=True)
    revenue_share_rank = DoublePrecision(null=True, default=None)  # cumulative share at this account
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    org_unit = ForeignKey(OrgUnit, on_delete=OnDelete.restrict, index=True)
    address = Varchar(length=300, default="")
    city = Varchar(length=64, default="", index=True)
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    visit_radius_m = Integer(default=300)
    # H3 cells of the location (accounts/geo.py), written with it: the coverage map groups by them.
    h3_r3 = Varchar(length=16, null=True, default=None)
    h3_r5 = Varchar(length=16, null=True, default=None)
    h3_r7 = Varchar(length=16, null=True, default=None)
    # The day of the last visit that counts for coverage (verified, or accepted on review); kept on write.
    last_visited_on = Date(null=True, default=None, index=True)
    status = Varchar(length=16, default="active", index=True)  # prospect | active | at_risk | lost
    parent: ForeignKey["Account"] = ForeignKey("self", null=True, default=None, on_delete=OnDelete.set_null, index=True)
    member_lines = Integer(default=0)
    notes = Text(default="")
    version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers; never set by services
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class Contact(Table, tablename="contacts"):
    """A person at the customer."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=120)
    title = Varchar(length=120, default="")
    phones = JSON(default="[]")
    email = Varchar(length=254, null=True, default=None)
    decision_role = Varchar(length=16, default="user")  # decision_maker | influencer | user | gatekeeper
    notes = Text(default="")
    version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class Holding(Table, tablename="holdings"):
    """A product or service the customer has."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    product_code = Varchar(length=64, default="")
    product = Varchar(length=200)
    quantity = Integer(default=1)
    monthly_fee_cents = BigInt(default=0)
    contract_start = Date(null=True, default=None)
    contract_end = Date(null=True, default=None, index=True)
    sync_version = BigInt(default=0, index=True)
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class Revenue(Table, tablename="revenue"):
    """Revenue of one account in one month (the month's first day); unique per (account, month) by migration."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    month = Date()
    amount_cents = BigInt(default=0)
    sync_version = BigInt(default=0, index=True)
    created_at = created_column()
    updated_at = updated_column()


class AccountNote(Table, tablename="account_notes"):
    """A note on an account: append-only, written in the field, often offline."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    author_name = Varchar(length=120, default="")
    text = Text()
    captured_at = Timestamptz(null=True, default=None)  # when the device saved it
    sync_version = BigInt(default=0, index=True)
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class SegmentationRun(Table, tablename="segmentation_runs"):
    """When tiers were last recomputed, and the cut-offs used."""

    id = pk()
    ran_at = Timestamptz()
    accounts = Integer(default=0)
    total_cents = BigInt(default=0)
    summary = JSON(default="{}")
