"""KPIs of a rep, a team, a city, a province or HQ over a period, their trend, and leaderboards with drill-down.

The figures come from ``analytics.facts`` (SQL per person and period inside the caller's scope);
this module picks the subject, adds the figures up, divides, and sets them against the targets.
A rep reads only their own KPIs; leaders read any person or org unit in their subtree, so a
director's drill-down ends at their province (404 beyond it, the same answer as for a missing unit).
"""

import dataclasses
import datetime
import urllib.parse
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from fieldcrm.analytics import facts as facts_mod
from fieldcrm.analytics import periods as periods_mod
from fieldcrm.analytics import targets as targets_mod
from fieldcrm.analytics.facts import TIERS, Collector, Facts, Filter, percentile
from fieldcrm.analytics.periods import Period
from fieldcrm.analytics.schemas import (
    KpiBlock,
    KpiProgress,
    KpiReport,
    KpiValues,
    Leaderboard,
    LeaderRow,
    Link,
    PeriodOut,
    StageValue,
    TargetValues,
    TierCounts,
    TierShares,
    Trend,
    TrendPoint,
)
from fieldcrm.analytics.targets import SubjectRef
from fieldcrm.lib.db import as_uuid, read_transaction
from fieldcrm.lib.errors import Forbidden, InvalidInput, NotFound
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor, Role
from fieldcrm.org.tables import OrgUnit, User
from fieldcrm.sales import opportunities as opportunity_services
from fieldcrm.visits.services import business_today

CHILD: dict[str, str] = {"hq": "province", "province": "city", "city": "team", "team": "rep", "rep": "account"}
DEPTH: dict[str, int] = {"hq": 0, "province": 1, "city": 2, "team": 3, "rep": 4, "account": 5}


@dataclasses.dataclass(frozen=True)
class Ask:
    """What a request asks for: the period kind, the day it holds, and a custom range."""

    period: str = "month"
    at: datetime.date | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None

    def resolve(self) -> Period:
        """The period, in the business time zone (today when ``at`` is left out)."""
        return periods_mod.resolve(self.period, self.at or business_today(), self.start, self.end)

    def query(self) -> str:
        """The same period as query parameters, for links."""
        params = {"period": self.period, "at": (self.at or business_today()).isoformat()}
        if self.period == "custom" and self.start and self.end:
            params |= {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return urllib.parse.urlencode(params)


# ---------------------------------------------------------------- subjects


def _subject_actor(ref: SubjectRef) -> Actor:
    """The subject as the scope rule knows people: a rep sees their own, a unit's leader everything under it."""
    role: Role = "rep" if ref.level == "rep" else "manager"
    return Actor(id=ref.id, username="", display_name=ref.name, role=role, org_unit_id=ref.id, org_path=ref.path)


async def _hq_unit() -> dict[str, Any]:
    row = (
        await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.path)
        .where(OrgUnit.kind == "hq", OrgUnit.deleted_at.is_null())
        .order_by(OrgUnit.depth)
        .first()
    )
    if row is None:
        msg = "the org tree has no HQ unit yet"
        raise NotFound(msg)
    return row


async def resolve_subject(actor: Actor, level: str, subject_id: uuid.UUID | None) -> tuple[SubjectRef, Filter]:
    """The subject of a KPI request and the filter of its figures; 403/404 outside the actor's reach."""
    scope.require(actor, "kpis.read")
    if level not in CHILD or level == "account":
        msg = f"level is one of {', '.join(k for k in CHILD if k != 'account')}, not {level}"
        raise InvalidInput(msg, field="level")
    if level != "rep" and not scope.can(actor, "kpis.teams"):
        msg = "a rep reads their own KPIs (level=rep); teams and regions are for their leaders"
        raise Forbidden(msg)
    if level == "rep" and subject_id is None:
        subject_id = actor.id
    if level == "hq":
        hq = await _hq_unit()
        if subject_id is not None and as_uuid(hq["id"]) != subject_id:
            msg = f"{subject_id} is not the HQ unit"
            raise NotFound(msg, field="id")
        subject_id = as_uuid(hq["id"])
    if subject_id is None:
        msg = f"say which {level} (id)"
        raise InvalidInput(msg, field="id")
    ref = await targets_mod.subject(actor, level, subject_id)
    # HQ's figures are everything the caller sees (only HQ may ask for them): no second condition.
    return ref, Filter(actor, None if level == "hq" else _subject_actor(ref))


# ---------------------------------------------------------------- arithmetic


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _period_out(p: Period) -> PeriodOut:
    return PeriodOut(kind=p.kind, label=p.label(), start=p.start, end=p.end)


