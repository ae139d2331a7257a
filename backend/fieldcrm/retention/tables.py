"""Tables of retention: versioned scoring configurations, one risk score per account, band changes."""

from piccolo.columns import UUID, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from fieldcrm.accounts.tables import Account
from fieldcrm.lib.tables import pk
from fieldcrm.org.tables import User


class RiskConfig(Table, tablename="retention_configs"):
    """One version of the weights, thresholds and parameters of the risk score; versions are never edited."""

    id = pk()
    version = Integer(unique=True)
    body = Text()  # the RiskConfigBody as JSON
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class RiskScore(Table, tablename="risk_scores"):
    """An account's current churn-risk score, its reasons (``,code,code,``) and the evidence behind them.

    The id is the account's id: the bulk scoring inserts rows for new accounts without generating ids.
    """

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, unique=True)
    score = Integer(default=0, index=True)
    band = Varchar(length=8, default="low", index=True)
    prev_band = Varchar(length=8, null=True, default=None)
    reasons = Varchar(length=400, default="")
    config_version = Integer(default=0)
    scored_at = Timestamptz()
    band_since = Timestamptz()
    tier = Varchar(length=1, null=True, default=None)
    rev_last3_cents = BigInt(default=0)
    rev_prev3_cents = BigInt(default=0)
    rev_year3_cents = BigInt(default=0)
    holding_end_on = Date(null=True, default=None)
    contract_end_on = Date(null=True, default=None)
    lines_now = Integer(default=0)
    lines_peak = Integer(default=0)
    open_complaints = Integer(default=0)
    complaints_recent = Integer(default=0)
    sla_breaches = Integer(default=0)
    last_visited_on = Date(null=True, default=None)
    visit_overdue = Integer(default=0)
    lost_opportunities = Integer(default=0)
    arrears_cents = BigInt(default=0)
    arrears_since = Date(null=True, default=None)


class RiskBandChange(Table, tablename="risk_band_changes"):
    """An account moving from one band to another at a scoring run (the 360 timeline shows it)."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    from_band = Varchar(length=8, null=True, default=None)
    to_band = Varchar(length=8)
    score = Integer(default=0)
    config_version = Integer(default=0)
    at = Timestamptz(index=True)


class Strategy(Table, tablename="retention_strategies"):
    """One version of a retention strategy; ``strategy_id`` groups its versions, the newest is in force."""

    id = pk()
    strategy_id = UUID(index=True)
    version = Integer(default=1)
    name = Varchar(length=200)
    advice = Text(default="")
    conditions = Text(default="{}")  # StrategyConditions as JSON
    actions = Text(default="[]")  # list[StrategyAction] as JSON
    priority = Integer(default=0)
    retired = Integer(default=0)  # 1: kept for the outcomes, never matched again
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class Episode(Table, tablename="retention_episodes"):
    """An account handed to its manager for retention, with the strategy version attached when it opened."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    state = Varchar(length=8, default="open", index=True)  # open | closing | closed
    strategy = ForeignKey(Strategy, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    opened_reason = Varchar(length=16, default="high_band")  # high_band | manual
    opened_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    opened_at = Timestamptz()
    score_at_open = Integer(default=0)
    revenue_at_open_cents = BigInt(default=0)
    tasks_created = Integer(default=0)
    proposed_outcome = Varchar(length=16, null=True, default=None)  # retained | partial | lost
    proposed_revenue_kept_cents = BigInt(null=True, default=None)
    proposed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    outcome = Varchar(length=16, null=True, default=None, index=True)
    revenue_kept_cents = BigInt(default=0)
    closed_at = Timestamptz(null=True, default=None)
    closed_how = Varchar(length=16, null=True, default=None)  # confirmed | auto_lost | auto_retained
    confirmed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
