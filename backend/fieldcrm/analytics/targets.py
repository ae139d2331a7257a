"""Targets per person per month, set by a leader above them; org units default to the sum of their people.

Who sets what: a rep's (or any person's) targets are set by a leader whose org subtree holds that
person, never by the person themselves; an org unit's targets by a leader of a unit above it (HQ sets
any, its own included). A metric an org unit has not set is the sum of that metric over the people
who are in the unit *now* (the same attribution as the KPIs). A period's target is the sum of its
months' targets, a month that the period covers only in part counting pro rata by days.
"""

import dataclasses
import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fieldcrm.analytics.periods import Period, parse_month
from fieldcrm.analytics.schemas import Target, TargetPage, TargetPut, TargetValues
from fieldcrm.analytics.tables import Target as TargetRow
from fieldcrm.lib.db import as_date, as_uuid, read_transaction, write_transaction
from fieldcrm.lib.errors import Forbidden, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit, User

METRICS: tuple[str, ...] = (
    "visits_a",
    "visits_b",
    "visits_c",
    "new_opportunities",
    "won_revenue_cents",
    "quotes_sent",
    "tasks_on_time",
)
LEVELS: tuple[str, ...] = ("rep", "team", "city", "province", "hq")


@dataclasses.dataclass(frozen=True)
class SubjectRef:
    """Whose targets: a person (level rep) or an org unit, with the org path that places it."""

    level: str
    id: uuid.UUID
    name: str
    path: str


def _level(level: str) -> str:
    if level not in LEVELS:
        msg = f"level is one of {', '.join(LEVELS)}, not {level}"
        raise InvalidInput(msg, field="level")
    return level


async def subject(actor: Actor, level: str, subject_id: uuid.UUID) -> SubjectRef:
    """The person or org unit, if the actor sees it (404 otherwise, the same answer as for a missing one)."""
    _level(level)
    if level == "rep":
        where = User.id == subject_id
        if (limit := scope.user_filter(actor)) is not None:
            where = where & limit
        row = await User.select(User.id, User.display_name, User.org_unit.path.as_alias("path")).where(where).first()
        if row is None:
            msg = f"no person {subject_id} in your scope"
            raise NotFound(msg, field="id")
        return SubjectRef("rep", as_uuid(row["id"]), row["display_name"], row["path"])
    unit = (
        await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.path)
        .where(OrgUnit.id == subject_id, OrgUnit.deleted_at.is_null())
        .first()
    )
    if unit is None or not scope.unit_in_subtree(actor, unit["path"]):
        msg = f"no org unit {subject_id} in your scope"
        raise NotFound(msg, field="id")
    if unit["kind"] != level:
        msg = f"{unit['name']} is a {unit['kind']}, not a {level}: ask with level={unit['kind']}"
        raise InvalidInput(msg, field="level")
    return SubjectRef(level, as_uuid(unit["id"]), unit["name"], unit["path"])


def _may_set(actor: Actor, ref: SubjectRef) -> None:
    scope.require(actor, "targets.set")
    if ref.level == "rep" and ref.id == actor.id:
        msg = "nobody sets their own targets: your manager (or a leader above) sets them"
        raise Forbidden(msg)
    if ref.level != "rep" and not scope.sees_everything(actor) and ref.path == actor.org_path:
        msg = f"the targets of {ref.name} are set by the level above it"
        raise Forbidden(msg)


def _values(row: Mapping[str, Any]) -> TargetValues:
    return TargetValues(**{m: (None if row[m] is None else int(row[m])) for m in METRICS})


def _out(row: Mapping[str, Any], name: str) -> Target:
    month = as_date(row["month"])
    return Target(
        id=as_uuid(row["id"]),
        level=row["level"],
        subject_id=as_uuid(row["subject_id"]),
        subject_name=name,
        month=f"{month.year}-{month.month:02d}",
        values=_values(row),
        set_by_name=row["set_by_name"],
        updated_at=row["updated_at"],
    )


async def put_target(*, actor: Actor, level: str, subject_id: uuid.UUID, month: str, data: TargetPut) -> Target:
    """Set (replace) the targets of a person or org unit for a month."""
    scope.require(actor, "targets.set")  # before any lookup: a rep learns nothing about who exists
    first = parse_month(month)
    async with write_transaction():
        ref = await subject(actor, level, subject_id)
        _may_set(actor, ref)
        now = utcnow()
        values = {getattr(TargetRow, m): getattr(data, m) for m in METRICS}
        existing = (
            await TargetRow.select(TargetRow.id)
            .where(TargetRow.level == level, TargetRow.subject_id == subject_id, TargetRow.month == first)
            .first()
        )
        if existing is None:
            await TargetRow.insert(
                TargetRow(
                    id=new_id(),
                    level=level,
                    subject_id=subject_id,
                    month=first,
                    set_by=actor.id,
                    set_by_name=actor.display_name,
                    created_at=now,
                    updated_at=now,
                    **{m: getattr(data, m) for m in METRICS},
                )
            )
        else:
            await TargetRow.update(
                {
                    **values,
                    TargetRow.set_by: actor.id,
                    TargetRow.set_by_name: actor.display_name,
                    TargetRow.updated_at: now,
                }
            ).where(TargetRow.id == existing["id"])
        row = (
            await TargetRow.select()
            .where(TargetRow.level == level, TargetRow.subject_id == subject_id, TargetRow.month == first)
            .first()
        )
    assert row is not None  # noqa: S101 - written just above in the same transaction
    return _out(row, ref.name)


