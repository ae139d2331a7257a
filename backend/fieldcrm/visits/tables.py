"""Visit plans, visits (a check-in with its verdict, check-out and log) and proposed account locations."""

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
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

from fieldcrm.accounts.tables import Account
from fieldcrm.lib.tables import created_column, deleted_column, pk, updated_column
from fieldcrm.org.tables import User


class VisitPlan(Table, tablename="visit_plans"):
    """A visit someone means to make on a day; "missed" is derived when the day passes unvisited."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    date = Date(index=True)
    purpose = Varchar(length=200, default="")
    status = Varchar(length=16, default="planned")  # planned | done | cancelled
    visit_id = Varchar(length=36, null=True, default=None)  # the visit that fulfilled it
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers; never set by services
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class Visit(Table, tablename="visits"):
    """One visit: the check-in claim and the server's verdict, the review, the check-out and the log."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    plan_id = Varchar(length=36, null=True, default=None)
    # The claim, as the phone made it (device clock).
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    fix_at = Timestamptz(null=True, default=None)
    device_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    # What the server made of it.
    received_at = Timestamptz()
    checked_in_at = Timestamptz(index=True)  # device time corrected by the measured clock skew
    checked_in_on = Date(index=True)
    clock_skew_s = DoublePrecision(default=0.0)
    distance_m = DoublePrecision(null=True, default=None)
    verdict = Varchar(length=16)
    flags = JSON(default="[]")
    counts_for_coverage = Boolean(default=False)
    review_status = Varchar(length=16, default="none", index=True)  # none | pending | accepted | rejected
    review_comment = Text(default="")
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    # Check-out.
    checked_out_at = Timestamptz(null=True, default=None)
    checkout_latitude = DoublePrecision(null=True, default=None)
    checkout_longitude = DoublePrecision(null=True, default=None)
    duration_s = Integer(null=True, default=None)
    # The log.
    purpose = Varchar(length=200, default="")
    outcome = Text(default="")
    contact_ids = JSON(default="[]")
    notes = Text(default="")
    next_step = Varchar(length=200, default="")
    follow_up_date = Date(null=True, default=None)
    photo_sha256 = Varchar(length=64, null=True, default=None)
    photo_type = Varchar(length=32, null=True, default=None)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers; never set by services
    created_at = created_column()
    updated_at = updated_column()


class LocationProposal(Table, tablename="location_proposals"):
    """Where an account without coordinates seems to be, from an accurate check-in; a manager decides."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    visit = ForeignKey(Visit, on_delete=OnDelete.cascade)
    proposed_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    latitude = DoublePrecision()
    longitude = DoublePrecision()
    accuracy_m = DoublePrecision()
    status = Varchar(length=16, default="pending", index=True)  # pending | confirmed | rejected
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    comment = Text(default="")
    created_at = created_column()