def _stage_names(stages: Sequence[Mapping[str, Any]], locale: str) -> dict[str, str]:
    zh = locale.lower().startswith("zh")
    return {s["key"]: (s["name_zh"] or s["name"]) if zh else s["name"] for s in stages}


def values_of(f: Facts, stages: Sequence[Mapping[str, Any]], locale: str, *, tasks: bool = False) -> KpiValues:
    """Every KPI from the figures of one subject and period."""
    names = _stage_names(stages, locale)
    order = {s["key"]: i for i, s in enumerate(stages)}
    pipeline = [
        StageValue(stage=k, name=names.get(k, k), count=v[0], amount_cents=v[1], weighted_cents=(v[2] + 50) // 100)
        for k, v in sorted(f.pipeline.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    ]
    accounts = sum(f.accounts_by_tier.values())
    covered = sum(f.covered_by_tier.values())
    return KpiValues(
        visits_planned=f.planned,
        visits_planned_done=f.planned_done,
        plan_completion=_share(f.planned_done, f.planned),
        visits_done=f.visits,
        visits_by_tier=TierCounts(a=f.visits_by_tier["A"], b=f.visits_by_tier["B"], c=f.visits_by_tier["C"]),
        verified_share=_share(f.verified, f.visits),
        coverage=TierShares(
            **{t.lower(): _share(f.covered_by_tier[t], f.accounts_by_tier[t]) for t in TIERS},
            all=_share(covered, accounts),
        ),
        new_opportunities=f.new_opportunities,
        pipeline=pipeline,
        pipeline_cents=sum(s.amount_cents for s in pipeline),
        pipeline_weighted_cents=(sum(v[2] for v in f.pipeline.values()) + 50) // 100,
        won_count=f.won,
        lost_count=f.lost,
        win_rate=_share(f.won, f.won + f.lost),
        won_revenue_cents=f.won_cents,
        quotes_sent=f.quotes_sent,
        quotes_approved=f.quotes_approved,
        avg_discount_bp=((f.list_cents - f.quoted_cents) * 10_000 * 2 + f.list_cents) // (f.list_cents * 2)
        if f.list_cents
        else None,
        approvals_decided=len(f.durations),
        approval_median_s=percentile(f.durations, 0.5),
        approval_p90_s=percentile(f.durations, 0.9),
        cases_due=f.cases_due,
        case_sla_breaches=f.cases_breached,
        case_breach_share=_share(f.cases_breached, f.cases_due),
        tasks_due=f.tasks_due if tasks else None,
        tasks_on_time=f.tasks_on_time if tasks else None,
        tasks_on_time_share=_share(f.tasks_on_time, f.tasks_due) if tasks else None,
    )


def _progress(v: KpiValues, t: TargetValues) -> KpiProgress:
    def of(value: int | None, target: int | None) -> float | None:
        return round(value / target, 4) if value is not None and target else None

    return KpiProgress(
        visits_a=of(v.visits_by_tier.a, t.visits_a),
        visits_b=of(v.visits_by_tier.b, t.visits_b),
        visits_c=of(v.visits_by_tier.c, t.visits_c),
        new_opportunities=of(v.new_opportunities, t.new_opportunities),
        won_revenue_cents=of(v.won_revenue_cents, t.won_revenue_cents),
        quotes_sent=of(v.quotes_sent, t.quotes_sent),
        tasks_on_time=of(v.tasks_on_time, t.tasks_on_time),
    )


async def _stage_kinds() -> tuple[list[dict[str, Any]], list[str], list[str]]:
    stages = await opportunity_services.stages()
    return stages, [s["key"] for s in stages if s["kind"] == "won"], [s["key"] for s in stages if s["kind"] == "lost"]


async def _collect(
    flt: Filter, periods: Sequence[Period], *, by: str = "owner", coverage: bool = True
) -> tuple[dict[facts_mod.Key, Facts], list[dict[str, Any]]]:
    stages, won, lost = await _stage_kinds()
    collector = Collector(flt, periods, by=by)
    await collector.visits(tiers=coverage)
    if coverage:
        await collector.coverage(business_today())
    await collector.selling(won, lost)
    await collector.quotes()
    await collector.cases(utcnow())
    await collector.tasks()
    return collector.facts, stages


def _drill(ref: SubjectRef, ask: Ask) -> Link:
    child = CHILD[ref.level]
    if ref.level == "rep":
        return Link(
            level="account", name=ref.name, href=f"/api/kpis/leaderboard?groupBy=account&rep={ref.id}&{ask.query()}"
        )
    return Link(level=child, name=ref.name, href=f"/api/kpis/leaderboard?groupBy={child}&within={ref.id}&{ask.query()}")


async def kpis(*, actor: Actor, level: str, subject_id: uuid.UUID | None, ask: Ask) -> KpiReport:
    """A subject's KPIs for the period, the one before it and the same one a year earlier, with targets."""
    period = ask.resolve()
    periods = [period, periods_mod.previous(period), periods_mod.year_before(period)]
    async with read_transaction():
        ref, flt = await resolve_subject(actor, level, subject_id)
        figures, stages = await _collect(flt, periods)
        book = await targets_mod.book(targets_mod.months_of(periods))
    blocks = []
    for index, p in enumerate(periods):
        values = values_of(facts_mod.total(figures, index), stages, actor.locale, tasks=True)
        target = book.period(ref, p)
        blocks.append(
            KpiBlock(period=_period_out(p), values=values, targets=target, progress=_progress(values, target))
        )
    return KpiReport(
        level=level,  # type: ignore[arg-type]
        id=ref.id,
        name=ref.name,
        current=blocks[0],
        previous=blocks[1],
        year_before=blocks[2],
        drill_down=_drill(ref, ask),
        tasks_included=True,
    )


async def trend(*, actor: Actor, level: str, subject_id: uuid.UUID | None, ask: Ask, count: int = 12) -> Trend:
    """The headline KPIs of twelve consecutive periods ending with the asked one, oldest first."""
    if ask.period == "custom":
        msg = "a trend runs over weeks, months or quarters: period is week, month or quarter"
        raise InvalidInput(msg, field="period")
    periods = periods_mod.trend(ask.resolve(), count)
    async with read_transaction():
        ref, flt = await resolve_subject(actor, level, subject_id)
        figures, stages = await _collect(flt, periods, coverage=False)
        book = await targets_mod.book(targets_mod.months_of(periods))
    points = []
    for index, p in enumerate(periods):
        v = values_of(facts_mod.total(figures, index), stages, actor.locale)
        points.append(
            TrendPoint(
                period=_period_out(p),
                visits_done=v.visits_done,
                verified_share=v.verified_share,
                new_opportunities=v.new_opportunities,
                pipeline_weighted_cents=v.pipeline_weighted_cents,
                won_revenue_cents=v.won_revenue_cents,
                won_revenue_target_cents=book.period(ref, p).won_revenue_cents,
                win_rate=v.win_rate,
                quotes_sent=v.quotes_sent,
                avg_discount_bp=v.avg_discount_bp,
                approval_median_s=v.approval_median_s,
                case_sla_breaches=v.case_sla_breaches,
            )
        )
    return Trend(level=level, id=ref.id, name=ref.name, kind=ask.period, points=points)  # type: ignore[arg-type]


# ---------------------------------------------------------------- leaderboards


def _row(
    key: str, name: str, level: str, v: KpiValues, *, target: int | None, kpis_href: str | None, drill: str | None
) -> LeaderRow:
    return LeaderRow(
        rank=0,
        key=key,
        name=name,
        level=level,
        visits_done=v.visits_done,
        verified_share=v.verified_share,
        coverage_share=v.coverage.all,
        new_opportunities=v.new_opportunities,
        pipeline_weighted_cents=v.pipeline_weighted_cents,
        won_revenue_cents=v.won_revenue_cents,
        won_revenue_target_cents=target,
        won_revenue_progress=round(v.won_revenue_cents / target, 4) if target else None,
        win_rate=v.win_rate,
        quotes_sent=v.quotes_sent,
        avg_discount_bp=v.avg_discount_bp,
        case_sla_breaches=v.case_sla_breaches,
        kpis=kpis_href,
        drill_down=drill,
    )


def _ranked(rows: list[LeaderRow]) -> list[LeaderRow]:
    rows.sort(
        key=lambda r: (
            r.won_revenue_progress is None,
            -(r.won_revenue_progress or 0),
            -r.won_revenue_cents,
            -r.visits_done,
            r.name,
            r.key,
        )
    )
    return [msgspec.structs.replace(r, rank=i + 1) for i, r in enumerate(rows)]


async def leaderboard(
    *,
    actor: Actor,
    group_by: str | None,
    ask: Ask,
    within: uuid.UUID | None = None,
    rep: uuid.UUID | None = None,
) -> Leaderboard:
    """Provinces, cities, teams or people under an org unit (or one rep's accounts), best first, each with links."""
    scope.require(actor, "kpis.teams")
    period = ask.resolve()
    if group_by == "account" or (group_by is None and rep is not None):
        return await _account_board(actor, ask, period, rep)
    if group_by not in {None, "province", "city", "team", "rep"}:
        msg = "groupBy is one of province, city, team, rep, account"
        raise InvalidInput(msg, field="groupBy")
    async with read_transaction():
        unit_id = within or actor.org_unit_id
        unit = await OrgUnit.select(OrgUnit.kind).where(OrgUnit.id == unit_id).first()
        if unit is None:
            msg = f"no org unit {unit_id} in your scope"
            raise NotFound(msg, field="within")
        ref = await targets_mod.subject(actor, unit["kind"], unit_id)
        group_by = group_by or CHILD[ref.level]
        if DEPTH[group_by] <= DEPTH.get(ref.level, 0):
            msg = f"{ref.name} is a {ref.level}: group by a level below it"
            raise InvalidInput(msg, field="groupBy")
        figures, stages = await _collect(Filter(actor, _subject_actor(ref)), [period])
        book = await targets_mod.book(targets_mod.months_of([period]))
        groups, members = await _groups(ref, group_by)
    rows = []
    for g in groups:
        v = values_of(facts_mod.total(figures, 0, members[g.id]), stages, actor.locale)
        target = book.period(g, period).won_revenue_cents
        href = f"/api/kpis?level={g.level}&id={g.id}&{ask.query()}"
        rows.append(_row(str(g.id), g.name, g.level, v, target=target, kpis_href=href, drill=_drill(g, ask).href))
    return Leaderboard(
        group_by=group_by,  # type: ignore[arg-type]
        within=Link(level=ref.level, name=ref.name, href=f"/api/kpis?level={ref.level}&id={ref.id}&{ask.query()}"),
        period=_period_out(period),
        rows=_ranked(rows),
    )


async def _groups(ref: SubjectRef, group_by: str) -> tuple[list[SubjectRef], dict[uuid.UUID, set[uuid.UUID]]]:
    """The rows of a leaderboard under ``ref`` and the people (now) in each: reps, or org units of a kind."""
    people = await User.select(User.id, User.display_name, User.role, User.org_unit.path.as_alias("path")).where(
        User.org_unit.path.like(ref.path + "%")
    )
    members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if group_by == "rep":
        groups = [
            SubjectRef("rep", as_uuid(p["id"]), p["display_name"], p["path"]) for p in people if p["role"] == "rep"
        ]
        for g in groups:
            members[g.id].add(g.id)
        return groups, members
    units = await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.path).where(
        OrgUnit.kind == group_by, OrgUnit.path.like(ref.path + "%"), OrgUnit.deleted_at.is_null()
    )
    groups = [SubjectRef(group_by, as_uuid(u["id"]), u["name"], u["path"]) for u in units]
    for g in groups:
        members[g.id] = {as_uuid(p["id"]) for p in people if p["path"].startswith(g.path)}
    return groups, members


async def _account_board(actor: Actor, ask: Ask, period: Period, rep: uuid.UUID | None) -> Leaderboard:
    if rep is None:
        msg = "groupBy=account needs rep (whose accounts)"
        raise InvalidInput(msg, field="rep")
    async with read_transaction():
        ref = await targets_mod.subject(actor, "rep", rep)
        flt = Filter(actor, _subject_actor(ref))
        figures, stages = await _collect(flt, [period], by="account", coverage=False)
        scoped, args = flt.on("a.owner")
        accounts = await OrgUnit.raw(
            f"SELECT a.id, a.name FROM accounts a WHERE a.deleted_at IS NULL AND {scoped}",
            *args,
        )
        named = {as_uuid(a["id"]): a["name"] for a in accounts}
        missing = [k for (k, _) in figures if k not in named]
        if missing:
            for a in await OrgUnit.raw(
                f"SELECT a.id, a.name FROM accounts a WHERE a.id IN ({', '.join('{}' for _ in missing)})",
                *missing,
            ):
                named[as_uuid(a["id"])] = a["name"]
    rows = []
    for account_id, name in named.items():
        v = values_of(facts_mod.total(figures, 0, {account_id}), stages, actor.locale)
        rows.append(
            _row(
                str(account_id),
                name,
                "account",
                v,
                target=None,
                kpis_href=None,
                drill=f"/api/accounts/{account_id}/overview",
            )
        )
    return Leaderboard(
        group_by="account",
        within=Link(level="rep", name=ref.name, href=f"/api/kpis?level=rep&id={ref.id}&{ask.query()}"),
        period=_period_out(period),
        rows=_ranked(rows),
    )