async def list_targets(
    *,
    actor: Actor,
    page: PageParams,
    level: str | None = None,
    subject_id: uuid.UUID | None = None,
    month: str | None = None,
) -> TargetPage:
    """Targets set explicitly, in the actor's scope: people they see, org units in their subtree; newest month first."""
    scope.require(actor, "targets.read")
    people, p_args = scope.owner_sql(actor, "t.subject_id")
    parts = [
        f"((t.level = 'rep' AND {people})"
        + (" OR (t.level <> 'rep' AND o.path LIKE {}))" if actor.role != "rep" else ")")
    ]
    args: list[Any] = [*p_args] + ([actor.org_path + "%"] if actor.role != "rep" else [])
    if level is not None:
        parts.append("t.level = {}")
        args.append(_level(level))
    if subject_id is not None:
        parts.append("t.subject_id = {}")
        args.append(subject_id)
    if month is not None:
        parts.append("t.month = {}")
        args.append(parse_month(month))
    where = " AND ".join(parts)
    base = (
        "FROM targets t LEFT JOIN users u ON t.level = 'rep' AND u.id = t.subject_id "
        f"LEFT JOIN org_units o ON t.level <> 'rep' AND o.id = t.subject_id WHERE {where}"
    )
    async with read_transaction():
        count = await TargetRow.raw(f"SELECT COUNT(*) AS n {base}", *args)
        rows = await TargetRow.raw(
            f"SELECT t.*, COALESCE(u.display_name, o.name, '') AS subject_name {base} "
            "ORDER BY t.month DESC, t.level, subject_name, t.id LIMIT {} OFFSET {}",
            *args,
            page.limit,
            page.offset,
        )
    total = int(count[0]["n"])
    return TargetPage(
        items=[_out(r, r["subject_name"]) for r in rows], total=total, next_cursor=page.next_cursor(total)
    )


# ---------------------------------------------------------------- effective targets


@dataclasses.dataclass
class TargetBook:
    """The explicit targets of some months: rep rows with each person's org path now, and org-unit rows."""

    reps: list[tuple[datetime.date, uuid.UUID, str, dict[str, int | None]]]
    units: dict[tuple[str, uuid.UUID, datetime.date], dict[str, int | None]]

    def month(self, ref: SubjectRef, month: datetime.date) -> dict[str, int | None]:
        """A subject's targets for one month: its own, or for an org unit per unset metric the sum of its people."""
        if ref.level == "rep":
            for m, person, _, values in self.reps:
                if m == month and person == ref.id:
                    return dict(values)
            return dict.fromkeys(METRICS)
        own = self.units.get((ref.level, ref.id, month), dict.fromkeys(METRICS))
        out: dict[str, int | None] = {}
        for metric in METRICS:
            if own.get(metric) is not None:
                out[metric] = own[metric]
                continue
            found = [
                v[metric]
                for m, _, path, v in self.reps
                if m == month and path.startswith(ref.path) and v[metric] is not None
            ]
            out[metric] = sum(x for x in found if x is not None) if found else None
        return out

    def period(self, ref: SubjectRef, period: Period) -> TargetValues:
        """A subject's targets over a period: whole months added up, a partial month pro rata by days."""
        totals: dict[str, int | None] = dict.fromkeys(METRICS)
        for first, days in period.months():
            month_days = ((first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - first).days
            for metric, value in self.month(ref, first).items():
                if value is None:
                    continue
                part = value if days == month_days else (value * days * 2 + month_days) // (month_days * 2)
                totals[metric] = (totals[metric] or 0) + part
        return TargetValues(**totals)


async def book(months: Iterable[datetime.date]) -> TargetBook:
    """Every explicit target of these months (callers pass subjects already checked against the scope)."""
    wanted = sorted(set(months))
    if not wanted:
        return TargetBook([], {})
    marks = ", ".join("{}" for _ in wanted)
    rows = await TargetRow.raw(
        "SELECT t.*, o.path AS person_path FROM targets t "
        "LEFT JOIN users u ON t.level = 'rep' AND u.id = t.subject_id "
        f"LEFT JOIN org_units o ON o.id = u.org_unit WHERE t.month IN ({marks})",
        *wanted,
    )
    reps: list[tuple[datetime.date, uuid.UUID, str, dict[str, int | None]]] = []
    units: dict[tuple[str, uuid.UUID, datetime.date], dict[str, int | None]] = {}
    for r in rows:
        values = {m: (None if r[m] is None else int(r[m])) for m in METRICS}
        if r["level"] == "rep":
            reps.append((as_date(r["month"]), as_uuid(r["subject_id"]), r["person_path"] or "", values))
        else:
            units[(r["level"], as_uuid(r["subject_id"]), as_date(r["month"]))] = values
    return TargetBook(reps, units)


def months_of(periods: Sequence[Period]) -> list[datetime.date]:
    """The first days of every month the periods touch."""
    return [first for p in periods for first, _ in p.months()]
