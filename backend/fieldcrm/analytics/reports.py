"""Reports: revenue by product, industry, region, tier (12 months), the funnel, won/lost, discount depth, case SLAs.

Each report is a table (typed columns, rows) computed in SQL inside the caller's scope and the asked
subject (the same ``Filter`` as the KPIs), so the screen and its CSV/XLSX export show the same rows.
"""

import datetime
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

from fieldcrm.analytics import exports, labels
from fieldcrm.analytics import kpis as kpis_mod
from fieldcrm.analytics.facts import Filter, moment, percentile
from fieldcrm.analytics.kpis import Ask
from fieldcrm.analytics.periods import Period
from fieldcrm.analytics.schemas import Leaderboard, ReportColumn, ReportTable
from fieldcrm.lib.db import as_date, as_uuid, read_transaction
from fieldcrm.lib.errors import NotFound
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit, User
from fieldcrm.sales import opportunities as opportunity_services
from fieldcrm.visits.tables import Visit as VisitRow

Cell = str | int | float | None


def _months(at: datetime.date) -> list[datetime.date]:
    """The first days of the 12 months ending with the month of ``at``, oldest first."""
    out = []
    index = at.year * 12 + at.month - 1
    for back in range(11, -1, -1):
        year, month = divmod(index - back, 12)
        out.append(datetime.date(year, month + 1, 1))
    return out


