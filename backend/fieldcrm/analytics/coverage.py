"""Visit coverage: which key accounts are visited as often as their tier asks, by person and region, and on a map.

An account's status comes from its last counted visit (``accounts.last_visited_on``, kept on every
write by the visits domain) and its tier's target interval: covered, due soon (the last quarter of
the interval), overdue, or never visited. Everything here reads the accounts table only, grouped in
SQL, so it never scans the visits. The data scope is the same rule as everywhere
(``scope.owner_sql``).
"""

import datetime
import math
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import h3

from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.lib.db import as_date, as_uuid, read_transaction
from fieldcrm.lib.errors import InvalidInput
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit, User
from fieldcrm.settings import get_settings
from fieldcrm.visits.schemas import (
    CoverageMap,
    CoverageReport,
    CoverageRow,
    CoverageTargets,
    MapCell,
    MapPoint,
    NeglectedAccount,
    NeglectedPage,
)
from fieldcrm.visits.services import business_today

MAX_POINTS = 2_000
GROUPS = ("rep", "team", "city", "province", "hq")


def _zoom_resolution(zoom: int) -> int | None:
    """The H3 resolution for a map zoom level (None: show points)."""
    if zoom <= 6:  # a country or several provinces
        return 3
    if zoom <= 9:  # a province
        return 5
    if zoom <= 12:  # a city
        return 7
    return None


class _Cutoffs:
    """Per-tier dates that split covered / due soon / overdue, as SQL with arguments."""

    def __init__(self, today: datetime.date) -> None:
        self.targets = get_settings().visit_targets
        self.overdue_before = {t: today - datetime.timedelta(days=d) for t, d in self.targets.items()}
        self.due_from = {t: today - datetime.timedelta(days=d - math.ceil(d / 4)) for t, d in self.targets.items()}

    @staticmethod
    def _by_tier(dates: Mapping[str, datetime.date]) -> tuple[str, list[Any]]:
        # PostgreSQL cannot infer a parameter's type inside CASE; SQLite compares ISO date text as is.
        p = "{}" if get_settings().is_sqlite else "CAST({} AS DATE)"
        return f"(CASE a.tier WHEN 'A' THEN {p} WHEN 'B' THEN {p} ELSE {p} END)", [dates["A"], dates["B"], dates["C"]]

    def status(self) -> tuple[str, list[Any]]:
        """A SQL expression naming the account's status."""
        overdue, o_args = self._by_tier(self.overdue_before)
        due, d_args = self._by_tier(self.due_from)
        sql = (
            "(CASE WHEN a.last_visited_on IS NULL THEN 'never' "
            f"WHEN a.last_visited_on < {overdue} THEN 'overdue' "
            f"WHEN a.last_visited_on < {due} THEN 'due_soon' ELSE 'covered' END)"
        )
        return sql, [*o_args, *d_args]

    def in_target(self) -> tuple[str, list[Any]]:
        """A SQL condition: visited within the tier's interval (covered or due soon)."""
        overdue, args = self._by_tier(self.overdue_before)
        return f"(a.last_visited_on IS NOT NULL AND a.last_visited_on >= {overdue})", args

    def out_of_target(self) -> tuple[str, list[Any]]:
        """A SQL condition: overdue or never visited."""
        overdue, args = self._by_tier(self.overdue_before)
        return f"(a.last_visited_on IS NULL OR a.last_visited_on < {overdue})", args

    def days_overdue(self, tier: str | None, last: datetime.date | None, today: datetime.date) -> int | None:
        """Days past the tier's interval (0 or less: not overdue; None: never visited)."""
        if last is None:
            return None
        return (today - last).days - self.targets[tier if tier in self.targets else "C"]

    def status_of(self, tier: str | None, last: datetime.date | None) -> str:
        """The status in Python, the same rule as ``status()``."""
        key = tier if tier in self.targets else "C"
        if last is None:
            return "never"
        if last < self.overdue_before[key]:
            return "overdue"
        return "due_soon" if last < self.due_from[key] else "covered"

    def out(self) -> CoverageTargets:
        """The targets as the API shows them."""
        return CoverageTargets(a=self.targets["A"], b=self.targets["B"], c=self.targets["C"])


