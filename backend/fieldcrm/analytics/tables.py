"""Targets: what a person, a team, a city, a province or HQ should reach in a month."""

from piccolo.columns import UUID, BigInt, Date, ForeignKey, Integer, OnDelete, Varchar
from piccolo.table import Table

from fieldcrm.lib.tables import created_column, pk, updated_column
from fieldcrm.org.tables import User


class Target(Table, tablename="targets"):
    """The targets of one subject (a rep, or an org unit) for one month; unique per (level, subject, month).

    A metric left NULL is not set: for a rep it means no target, for an org unit the sum of its people.
    """

    id = pk()
    level = Varchar(length=16)  # rep | team | city | province | hq
    subject_id = UUID()  # users.id for a rep, org_units.id otherwise
    month = Date()  # the month's first day
    visits_a = Integer(null=True, default=None)
    visits_b = Integer(null=True, default=None)
    visits_c = Integer(null=True, default=None)
    new_opportunities = Integer(null=True, default=None)
    won_revenue_cents = BigInt(null=True, default=None)
    quotes_sent = Integer(null=True, default=None)
    tasks_on_time = Integer(null=True, default=None)
    set_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    set_by_name = Varchar(length=120, default="")
    created_at = created_column()
    updated_at = updated_column()