def _next_month(first: datetime.date) -> datetime.date:
    return (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


async def _raw(sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await VisitRow.raw(sql, *args)
    return rows


def _col(key: str, kind: str, locale: str, label: str | None = None) -> ReportColumn:
    return ReportColumn(key=key, label=label or labels.text(f"col.{key}", locale), kind=kind)  # type: ignore[arg-type]


def _table(
    name: str,
    locale: str,
    *,
    start: datetime.date,
    end: datetime.date,
    columns: list[ReportColumn],
    rows: list[list[Cell]],
) -> ReportTable:
    return ReportTable(
        name=name, title=labels.text(f"report.{name}", locale), start=start, end=end, columns=columns, rows=rows
    )


async def _people_units() -> tuple[dict[uuid.UUID, dict[str, Any]], dict[str, dict[str, Any]]]:
    people = {
        as_uuid(p["id"]): p
        for p in await User.select(
            User.id, User.display_name, User.org_unit.path.as_alias("path"), User.org_unit.name.as_alias("unit_name")
        )
    }
    units = {
        str(as_uuid(u["id"])): u for u in await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.path)
    }
    return people, units


def _region(path: str, units: dict[str, dict[str, Any]]) -> str:
    """The province of an org path (else the deepest named unit)."""
    names = [units[p] for p in path.split("/") if p in units]
    for unit in names:
        if unit["kind"] == "province":
            return str(unit["name"])
    return str(names[-1]["name"]) if names else "-"


# ---------------------------------------------------------------- revenue


async def _revenue(
    flt: Filter, months: list[datetime.date], by: str, locale: str
) -> tuple[list[ReportColumn], list[list[Cell]]]:
    month_cols = [_col(f"{m.year}-{m.month:02d}", "money", locale, label=f"{m.year}-{m.month:02d}") for m in months]
    if by == "product":
        scoped, args = flt.on("a.owner")
        sums, s_args = [], []
        for m in months:
            sums.append(
                "SUM(CASE WHEN (h.contract_start IS NULL OR h.contract_start < {}) AND "
                "(h.contract_end IS NULL OR h.contract_end >= {}) THEN h.monthly_fee_cents * h.quantity ELSE 0 END)"
            )
            s_args += [_next_month(m), m]
        select = ", ".join(f"{s} AS m{i}" for i, s in enumerate(sums))
        rows = await _raw(
            f"SELECT h.product_code AS code, h.product AS product, {select} FROM holdings h "
            f"JOIN accounts a ON a.id = h.account WHERE h.deleted_at IS NULL AND a.deleted_at IS NULL AND {scoped} "
            "GROUP BY h.product_code, h.product",
            [*s_args, *args],
        )
        out: list[list[Cell]] = []
        for r in rows:
            values = [int(r[f"m{i}"] or 0) for i in range(len(months))]
            if any(values):
                out.append([r["code"], r["product"], *values, sum(values)])
        out.sort(key=lambda row: (-int(row[-1] or 0), str(row[1])))
        columns = [_col("product_code", "text", locale), _col("product", "text", locale)]
        return [*columns, *month_cols, _col("total_cents", "money", locale)], out
    scoped, args = flt.on("a.owner")
    group = {"industry": "a.industry", "tier": "COALESCE(a.tier, 'C')", "region": "a.owner"}[by]
    rows = await _raw(
        f"SELECT {group} AS g, r.month AS month, SUM(r.amount_cents) AS amount FROM revenue r "
        f"JOIN accounts a ON a.id = r.account WHERE r.month >= {{}} AND r.month < {{}} AND a.deleted_at IS NULL "
        f"AND {scoped} GROUP BY 1, 2",
        [months[0], _next_month(months[-1]), *args],
    )
    index = {m: i for i, m in enumerate(months)}
    grid: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    people, units = (await _people_units()) if by == "region" else ({}, {})
    for r in rows:
        if by == "region":
            person = people.get(as_uuid(r["g"]))
            key = _region(person["path"], units) if person else "-"
        else:
            key = str(r["g"] or "") or labels.text("value.none", locale)
        grid[key][index[as_date(r["month"]).replace(day=1)]] += int(r["amount"] or 0)
    out = [[key, *values, sum(values)] for key, values in grid.items()]
    out.sort(key=lambda row: (-int(row[-1] or 0), str(row[0])))
    return [_col(by, "text", locale), *month_cols, _col("total_cents", "money", locale)], out


# ---------------------------------------------------------------- selling


async def _funnel(flt: Filter, period: Period, locale: str) -> tuple[list[ReportColumn], list[list[Cell]]]:
    stages = await opportunity_services.stages()
    lo, hi = period.utc_bounds()
    scoped, args = flt.on("o.owner")
    rows = await _raw(
        "SELECT o.stage AS stage, COUNT(*) AS n, SUM(o.amount_cents) AS amount FROM opportunities o "
        f"WHERE o.deleted_at IS NULL AND o.created_at >= {{}} AND o.created_at < {{}} AND {scoped} GROUP BY 1",
        [lo, hi, *args],
    )
    at = {r["stage"]: (int(r["n"]), int(r["amount"] or 0)) for r in rows}
    zh = labels.language(locale) == "zh-CN"
    ordered = [s for s in stages if s["kind"] != "lost"]
    out: list[list[Cell]] = []
    previous: int | None = None
    for i, s in enumerate(ordered):
        reached = sum(at.get(t["key"], (0, 0))[0] for t in ordered[i:])
        if i == 0:  # every opportunity made in the period entered the funnel, lost ones too
            reached += sum(at.get(t["key"], (0, 0))[0] for t in stages if t["kind"] == "lost")
        conversion = round(reached / previous, 4) if previous else None
        n, amount = at.get(s["key"], (0, 0))
        out.append([(s["name_zh"] or s["name"]) if zh else s["name"], n, amount, reached, conversion])
        previous = reached
    for s in stages:
        if s["kind"] == "lost":
            n, amount = at.get(s["key"], (0, 0))
            out.append([(s["name_zh"] or s["name"]) if zh else s["name"], n, amount, None, None])
    columns = [
        _col("stage", "text", locale),
        _col("opportunities", "int", locale),
        _col("amount_cents", "money", locale),
        _col("reached", "int", locale),
        _col("conversion", "share", locale),
    ]
    return columns, out


async def _won_lost(flt: Filter, period: Period, locale: str) -> tuple[list[ReportColumn], list[list[Cell]]]:
    stages = await opportunity_services.stages()
    kind = {s["key"]: s["kind"] for s in stages}
    lo, hi = period.utc_bounds()
    scoped, args = flt.on("o.owner")
    rows = await _raw(
        "SELECT o.stage AS stage, o.lost_reason AS reason, COUNT(*) AS n, SUM(o.amount_cents) AS amount "
        f"FROM opportunities o WHERE o.deleted_at IS NULL AND o.closed_at >= {{}} AND o.closed_at < {{}} AND {scoped} "
        "GROUP BY 1, 2",
        [lo, hi, *args],
    )
    grouped: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        outcome = kind.get(r["stage"])
        if outcome not in {"won", "lost"}:
            continue
        reason = "" if outcome == "won" else " ".join(str(r["reason"] or "").split())
        grouped[(outcome, reason)][0] += int(r["n"])
        grouped[(outcome, reason)][1] += int(r["amount"] or 0)
    closed = sum(v[0] for v in grouped.values())
    out: list[list[Cell]] = []
    for (outcome, reason), (n, amount) in sorted(
        grouped.items(), key=lambda kv: (kv[0][0] != "won", -kv[1][0], kv[0][1])
    ):
        shown = "" if outcome == "won" else (reason or labels.text("value.none", locale))
        out.append(
            [labels.text(f"value.{outcome}", locale), shown, n, amount, round(n / closed, 4) if closed else None]
        )
    columns = [
        _col("outcome", "text", locale),
        _col("lost_reason", "text", locale),
        _col("opportunities", "int", locale),
        _col("amount_cents", "money", locale),
        _col("share", "share", locale),
    ]
    return columns, out


async def _discount_by_rep(flt: Filter, period: Period, locale: str) -> tuple[list[ReportColumn], list[list[Cell]]]:
    lo, hi = period.utc_bounds()
    scoped, args = flt.on("q.owner")
    rows = await _raw(
        "SELECT q.owner AS owner, COUNT(*) AS n, SUM(q.list_total_cents) AS list, SUM(q.total_cents) AS quoted, "
        "MAX(q.discount_bp) AS deepest FROM quotes q WHERE q.state IN ('approved', 'sent', 'accepted', 'expired') "
        f"AND q.decided_at >= {{}} AND q.decided_at < {{}} AND {scoped} GROUP BY 1",
        [lo, hi, *args],
    )
    people, _ = await _people_units()
    out: list[list[Cell]] = []
    for r in rows:
        person = people.get(as_uuid(r["owner"]), {})
        listed, quoted = int(r["list"] or 0), int(r["quoted"] or 0)
        average = ((listed - quoted) * 20_000 + listed) // (listed * 2) if listed else None
        out.append(
            [
                person.get("display_name", "-"),
                person.get("unit_name", "-"),
                int(r["n"]),
                listed,
                quoted,
                average,
                int(r["deepest"] or 0),
            ]
        )
    out.sort(key=lambda row: (-(int(row[5]) if row[5] is not None else -1), str(row[0])))
    columns = [
        _col("rep", "text", locale),
        _col("team", "text", locale),
        _col("quotes", "int", locale),
        _col("list_cents", "money", locale),
        _col("quoted_cents", "money", locale),
        _col("avg_discount_bp", "bp", locale),
        _col("max_discount_bp", "bp", locale),
    ]
    return columns, out


async def _case_sla(
    flt: Filter, period: Period, locale: str, now: datetime.datetime
) -> tuple[list[ReportColumn], list[list[Cell]]]:
    lo, hi = period.utc_bounds()
    scoped, args = flt.on("c.owner")
    rows = await _raw(
        "SELECT c.type AS type, c.created_at AS created, c.due_at AS due, c.resolved_at AS resolved "
        f"FROM cases c WHERE c.state <> 'cancelled' AND c.due_at >= {{}} AND c.due_at < {{}} AND {scoped}",
        [lo, hi, *args],
    )
    by_type: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, []])
    for r in rows:
        entry = by_type[r["type"]]
        due = moment(r["due"])
        resolved = moment(r["resolved"]) if r["resolved"] is not None else None
        entry[0] += 1
        if resolved is not None:
            entry[1] += 1
            entry[3].append((resolved - moment(r["created"])).total_seconds())
        if (resolved is not None and resolved > due) or (resolved is None and due < now):
            entry[2] += 1
    out: list[list[Cell]] = []
    for kind, (due_n, resolved_n, breached, durations) in sorted(by_type.items()):
        out.append(
            [
                labels.text(f"value.{kind}", locale),
                due_n,
                resolved_n,
                breached,
                round(breached / due_n, 4) if due_n else None,
                percentile(durations, 0.5),
            ]
        )
    columns = [
        _col("case_type", "text", locale),
        _col("cases_due", "int", locale),
        _col("resolved", "int", locale),
        _col("breached", "int", locale),
        _col("breach_share", "share", locale),
        _col("median_resolution_s", "seconds", locale),
    ]
    return columns, out


