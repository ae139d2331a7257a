"""The non-account kinds a device syncs: one feed source per kind, each in its own domain's feed module.

A source answers a full ``snapshot`` and the ``changes_since`` a version (rows to upsert, ids to delete),
both within the windows of the pull (``Windows``, from the settings). A source may also answer
``follow``: the rows of accounts whose owner moved since the cursor (upserts where the actor now sees
them, deletes elsewhere), and ``shift``: what entered or left its window since the day of the last
pull. The pull runs every source inside its one read snapshot (docs/sync.md).
"""

import dataclasses
import datetime
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fieldcrm.cases import feed as cases_feed
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import feed as sales_feed
from fieldcrm.settings import get_settings
from fieldcrm.sync.tables import ChangeCounter
from fieldcrm.tasks import feed as tasks_feed
from fieldcrm.visits import feed as visits_feed
from fieldcrm.visits.services import business_day

Changes = tuple[list[Any], list[uuid.UUID]]


@dataclasses.dataclass(frozen=True)
class Windows:
    """The windows of one pull, from its business day and the settings."""

    today: datetime.date
    plans_from: datetime.date
    plans_to: datetime.date
    visits_from: datetime.date
    closed_after: datetime.datetime

    @classmethod
    def on(cls, day: datetime.date) -> "Windows":
        """The windows of a pull made on ``day``."""
        s = get_settings()
        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
        return cls(
            today=day,
            plans_from=day - datetime.timedelta(days=s.sync_plans_back_days),
            plans_to=day + datetime.timedelta(days=s.sync_plans_ahead_days),
            visits_from=day - datetime.timedelta(days=s.sync_visits_days),
            closed_after=midnight - datetime.timedelta(days=s.sync_closed_days),
        )


def now() -> datetime.datetime:
    """The clock of the pull (tests freeze it here)."""
    return datetime.datetime.now(tz=datetime.UTC)


def pull_day() -> datetime.date:
    """The business day the windows are counted from."""
    return business_day(now())


def fingerprint() -> str:
    """The window settings, part of the scope a cursor was issued for: a change of them resets devices."""
    s = get_settings()
    return f"{s.sync_plans_back_days}.{s.sync_plans_ahead_days}.{s.sync_visits_days}.{s.sync_closed_days}"


Snapshot = Callable[[Actor, Windows], Awaitable[list[Any]]]
Since = Callable[[Actor, int, Windows], Awaitable[Changes]]
Follow = Callable[[Actor, Sequence[uuid.UUID], Windows], Awaitable[Changes]]
Shift = Callable[[Actor, Windows, Windows], Awaitable[Changes]]


@dataclasses.dataclass(frozen=True)
class FeedSource:
    """One kind of row on the device: its name in the pull and how to read it."""

    kind: str
    table: str  # where its sync_version lives: a kind with nothing newer than the cursor is not asked
    snapshot: Snapshot
    changes_since: Since
    follow: Follow | None = None
    shift: Shift | None = None


