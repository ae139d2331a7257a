"""API shapes of targets, KPIs, leaderboards, trends and reports."""

import datetime
import uuid
from typing import Annotated, Literal

from msgspec import Meta

from fieldcrm.lib.structs import BaseStruct

Level = Literal["rep", "team", "city", "province", "hq"]
GroupBy = Literal["province", "city", "team", "rep", "account"]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]
Cents = Annotated[int, Meta(ge=0, le=10**15)]
CellValue = str | int | float | None


class TargetPut(BaseStruct):
    """The month's targets of one subject; a metric left out (or null) is not set."""

    visits_a: Count | None = None
    visits_b: Count | None = None
    visits_c: Count | None = None
    new_opportunities: Count | None = None
    won_revenue_cents: Cents | None = None
    quotes_sent: Count | None = None
    tasks_on_time: Count | None = None


class TargetValues(BaseStruct):
    """Targets of a subject for a month or a period (null: none set, and no people's targets to add up)."""

    visits_a: int | None = None
    visits_b: int | None = None
    visits_c: int | None = None
    new_opportunities: int | None = None
    won_revenue_cents: int | None = None
    quotes_sent: int | None = None
    tasks_on_time: int | None = None


class Target(BaseStruct):
    """Targets set explicitly for one subject and month."""

    id: uuid.UUID
    level: Level
    subject_id: uuid.UUID
    subject_name: str
    month: str  # YYYY-MM
    values: TargetValues
    set_by_name: str
    updated_at: datetime.datetime


class TargetPage(BaseStruct):
    """A page of targets."""

    items: list[Target]
    total: int
    next_cursor: str | None


class PeriodOut(BaseStruct):
    """A period of business days (both ends included)."""

    kind: str
    label: str
    start: datetime.date
    end: datetime.date


class TierCounts(BaseStruct):
    """A count per account tier."""

    a: int = 0
    b: int = 0
    c: int = 0


class TierShares(BaseStruct):
    """A share (0..1) per account tier and for all tiers; null where there is nothing to divide by."""

    a: float | None = None
    b: float | None = None
    c: float | None = None
    all: float | None = None


class StageValue(BaseStruct):
    """Open opportunities of one stage expected to close in the period."""

    stage: str
    name: str
    count: int
    amount_cents: int
    weighted_cents: int


class KpiValues(BaseStruct):
    """Every KPI of a subject over a period (docs/kpis.md defines each)."""

    visits_planned: int
    visits_planned_done: int
    plan_completion: float | None
    visits_done: int
    visits_by_tier: TierCounts
    verified_share: float | None
    coverage: TierShares
    new_opportunities: int
    pipeline: list[StageValue]
    pipeline_cents: int
    pipeline_weighted_cents: int
    won_count: int
    lost_count: int
    win_rate: float | None
    won_revenue_cents: int
    quotes_sent: int
    quotes_approved: int
    avg_discount_bp: int | None
    approvals_decided: int
    approval_median_s: int | None
    approval_p90_s: int | None
    cases_due: int
    case_sla_breaches: int
    case_breach_share: float | None
    tasks_due: int | None
    tasks_on_time: int | None
    tasks_on_time_share: float | None


class KpiProgress(BaseStruct):
    """Value over target per targeted metric (1.0 is on target); null where no target is set."""

    visits_a: float | None = None
    visits_b: float | None = None
    visits_c: float | None = None
    new_opportunities: float | None = None
    won_revenue_cents: float | None = None
    quotes_sent: float | None = None
    tasks_on_time: float | None = None


class KpiBlock(BaseStruct):
    """The KPIs of one period with the period's targets and progress."""

    period: PeriodOut
    values: KpiValues
    targets: TargetValues
    progress: KpiProgress


class Link(BaseStruct):
    """Where to go next: a name and an API path."""

    level: str
    name: str
    href: str


class KpiReport(BaseStruct):
    """A subject's KPIs for a period, the period before and the same period a year earlier."""

    level: Level
    id: uuid.UUID | None
    name: str
    current: KpiBlock
    previous: KpiBlock
    year_before: KpiBlock
    drill_down: Link | None
    tasks_included: bool


class TrendPoint(BaseStruct):
    """The headline KPIs of one period of a trend."""

    period: PeriodOut
    visits_done: int
    verified_share: float | None
    new_opportunities: int
    pipeline_weighted_cents: int
    won_revenue_cents: int
    won_revenue_target_cents: int | None
    win_rate: float | None
    quotes_sent: int
    avg_discount_bp: int | None
    approval_median_s: int | None
    case_sla_breaches: int


class Trend(BaseStruct):
    """Twelve consecutive periods of a subject, oldest first."""

    level: Level
    id: uuid.UUID | None
    name: str
    kind: str
    points: list[TrendPoint]


class LeaderRow(BaseStruct):
    """One team, region, person or account of a leaderboard, with where to drill down."""

    rank: int
    key: str
    name: str
    level: str
    visits_done: int
    verified_share: float | None
    coverage_share: float | None
    new_opportunities: int
    pipeline_weighted_cents: int
    won_revenue_cents: int
    won_revenue_target_cents: int | None
    won_revenue_progress: float | None
    win_rate: float | None
    quotes_sent: int
    avg_discount_bp: int | None
    case_sla_breaches: int
    kpis: str | None
    drill_down: str | None


class Leaderboard(BaseStruct):
    """Rows of one kind under one org unit (or of one rep's accounts), best first."""

    group_by: GroupBy
    within: Link
    period: PeriodOut
    rows: list[LeaderRow]


class ReportColumn(BaseStruct):
    """A column of a report table: its key, its header in the caller's language, what kind of value."""

    key: str
    label: str
    kind: Literal["text", "int", "money", "share", "bp", "seconds", "month"]


class ReportTable(BaseStruct):
    """A report: a title, typed columns and rows (money in cents, shares 0..1)."""

    name: str
    title: str
    start: datetime.date
    end: datetime.date
    columns: list[ReportColumn]
    rows: list[list[CellValue]]
