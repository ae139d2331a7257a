"""The raw figures behind every KPI, aggregated in SQL per person (or per account) and per period.

Each query reads one domain's table, limited twice by the one scope rule (``scope.owner_sql``): once
for the caller (what they may see) and once for the subject (the rep, or everyone under an org unit:
the figures a leader of that unit would see). A fact belongs to the person it is attributed to (the
visitor, the opportunity's, quote's or case's owner, the account's owner for coverage), and that
person belongs to their org unit *at query time*: a rep who moved teams brings all their figures
to the new team, for past periods too (docs/kpis.md).

Several periods are read in one pass: the WHERE clause is an OR of the periods' ranges (each an index
range) and a CASE names the period of each row. Every expression is plain SQL that SQLite and
PostgreSQL evaluate alike; medians and percentiles are taken in Python from the durations.
"""

import dataclasses
import datetime
import math
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fieldcrm.analytics.periods import Period, utc_midnight
from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_uuid, engine
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.settings import get_settings
from fieldcrm.visits.tables import Visit as VisitRow

TIERS = ("A", "B", "C")
Key = tuple[uuid.UUID, int]  # (person or account, period index)


@dataclasses.dataclass
class Facts:
    """Additive figures of one person (or account) in one period."""

    planned: int = 0
    planned_done: int = 0
    visits: int = 0
    verified: int = 0
    visits_by_tier: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    accounts_by_tier: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    covered_by_tier: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    new_opportunities: int = 0
    pipeline: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # stage -> [count, amount, amount*pct]
    won: int = 0
    lost: int = 0
    won_cents: int = 0
    quotes_sent: int = 0
    quotes_approved: int = 0
    list_cents: int = 0
    quoted_cents: int = 0
    durations: list[float] = dataclasses.field(default_factory=list)
    cases_due: int = 0
    cases_breached: int = 0
    tasks_due: int = 0
    tasks_on_time: int = 0

    def add(self, other: "Facts") -> None:
        """Add another's figures to these."""
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, int):
                setattr(self, f.name, mine + theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            elif f.name == "pipeline":
                for stage, values in theirs.items():
                    row = mine.setdefault(stage, [0, 0, 0])
                    for i, v in enumerate(values):
                        row[i] += v
            else:
                for tier, n in theirs.items():
                    mine[tier] = mine.get(tier, 0) + n


def total(facts: dict[Key, Facts], index: int, keys: set[uuid.UUID] | None = None) -> Facts:
    """The figures of period ``index`` added up over all keys (or only ``keys``)."""
    out = Facts()
    for (key, i), f in facts.items():
        if i == index and (keys is None or key in keys):
            out.add(f)
    return out


@dataclasses.dataclass(frozen=True)
class Filter:
    """The caller's scope and the subject, as conditions on a person column."""

    actor: Actor
    subject: Actor | None = None  # None: everything the caller sees

    def on(self, column: str) -> tuple[str, list[Any]]:
        """SQL limiting ``column`` (a users.id) to the caller's scope and the subject."""
        sql, args = scope.owner_sql(self.actor, column)
        if self.subject is None:
            return sql, list(args)
        sub_sql, sub_args = scope.owner_sql(self.subject, column)
        return f"({sql}) AND ({sub_sql})", [*args, *sub_args]


def _int(value: Any) -> int:
    return int(value or 0)


def moment(value: Any) -> datetime.datetime:
    """A timestamp as the drivers return it (a datetime, or ISO text on SQLite), as an aware datetime."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    moment = datetime.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _ranges(column: str, bounds: Sequence[tuple[Any, Any]]) -> tuple[str, list[Any], str, list[Any]]:
    """(CASE naming the period, its args, WHERE over all periods, its args) for ``lo <= column < hi``."""
    whens, case_args, ors, where_args = [], [], [], []
    for index, (lo, hi) in enumerate(bounds):
        whens.append(f"WHEN {column} >= {{}} AND {column} < {{}} THEN {index}")
        case_args += [lo, hi]
    # Ranges that touch (a trend, a period and the one before) are read as one index range.
    merged: list[list[Any]] = []
    for lo, hi in sorted(bounds):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    for lo, hi in merged:
        ors.append(f"({column} >= {{}} AND {column} < {{}})")
        where_args += [lo, hi]
    return f"(CASE {' '.join(whens)} END)", case_args, f"({' OR '.join(ors)})", where_args


def _day_bounds(periods: Sequence[Period]) -> list[tuple[Any, Any]]:
    return [(p.start, p.after) for p in periods]


def _time_bounds(periods: Sequence[Period]) -> list[tuple[Any, Any]]:
    return [p.utc_bounds() for p in periods]


def _tier_case() -> str:
    """SQL naming the tier's cut-off date among three parameters (A, B, C; no tier reads as C)."""
    p = _date_param()
    return f"(CASE COALESCE(a.tier, 'C') WHEN 'A' THEN {p} WHEN 'B' THEN {p} ELSE {p} END)"


def _date_param() -> str:
    # PostgreSQL cannot infer a parameter's type inside CASE; SQLite compares ISO date text as is.
    return "{}" if isinstance(engine(), FieldcrmSQLiteEngine) else "CAST({} AS DATE)"


class Collector:
    """Runs the fact queries for some periods and files the rows by (key, period)."""

    def __init__(self, flt: Filter, periods: Sequence[Period], *, by: str = "owner") -> None:
        self.flt = flt
        self.periods = list(periods)
        self.by = by
        self.facts: dict[Key, Facts] = defaultdict(Facts)

    def _key(self, person: str, account: str) -> str:
        return account if self.by == "account" else person

    def _file(self, row: dict[str, Any]) -> Facts | None:
        if row["b"] is None or row["k"] is None:
            return None
        return self.facts[(as_uuid(row["k"]), int(row["b"]))]

    async def _run(self, sql: str, args: list[Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await VisitRow.raw(sql, *args)
        return rows

    async def visits(self, *, tiers: bool = True) -> None:
        """Plans made and kept, visits (not rejected on review) by tier, verified check-ins."""
        key = self._key("p.owner", "p.account")
        case, c_args, where, w_args = _ranges("p.date", _day_bounds(self.periods))
        scoped, s_args = self.flt.on("p.owner")
        sql = (
            f"SELECT {key} AS k, {case} AS b, COUNT(*) AS n, "
            "SUM(CASE WHEN p.status = 'done' THEN 1 ELSE 0 END) AS done FROM visit_plans p "
            f"WHERE p.deleted_at IS NULL AND p.status <> 'cancelled' AND {where} AND {scoped} GROUP BY 1, 2"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.planned += _int(r["n"])
                f.planned_done += _int(r["done"])
        key = self._key('v."user"', "v.account")
        case, c_args, where, w_args = _ranges("v.checked_in_on", _day_bounds(self.periods))
        scoped, s_args = self.flt.on('v."user"')
        # The tier needs the account; without tiers (a trend) the visits index alone answers.
        tier, join = ("a.tier", "JOIN accounts a ON a.id = v.account") if tiers else ("NULL", "")
        sql = (
            f"SELECT {key} AS k, {case} AS b, {tier} AS tier, COUNT(*) AS n, "
            "SUM(CASE WHEN v.verdict = 'verified' THEN 1 ELSE 0 END) AS verified "
            f"FROM visits v {join} "
            f"WHERE {where} AND v.review_status <> 'rejected' AND {scoped} GROUP BY 1, 2, 3"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.visits += _int(r["n"])
                f.verified += _int(r["verified"])
                if tiers:
                    f.visits_by_tier[r["tier"] if r["tier"] in TIERS else "C"] += _int(r["n"])

    async def coverage(self, today: datetime.date) -> None:
        """Accounts by tier and how many were visited within their tier's interval at each period's end.

        A period that has not ended yet is judged today from ``accounts.last_visited_on``; an ended one
        from the counted visits before its last day. Accounts are today's, each with today's tier and owner.
        """
        if self.by == "account":
            return
        targets = get_settings().visit_targets
        scoped, s_args = self.flt.on("a.owner")
        tier_case = _tier_case()
        for index, period in enumerate(self.periods):
            day = min(period.end, today)
            cutoffs = [day - datetime.timedelta(days=targets[t]) for t in TIERS]
            if period.end >= today:
                sql = (
                    f"SELECT a.owner AS k, {index} AS b, COALESCE(a.tier, 'C') AS tier, COUNT(*) AS n, "
                    f"SUM(CASE WHEN a.last_visited_on >= {tier_case} THEN 1 ELSE 0 END) AS covered "
                    f"FROM accounts a WHERE a.deleted_at IS NULL AND {scoped} GROUP BY 1, 2, 3"
                )
                rows = await self._run(sql, [*cutoffs, *s_args])
            else:
                rows = await self._run(*self._past_coverage(index, day, cutoffs))
            for r in rows:
                if (f := self._file(r)) is not None:
                    f.accounts_by_tier[r["tier"]] += _int(r["n"])
                    f.covered_by_tier[r["tier"]] += _int(r["covered"])

    def _past_coverage(self, index: int, day: datetime.date, cutoffs: list[datetime.date]) -> tuple[str, list[Any]]:
        """Accounts by tier, and those whose last counted visit on or before ``day`` is within their interval.

        The same figure two ways, each the fast one on its engine: SQLite seeks each account's last visit in
        the (account, counted, day) index; PostgreSQL aggregates the widest interval's visits once and joins.
        """
        scoped, s_args = self.flt.on("a.owner")
        tier_case = _tier_case()
        head = f"SELECT a.owner AS k, {index} AS b, COALESCE(a.tier, 'C') AS tier, COUNT(*) AS n, "
        tail = f"WHERE a.deleted_at IS NULL AND {scoped} GROUP BY 1, 2, 3"
        if isinstance(engine(), FieldcrmSQLiteEngine):
            last = (
                "(SELECT MAX(v.checked_in_on) FROM visits v WHERE v.account = a.id "
                "AND v.counts_for_coverage = {} AND v.checked_in_on <= {})"
            )
            sql = f"{head}SUM(CASE WHEN {last} >= {tier_case} THEN 1 ELSE 0 END) AS covered FROM accounts a {tail}"
            return sql, [True, day, *cutoffs, *s_args]
        widest = day - datetime.timedelta(days=max(get_settings().visit_targets.values()))
        inner, i_args = "", list[Any]()
        if self.flt.subject is not None or not scope.sees_everything(self.flt.actor):
            inner_sql, i_args = self.flt.on("a2.owner")  # only the visits of the accounts in reach
            inner = f"AND v.account IN (SELECT a2.id FROM accounts a2 WHERE {inner_sql}) "
        sql = (
            f"{head}SUM(CASE WHEN l.last >= {tier_case} THEN 1 ELSE 0 END) AS covered FROM accounts a "
            "LEFT JOIN (SELECT v.account AS account, MAX(v.checked_in_on) AS last FROM visits v "
            "WHERE v.checked_in_on >= {} AND v.checked_in_on <= {} AND v.counts_for_coverage = {} "
            f"{inner}GROUP BY v.account) l ON l.account = a.id {tail}"
        )
        return sql, [*cutoffs, widest, day, True, *i_args, *s_args]

    async def selling(self, won_stages: Sequence[str], lost_stages: Sequence[str]) -> None:
        """New opportunities, wins and losses closed, the open pipeline expected to close in the period."""
        key = self._key("o.owner", "o.account")
        scoped, s_args = self.flt.on("o.owner")
        case, c_args, where, w_args = _ranges("o.created_at", _time_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, COUNT(*) AS n FROM opportunities o "
            f"WHERE o.deleted_at IS NULL AND {where} AND {scoped} GROUP BY 1, 2"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.new_opportunities += _int(r["n"])
        case, c_args, where, w_args = _ranges("o.closed_at", _time_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, o.stage AS stage, COUNT(*) AS n, SUM(o.amount_cents) AS amount "
            f"FROM opportunities o WHERE o.deleted_at IS NULL AND {where} AND {scoped} GROUP BY 1, 2, 3"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                if r["stage"] in won_stages:
                    f.won += _int(r["n"])
                    f.won_cents += _int(r["amount"])
                elif r["stage"] in lost_stages:
                    f.lost += _int(r["n"])
        case, c_args, where, w_args = _ranges("o.expected_close", _day_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, o.stage AS stage, COUNT(*) AS n, SUM(o.amount_cents) AS amount, "
            "SUM(o.amount_cents * o.probability) AS weighted FROM opportunities o "
            f"WHERE o.deleted_at IS NULL AND o.closed_at IS NULL AND {where} AND {scoped} GROUP BY 1, 2, 3"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                row = f.pipeline.setdefault(r["stage"], [0, 0, 0])
                row[0] += _int(r["n"])
                row[1] += _int(r["amount"])
                row[2] += _int(r["weighted"])

    async def quotes(self) -> None:
        """Quotes approved (their discount below list price), quotes sent, approval turnaround."""
        key = self._key("q.owner", "q.account")
        scoped, s_args = self.flt.on("q.owner")
        case, c_args, where, w_args = _ranges("q.decided_at", _time_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, COUNT(*) AS n, SUM(q.list_total_cents) AS list, "
            "SUM(q.total_cents) AS quoted FROM quotes q "
            f"WHERE q.state IN ('approved', 'sent', 'accepted', 'expired') AND {where} AND {scoped} GROUP BY 1, 2"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.quotes_approved += _int(r["n"])
                f.list_cents += _int(r["list"])
                f.quoted_cents += _int(r["quoted"])
        case, c_args, where, w_args = _ranges("e.at", _time_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, COUNT(*) AS n FROM audit_entries e "
            "JOIN quotes q ON q.id = e.entity_id "
            f"WHERE e.entity = 'quote' AND e.action = 'send' AND {where} AND {scoped} GROUP BY 1, 2"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.quotes_sent += _int(r["n"])
        key = self._key("wi.owner", "wi.account_id")
        scoped, s_args = self.flt.on("wi.owner")
        case, c_args, where, w_args = _ranges("wi.ended_at", _time_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, wi.started_at AS started, wi.ended_at AS ended "
            "FROM workflow_instances wi WHERE wi.subject_kind = 'quote' AND wi.status IN ('approved', 'rejected') "
            f"AND {where} AND EXISTS (SELECT 1 FROM workflow_steps s WHERE s.instance = wi.id) AND {scoped}"
        )
        for r in await self._run(sql, [*c_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.durations.append((moment(r["ended"]) - moment(r["started"])).total_seconds())

    async def cases(self, now: datetime.datetime) -> None:
        """Cases due in the period, and those resolved late or still open past their due time at ``now``."""
        key = self._key("c.owner", "c.account")
        scoped, s_args = self.flt.on("c.owner")
        case, c_args, where, w_args = _ranges("c.due_at", _time_bounds(self.periods))
        sql = (
            f"SELECT {key} AS k, {case} AS b, COUNT(*) AS n, SUM(CASE WHEN (c.resolved_at IS NOT NULL "
            "AND c.resolved_at > c.due_at) OR (c.resolved_at IS NULL AND c.due_at < {}) THEN 1 ELSE 0 END) AS late "
            f"FROM cases c WHERE c.state <> 'cancelled' AND {where} AND {scoped} GROUP BY 1, 2"
        )
        for r in await self._run(sql, [*c_args, now, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.cases_due += _int(r["n"])
                f.cases_breached += _int(r["late"])

    async def tasks(self) -> None:
        """Tasks due in the period (not skipped), and those done by the end of their due day (business time zone)."""
        key = self._key("t.assignee", "t.account")
        scoped, s_args = self.flt.on("t.assignee")
        case, c_args, where, w_args = _ranges("t.due_date", _day_bounds(self.periods))
        on_time, o_args = _completed_by_due_day(self.periods)
        sql = (
            f"SELECT {key} AS k, {case} AS b, COUNT(*) AS n, "
            f"SUM(CASE WHEN t.state = 'done' AND {on_time} THEN 1 ELSE 0 END) AS on_time FROM tasks t "
            f"WHERE t.deleted_at IS NULL AND t.state <> 'skipped' AND {where} AND {scoped} GROUP BY 1, 2"
        )
        for r in await self._run(sql, [*c_args, *o_args, *w_args, *s_args]):
            if (f := self._file(r)) is not None:
                f.tasks_due += _int(r["n"])
                f.tasks_on_time += _int(r["on_time"])


def _completed_by_due_day(periods: Sequence[Period]) -> tuple[str, list[Any]]:
    """SQL: the task was completed on or before its due day in the business time zone.

    PostgreSQL converts with the zone itself. SQLite has no zone database: it shifts by the zone's UTC
    offset, which must be the same on every day of the periods (Asia/Shanghai's always is); where a
    daylight-saving change falls inside them, each due day's own local midnight is compared instead.
    """
    zone = zoneinfo.ZoneInfo(get_settings().timezone)
    if not isinstance(engine(), FieldcrmSQLiteEngine):
        return "CAST((t.completed_at AT TIME ZONE {}) AS DATE) <= t.due_date", [zone.key]
    days = sorted({p.start + datetime.timedelta(days=n) for p in periods for n in range(p.days + 1)})
    offsets = {utc_midnight(d).astimezone(zone).utcoffset() for d in days}
    if len(offsets) == 1:
        offset = next(iter(offsets)) or datetime.timedelta()
        return "date(t.completed_at, {}) <= t.due_date", [f"{int(offset.total_seconds() // 60):+d} minutes"]
    whens = " ".join("WHEN {} THEN {}" for _ in days[:-1])
    args = [v for d in days[:-1] for v in (d, utc_midnight(d + datetime.timedelta(days=1)))]
    return f"t.completed_at < (CASE t.due_date {whens} END)", args


def percentile(values: Sequence[float], share: float) -> int | None:
    """The nearest-rank percentile (``share`` 0.5: the median) in whole seconds; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(round(len(ordered) * share, 9)))  # ceil(n * share), at least the first
    return round(ordered[rank - 1])