SOURCES: list[FeedSource] = [
    FeedSource(
        "plans",
        "visit_plans",
        snapshot=lambda a, w: visits_feed.plans_snapshot(actor=a, start=w.plans_from, end=w.plans_to, today=w.today),
        changes_since=lambda a, v, w: visits_feed.plans_changes_since(
            actor=a, since=v, start=w.plans_from, end=w.plans_to, today=w.today
        ),
        follow=lambda a, ids, w: visits_feed.plans_follow(
            actor=a, account_ids=ids, start=w.plans_from, end=w.plans_to, today=w.today
        ),
        shift=lambda a, old, w: visits_feed.plans_shift(
            actor=a, old_start=old.plans_from, old_end=old.plans_to, start=w.plans_from, end=w.plans_to, today=w.today
        ),
    ),
    FeedSource(
        "visits",
        "visits",
        snapshot=lambda a, w: visits_feed.visits_snapshot(actor=a, since_day=w.visits_from),
        changes_since=lambda a, v, w: visits_feed.visits_changes_since(actor=a, since=v, since_day=w.visits_from),
        follow=lambda a, ids, w: visits_feed.visits_follow(actor=a, account_ids=ids, since_day=w.visits_from),
        shift=lambda a, old, w: visits_feed.visits_shift(
            actor=a, old_since_day=old.visits_from, since_day=w.visits_from
        ),
    ),
    FeedSource(
        "opportunities",
        "opportunities",
        snapshot=lambda a, w: sales_feed.opportunities_snapshot(actor=a, closed_after=w.closed_after),
        changes_since=lambda a, v, w: sales_feed.opportunities_changes_since(
            actor=a, since=v, closed_after=w.closed_after
        ),
        follow=lambda a, ids, w: sales_feed.opportunities_follow(actor=a, account_ids=ids, closed_after=w.closed_after),
        shift=lambda a, old, w: sales_feed.opportunities_shift(
            actor=a, old_closed_after=old.closed_after, closed_after=w.closed_after
        ),
    ),
    FeedSource(
        "quotes",
        "quotes",
        snapshot=lambda a, w: sales_feed.quotes_snapshot(actor=a, closed_after=w.closed_after),
        changes_since=lambda a, v, w: sales_feed.quotes_changes_since(actor=a, since=v, closed_after=w.closed_after),
        follow=lambda a, ids, w: sales_feed.quotes_follow(actor=a, account_ids=ids, closed_after=w.closed_after),
        shift=lambda a, old, w: sales_feed.quotes_shift(
            actor=a, old_closed_after=old.closed_after, closed_after=w.closed_after
        ),
    ),
    FeedSource(
        "cases",
        "cases",
        snapshot=lambda a, w: cases_feed.cases_snapshot(actor=a, closed_after=w.closed_after),
        changes_since=lambda a, v, w: cases_feed.cases_changes_since(actor=a, since=v, closed_after=w.closed_after),
        follow=lambda a, ids, w: cases_feed.cases_follow(actor=a, account_ids=ids, closed_after=w.closed_after),
        shift=lambda a, old, w: cases_feed.cases_shift(
            actor=a, old_closed_after=old.closed_after, closed_after=w.closed_after
        ),
    ),
    FeedSource(
        "projects",
        "delivery_projects",
        snapshot=lambda a, w: cases_feed.projects_snapshot(actor=a, closed_after=w.closed_after),
        changes_since=lambda a, v, w: cases_feed.projects_changes_since(actor=a, since=v, closed_after=w.closed_after),
        follow=lambda a, ids, w: cases_feed.projects_follow(actor=a, account_ids=ids, closed_after=w.closed_after),
        shift=lambda a, old, w: cases_feed.projects_shift(
            actor=a, old_closed_after=old.closed_after, closed_after=w.closed_after
        ),
    ),  # Tasks keep their own window (open, and done or skipped in the last 30 days: tasks/feed.py).
    FeedSource(
        "tasks",
        "tasks",
        snapshot=lambda a, _: tasks_feed.snapshot(actor=a),
        changes_since=lambda a, v, _: tasks_feed.changes_since(actor=a, since=v),
    ),
]


ACCOUNT_TABLES = ("accounts", "contacts", "holdings", "account_notes", "revenue")


async def newest_versions(tables: Sequence[str] = ()) -> dict[str, int]:
    """Each table's highest sync_version, in one statement (each is one step down its index).

    By default every synced table (the sources' and ``ACCOUNT_TABLES``): this module's constants, never input.
    """
    tables = sorted(tables or {*ACCOUNT_TABLES, *(source.table for source in SOURCES)})
    columns = ", ".join(f"(SELECT MAX(sync_version) FROM {t}) AS {t}" for t in tables)  # noqa: S608
    [row] = await ChangeCounter.raw(f"SELECT {columns}")
    return {t: int(row[t] or 0) for t in tables}


async def changed_rows(tables: Sequence[str], since: int) -> int:
    """How many rows of the tables changed after ``since``, whoever sees them (an upper bound of any scope's)."""
    columns = " + ".join(f"(SELECT COUNT(*) FROM {t} WHERE sync_version > {{}})" for t in tables)  # noqa: S608
    [row] = await ChangeCounter.raw(f"SELECT {columns} AS n", *([since] * len(tables)))
    return int(row["n"] or 0)


async def snapshot(actor: Actor, windows: Windows) -> dict[str, list[Any]]:
    """Every kind's rows in scope and window."""
    return {source.kind: await source.snapshot(actor, windows) for source in SOURCES}


async def changes(
    actor: Actor,
    since: int,
    moved: Sequence[uuid.UUID],
    old: Windows | None,
    windows: Windows,
    *,
    newest: dict[str, int] | None = None,
) -> tuple[dict[str, list[Any]], dict[str, list[uuid.UUID]]]:
    """Every kind's upserts and deletes since a version: changed rows, moved accounts' rows, the windows' shift.

    ``newest`` (from ``newest_versions``, read in the same snapshot) spares asking kinds with nothing newer.
    """
    upserts: dict[str, list[Any]] = {}
    deletes: dict[str, list[uuid.UUID]] = {}
    newest = newest if newest is not None else await newest_versions()
    for source in SOURCES:
        parts = [await source.changes_since(actor, since, windows)] if newest[source.table] > since else []
        if moved and source.follow is not None:
            parts.append(await source.follow(actor, moved, windows))
        if old is not None and old.today != windows.today and source.shift is not None:
            parts.append(await source.shift(actor, old, windows))
        rows: dict[Any, Any] = {}
        gone: set[uuid.UUID] = set()
        for live, dead in parts:
            gone.update(dead)
            for row in live:
                rows[row.id] = row
        # A row both upserted and deleted in one answer (e.g. it changed, then its account moved away): delete wins.
        upserts[source.kind] = [r for key, r in rows.items() if key not in gone]
        deletes[source.kind] = sorted(gone, key=str)
    return upserts, deletes