# ---------------------------------------------------------------- the door

NAMES: tuple[str, ...] = (
    "revenue-by-product",
    "revenue-by-industry",
    "revenue-by-region",
    "revenue-by-tier",
    "funnel",
    "won-lost",
    "discount-by-rep",
    "case-sla",
)


def default_level(actor: Actor) -> str:
    """Whose figures a report shows when the request names nobody: HQ's, the leader's unit's, the rep's own."""
    if scope.sees_everything(actor):
        return "hq"
    return "rep" if actor.role == "rep" else ""


async def report(
    *,
    actor: Actor,
    name: str,
    ask: Ask,
    level: str | None = None,
    subject_id: uuid.UUID | None = None,
    lang: str | None = None,
    now: datetime.datetime | None = None,
) -> ReportTable:
    """One report for a subject (HQ, an org unit or a rep in the caller's reach) and a period."""
    scope.require(actor, "reports.read")
    if name not in NAMES:
        msg = f"no report {name}; there are {', '.join(NAMES)}"
        raise NotFound(msg, field="name")
    locale = lang or actor.locale
    period = ask.resolve()
    async with read_transaction():
        if not level:
            level = default_level(actor)
            if not level:
                unit = await OrgUnit.select(OrgUnit.kind).where(OrgUnit.id == actor.org_unit_id).first()
                level, subject_id = (unit["kind"] if unit else "team"), actor.org_unit_id
        _, flt = await kpis_mod.resolve_subject(actor, level, subject_id)
        if name.startswith("revenue-by-"):
            months = _months(period.end)
            columns, rows = await _revenue(flt, months, name.removeprefix("revenue-by-"), locale)
            start, end = months[0], _next_month(months[-1]) - datetime.timedelta(days=1)
            return _table(name, locale, start=start, end=end, columns=columns, rows=rows)
        builders: dict[str, Callable[[], Coroutine[Any, Any, tuple[list[ReportColumn], list[list[Cell]]]]]] = {
            "funnel": lambda: _funnel(flt, period, locale),
            "won-lost": lambda: _won_lost(flt, period, locale),
            "discount-by-rep": lambda: _discount_by_rep(flt, period, locale),
            "case-sla": lambda: _case_sla(flt, period, locale, now or utcnow()),
        }
        columns, rows = await builders[name]()
    return _table(name, locale, start=period.start, end=period.end, columns=columns, rows=rows)