class _Where:
    """A raw WHERE clause built from parts, with Piccolo ``{}`` placeholders and arguments in order."""

    def __init__(self, actor: Actor) -> None:
        scoped, args = scope.owner_sql(actor, "a.owner")
        self.parts = ["a.deleted_at IS NULL", scoped]
        self.args: list[Any] = list(args)

    def add(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.parts.append(sql)
        self.args.extend(args)

    def sql(self) -> str:
        return " AND ".join(self.parts)


def _filters(
    where: _Where,
    cutoffs: _Cutoffs,
    *,
    tier: str | None,
    status: str | None,
    owner_id: uuid.UUID | None,
    org_unit_id: uuid.UUID | None,
) -> None:
    if tier is not None:
        where.add("a.tier = {}", [tier])
    if owner_id is not None:
        where.add("a.owner = {}", [owner_id])
    if org_unit_id is not None:
        where.add(
            "a.owner IN (SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit "
            "WHERE o.path LIKE (SELECT path FROM org_units WHERE id = {}) || '%')",
            [org_unit_id],
        )
    if status is not None:
        expression, args = cutoffs.status()
        where.add(f"{expression} = {{}}", [*args, status])


def _row(key: str, name: str, counts: Mapping[str, int]) -> CoverageRow:
    accounts = sum(counts.values())
    in_target = counts.get("covered", 0) + counts.get("due_soon", 0)
    return CoverageRow(
        key=key,
        name=name,
        accounts=accounts,
        covered=counts.get("covered", 0),
        due_soon=counts.get("due_soon", 0),
        overdue=counts.get("overdue", 0),
        never=counts.get("never", 0),
        covered_share=round(in_target / accounts, 4) if accounts else 0.0,
    )


def _ancestor(path: str, kind: str, units: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The nearest unit of ``kind`` on a path (the unit itself included)."""
    for unit_id in reversed([p for p in path.split("/") if p]):
        unit = units.get(unit_id)
        if unit is not None and unit["kind"] == kind:
            return unit
    return None


async def coverage(*, actor: Actor, group_by: str = "rep") -> CoverageReport:
    """Coverage shares of the accounts in the actor's scope, by rep, team, city, province or for the whole company."""
    scope.require(actor, "coverage.read")
    if group_by not in GROUPS:
        msg = f"groupBy is one of {', '.join(GROUPS)}"
        raise InvalidInput(msg, field="groupBy")
    today = business_today()
    cutoffs = _Cutoffs(today)
    where = _Where(actor)
    status, status_args = cutoffs.status()
    sql = (
        f"SELECT a.owner AS owner, {status} AS status, COUNT(*) AS n FROM accounts a WHERE {where.sql()} GROUP BY 1, 2"
    )
    async with read_transaction():
        rows = await AccountRow.raw(sql, *status_args, *where.args)
        owners = {as_uuid(r["owner"]) for r in rows}
        people = (
            await User.select(User.id, User.display_name, User.org_unit).where(User.id.is_in(list(owners)))
            if owners
            else []
        )
        units = await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.path)
    unit_by_id = {str(as_uuid(u["id"])): u for u in units}
    person = {as_uuid(p["id"]): p for p in people}
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[str, str] = {}
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        owner = person.get(as_uuid(r["owner"]))
        totals[r["status"]] += r["n"]
        if owner is None:
            continue
        unit = unit_by_id.get(str(as_uuid(owner["org_unit"])))
        key, name = _group_key(group_by, owner, unit, unit_by_id)
        groups[key][r["status"]] += r["n"]
        names[key] = name
    report_rows = sorted(
        (_row(k, names[k], counts) for k, counts in groups.items()),
        key=lambda row: (row.covered_share, -row.accounts, row.name),
    )
    return CoverageReport(
        group_by=group_by,  # type: ignore[arg-type]
        on=today,
        targets=cutoffs.out(),
        rows=report_rows,
        total=_row("total", "total", totals),
    )


def _group_key(
    group_by: str, owner: Mapping[str, Any], unit: Mapping[str, Any] | None, units: Mapping[str, Mapping[str, Any]]
) -> tuple[str, str]:
    if group_by == "rep":
        return str(as_uuid(owner["id"])), owner["display_name"]
    if unit is None:
        return "none", "-"
    if group_by == "team":
        return str(as_uuid(unit["id"])), unit["name"]
    if group_by in {"city", "province"}:
        found = _ancestor(unit["path"], group_by, units)
        return (str(as_uuid(found["id"])), found["name"]) if found else ("none", "-")
    root = _ancestor(unit["path"], "hq", units)
    return (str(as_uuid(root["id"])), root["name"]) if root else ("all", "all")


async def neglected(
    *,
    actor: Actor,
    page: PageParams,
    tier: str | None = None,
    owner_id: uuid.UUID | None = None,
    org_unit_id: uuid.UUID | None = None,
) -> NeglectedPage:
    """Accounts overdue for a visit or never visited, worst first.

    A before B before C, never visited before overdue, then the longest unvisited, then the larger revenue.
    """
    scope.require(actor, "coverage.read")
    today = business_today()
    cutoffs = _Cutoffs(today)
    where = _Where(actor)
    _filters(where, cutoffs, tier=tier, status=None, owner_id=owner_id, org_unit_id=org_unit_id)
    late, late_args = cutoffs.out_of_target()
    where.add(late, late_args)
    # The page's ids from the index alone, then only those rows: a sort of index entries, not of accounts.
    page_ids = (
        f"SELECT a.id FROM accounts a WHERE {where.sql()} "
        "ORDER BY COALESCE(a.tier, 'C'), a.last_visited_on NULLS FIRST, a.revenue_12m_cents DESC, a.id "
        "LIMIT {} OFFSET {}"
    )
    select = (
        "SELECT a.id, a.code, a.name, a.tier, a.city, a.owner, u.display_name AS owner_name, a.last_visited_on, "
        f"a.revenue_12m_cents FROM accounts a JOIN users u ON u.id = a.owner WHERE a.id IN ({page_ids})"
    )
    async with read_transaction():
        rows = await AccountRow.raw(select, *where.args, page.limit, page.offset)
        count = await AccountRow.raw(f"SELECT COUNT(*) AS n FROM accounts a WHERE {where.sql()}", *where.args)
    rows.sort(
        key=lambda r: (
            r["tier"] or "C",
            r["last_visited_on"] is not None,
            str(r["last_visited_on"] or ""),
            -r["revenue_12m_cents"],
            str(r["id"]),
        )
    )
    total = count[0]["n"]
    items = []
    for r in rows:
        last = as_date(r["last_visited_on"]) if r["last_visited_on"] else None
        items.append(
            NeglectedAccount(
                account_id=as_uuid(r["id"]),
                code=r["code"],
                name=r["name"],
                tier=r["tier"],
                city=r["city"],
                owner_id=as_uuid(r["owner"]),
                owner_name=r["owner_name"],
                last_visited_on=last,
                status=cutoffs.status_of(r["tier"], last),  # type: ignore[arg-type]
                days_overdue=cutoffs.days_overdue(r["tier"], last, today),
                revenue_12m_cents=r["revenue_12m_cents"],
            )
        )
    return NeglectedPage(items=items, total=total, next_cursor=page.next_cursor(total))


def parse_bbox(bbox: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` (Leaflet's toBBoxString) as numbers, checked."""
    parts = bbox.split(",")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        msg = "bbox is minLon,minLat,maxLon,maxLat in degrees, e.g. 116.8,36.5,117.3,36.8"
        raise InvalidInput(msg, field="bbox") from None
    if not (-90 <= min_lat <= max_lat <= 90 and -180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        msg = "bbox is minLon,minLat,maxLon,maxLat with latitudes within ±90, longitudes within ±180, min <= max"
        raise InvalidInput(msg, field="bbox")
    return min_lon, min_lat, max_lon, max_lat


async def coverage_map(
    *,
    actor: Actor,
    bbox: str,
    zoom: int,
    tier: str | None = None,
    status: str | None = None,
    org_unit_id: uuid.UUID | None = None,
) -> CoverageMap:
    """Coverage in a bounding box: H3 hexagons with counts and covered share at low zoom, points at high zoom."""
    scope.require(actor, "coverage.read")
    min_lon, min_lat, max_lon, max_lat = parse_bbox(bbox)
    resolution = _zoom_resolution(zoom)
    cutoffs = _Cutoffs(business_today())
    where = _Where(actor)
    where.add("a.latitude BETWEEN {} AND {}", [min_lat, max_lat])
    if min_lon <= max_lon:
        where.add("a.longitude BETWEEN {} AND {}", [min_lon, max_lon])
    else:  # the box crosses the antimeridian
        where.add("(a.longitude >= {} OR a.longitude <= {})", [min_lon, max_lon])
    _filters(where, cutoffs, tier=tier, status=status, owner_id=None, org_unit_id=org_unit_id)
    if resolution is None:
        return await _points(where, cutoffs)
    covered, covered_args = cutoffs.in_target()
    sql = (
        f"SELECT a.h3_r{resolution} AS cell, COUNT(*) AS n, SUM(CASE WHEN {covered} THEN 1 ELSE 0 END) AS covered "
        f"FROM accounts a WHERE {where.sql()} GROUP BY a.h3_r{resolution}"
    )
    rows = await AccountRow.raw(sql, *covered_args, *where.args)
    cells = []
    for r in rows:
        if not r["cell"]:
            continue
        lat, lon = h3.cell_to_latlng(r["cell"])
        n, in_target = int(r["n"]), int(r["covered"] or 0)
        cells.append(
            MapCell(
                h3=r["cell"],
                latitude=round(lat, 6),
                longitude=round(lon, 6),
                boundary=[[round(a, 6), round(b, 6)] for a, b in h3.cell_to_boundary(r["cell"])],
                accounts=n,
                covered=in_target,
                covered_share=round(in_target / n, 4) if n else 0.0,
            )
        )
    cells.sort(key=lambda c: c.h3)
    return CoverageMap(mode="hex", resolution=resolution, cells=cells, points=[], truncated=False)


async def _points(where: _Where, cutoffs: _Cutoffs) -> CoverageMap:
    sql = (
        "SELECT a.id, a.name, a.tier, a.latitude, a.longitude, a.last_visited_on FROM accounts a "
        f"WHERE {where.sql()} ORDER BY a.revenue_12m_cents DESC, a.id LIMIT {{}}"
    )
    rows = await AccountRow.raw(sql, *where.args, MAX_POINTS + 1)
    points = []
    for r in rows[:MAX_POINTS]:
        last = as_date(r["last_visited_on"]) if r["last_visited_on"] else None
        points.append(
            MapPoint(
                account_id=as_uuid(r["id"]),
                name=r["name"],
                tier=r["tier"],
                latitude=r["latitude"],
                longitude=r["longitude"],
                status=cutoffs.status_of(r["tier"], last),  # type: ignore[arg-type]
                last_visited_on=last,
            )
        )
    return CoverageMap(mode="points", resolution=None, cells=[], points=points, truncated=len(rows) > MAX_POINTS)