LEADER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "int"),
    ("name", "text"),
    ("visits_done", "int"),
    ("verified_share", "share"),
    ("coverage_share", "share"),
    ("new_opportunities", "int"),
    ("pipeline_weighted_cents", "money"),
    ("won_revenue_cents", "money"),
    ("won_revenue_target_cents", "money"),
    ("won_revenue_progress", "share"),
    ("win_rate", "share"),
    ("quotes_sent", "int"),
    ("avg_discount_bp", "bp"),
    ("case_sla_breaches", "int"),
)


def leaderboard_table(board: Leaderboard, locale: str) -> ReportTable:
    """A leaderboard as a report table, for its export."""
    columns = [_col(key, kind, locale) for key, kind in LEADER_COLUMNS]
    rows: list[list[Cell]] = [[getattr(r, key) for key, _ in LEADER_COLUMNS] for r in board.rows]
    table = _table("leaderboard", locale, start=board.period.start, end=board.period.end, columns=columns, rows=rows)
    table.title = f"{table.title} · {board.within.name}"
    return table


async def export_report(
    *,
    actor: Actor,
    name: str,
    fmt: str,
    ask: Ask,
    level: str | None = None,
    subject_id: uuid.UUID | None = None,
    lang: str | None = None,
) -> tuple[ReportTable, Iterator[bytes]]:
    """A report and its file (CSV or XLSX) in chunks: the same rows the screen shows."""
    scope.require(actor, "reports.export")
    exports.check_format(fmt)
    table = await report(actor=actor, name=name, ask=ask, level=level, subject_id=subject_id, lang=lang)
    return table, exports.chunks(table, fmt)


async def export_leaderboard(
    *,
    actor: Actor,
    fmt: str,
    group_by: str | None,
    ask: Ask,
    within: uuid.UUID | None = None,
    rep: uuid.UUID | None = None,
    lang: str | None = None,
) -> tuple[ReportTable, Iterator[bytes]]:
    """A leaderboard as a file (CSV or XLSX) in chunks, headers in the reader's language."""
    scope.require(actor, "reports.export")
    exports.check_format(fmt)
    board = await kpis_mod.leaderboard(actor=actor, group_by=group_by, ask=ask, within=within, rep=rep)
    table = leaderboard_table(board, lang or actor.locale)
    return table, exports.chunks(table, fmt)
