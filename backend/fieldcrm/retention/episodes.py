"""Retention episodes: opened when an account enters the high band (or by a leader), matched, turned into tasks, closed.

``run`` is idempotent and safe to run concurrently: an account has at most one episode not yet closed (a
partial unique index; the insert does nothing on conflict), the strategy is attached only where none is,
and each action's task is made through ``tasks.services.create_task`` with source ``retention`` and key
``{episode_id}:{action_index}``, so a second run returns the task already made. docs/retention.md says more.
"""

import datetime
import math
import statistics
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from fieldcrm.accounts import services as accounts
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, is_unique_violation, read_transaction, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org import services as org
from fieldcrm.org.schemas import Actor
from fieldcrm.retention import strategies
from fieldcrm.retention.schemas import (
    Episode,
    EpisodeClose,
    EpisodePage,
    EpisodeState,
    Outcomes,
    RunResult,
    StrategyOutcome,
)
from fieldcrm.retention.tables import Episode as EpisodeRow
from fieldcrm.retention.tables import Strategy as StrategyRow
from fieldcrm.tasks import services as tasks
from fieldcrm.tasks.schemas import TaskCreate

RETAINED_AFTER_DAYS = 60
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None without observations."""
    if n == 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


# ---------------------------------------------------------------- the run


async def _open_high(now: datetime.datetime) -> int:
    """Open an episode for every high-band account without one not yet closed (one statement per account)."""
    rows = await EpisodeRow.raw(
        "SELECT r.account, r.score, a.revenue_12m_cents FROM risk_scores r JOIN accounts a ON a.id = r.account "
        "WHERE r.band = 'high' AND a.deleted_at IS NULL AND a.status <> 'lost' AND NOT EXISTS "
        "(SELECT 1 FROM retention_episodes e WHERE e.account = r.account AND e.state <> 'closed')"
    )
    opened = 0
    for r in rows:
        async with write_transaction():
            result = await EpisodeRow.raw(
                "INSERT INTO retention_episodes (id, account, state, opened_reason, opened_at, score_at_open, "
                "revenue_at_open_cents) VALUES ({}, {}, 'open', 'high_band', {}, {}, {}) "
                "ON CONFLICT DO NOTHING RETURNING id",
                new_id(),
                as_uuid(r["account"]),
                now,
                r["score"],
                int(r["revenue_12m_cents"] or 0),
            )
            opened += len(result)
    return opened


_FACTS = (
    "SELECT e.id AS episode_id, a.id AS account_id, a.tier, a.industry, a.revenue_12m_cents, "
    "COALESCE(r.reasons, '') AS reasons, COALESCE(r.band, 'low') AS band, r.holding_end_on, r.contract_end_on "
    "FROM retention_episodes e JOIN accounts a ON a.id = e.account LEFT JOIN risk_scores r ON r.account = a.id "
)


async def _match(today: datetime.date) -> int:
    """Attach the best-matching strategy to open episodes that have none yet."""
    rows = await EpisodeRow.raw(_FACTS + "WHERE e.state = 'open' AND e.strategy IS NULL")
    if not rows:
        return 0
    candidates = await strategies.current_versions(include_retired=False)
    matched = 0
    for r in rows:
        best = strategies.best_match(candidates, strategies.facts_of(r, today))
        if best is None:
            continue
        async with write_transaction():
            done = await EpisodeRow.raw(
                "UPDATE retention_episodes SET strategy = {} WHERE id = {} AND strategy IS NULL RETURNING id",
                best.id,
                as_uuid(r["episode_id"]),
            )
            matched += len(done)
    return matched


async def _assignee(owner: uuid.UUID, who: str) -> uuid.UUID:
    if who == "account_manager":
        return owner
    leaders = await org.leaders_of(owner)
    wanted = "manager" if who == "manager" else "director"
    for leader in leaders:
        if leader["role"] == wanted:
            return as_uuid(leader["id"])
    return as_uuid(leaders[0]["id"]) if leaders else owner


async def _make_tasks(now: datetime.datetime) -> int:
    """Make the attached strategy's tasks for open episodes (idempotent per episode and action).

    Each task's reminder is due at once, so the tasks domain's reminder job pushes it to the assignee.
    """
    today = tasks.business_today(now)
    rows = await EpisodeRow.raw(
        "SELECT e.id, e.account, a.owner, a.name AS account_name, s.actions FROM retention_episodes e "
        "JOIN accounts a ON a.id = e.account JOIN retention_strategies s ON s.id = e.strategy "
        "WHERE e.state = 'open' AND e.tasks_created = 0"
    )
    made = 0
    for r in rows:
        episode_id = as_uuid(r["id"])
        actions = strategies.strategy_out_actions(r["actions"])
        for index, action in enumerate(actions):
            data = TaskCreate(
                title=action.title.format(account=r["account_name"])[:200],
                due_date=today + datetime.timedelta(days=action.due_in_days),
                account_id=as_uuid(r["account"]),
                assignee_id=await _assignee(as_uuid(r["owner"]), action.who),
                kind=action.kind,
                priority=action.priority,
                remind_at=now,
            )
            try:
                await tasks.create_task(actor=None, data=data, source="retention", source_key=f"{episode_id}:{index}")
            except Exception as exc:  # a concurrent run made this very task a moment ago
                if not is_unique_violation(exc):
                    raise
                continue
            made += 1
        async with write_transaction():
            await EpisodeRow.update({EpisodeRow.tasks_created: len(actions)}).where(EpisodeRow.id == episode_id)
    return made


async def _auto_close(now: datetime.datetime) -> tuple[int, int]:
    """Lost when the account went ``lost``; retained after 60 days in the low band (below watch)."""
    async with write_transaction():
        lost = await EpisodeRow.raw(
            "UPDATE retention_episodes SET state = 'closed', outcome = 'lost', closed_how = 'auto_lost', "
            "closed_at = {}, revenue_kept_cents = 0 WHERE state <> 'closed' AND account IN "
            "(SELECT id FROM accounts WHERE status = 'lost') RETURNING id, account",
            now,
        )
        retained = await EpisodeRow.raw(
            "UPDATE retention_episodes SET state = 'closed', outcome = 'retained', closed_how = 'auto_retained', "
            "closed_at = {}, revenue_kept_cents = revenue_at_open_cents WHERE state <> 'closed' AND account IN "
            "(SELECT account FROM risk_scores WHERE band = 'low' AND band_since <= {}) RETURNING id, account",
            now,
            now - datetime.timedelta(days=RETAINED_AFTER_DAYS),
        )
        for row, outcome in [*((x, "lost") for x in lost), *((x, "retained") for x in retained)]:
            await audit.record(
                actor=None,
                entity="retention_episode",
                entity_id=as_uuid(row["id"]),
                account_id=as_uuid(row["account"]),
                action="update",
                changes={"state": [None, "closed"], "outcome": [None, outcome]},
            )
    return len(lost), len(retained)


async def run(*, actor: Actor | None = None, now: datetime.datetime | None = None) -> RunResult:
    """Open episodes for high-band accounts, match strategies, make their tasks, close what closes by itself."""
    if actor is not None:
        scope.require(actor, "retention.manage")
    now = now or utcnow()
    today = tasks.business_today(now)
    closed_lost, closed_retained = await _auto_close(now)
    opened = await _open_high(now)
    matched = await _match(today)
    made = await _make_tasks(now)
    return RunResult(
        opened=opened, matched=matched, tasks=made, closed_lost=closed_lost, closed_retained=closed_retained
    )


# ---------------------------------------------------------------- reading and closing by hand

_SELECT = (
    "SELECT e.*, a.name AS account_name, a.owner AS owner_id FROM retention_episodes e "
    "JOIN accounts a ON a.id = e.account "
)


async def _strategies_by_id(ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    rows = await StrategyRow.select().where(StrategyRow.id.is_in(list(ids)))
    return {as_uuid(r["id"]): strategies.strategy_out(r) for r in rows}


def _out(row: Mapping[str, Any], by_id: Mapping[uuid.UUID, Any]) -> Episode:
    strategy = by_id.get(as_uuid(row["strategy"])) if row["strategy"] is not None else None
    return Episode(
        id=as_uuid(row["id"]),
        account_id=as_uuid(row["account"]),
        account_name=row["account_name"],
        owner_id=as_uuid(row["owner_id"]),
        state=row["state"],
        strategy=strategy,
        opened_reason=row["opened_reason"],
        opened_at=row["opened_at"],
        score_at_open=row["score_at_open"],
        revenue_at_open_cents=int(row["revenue_at_open_cents"]),
        tasks_created=row["tasks_created"],
        proposed_outcome=row["proposed_outcome"],
        proposed_revenue_kept_cents=row["proposed_revenue_kept_cents"],
        outcome=row["outcome"],
        revenue_kept_cents=int(row["revenue_kept_cents"]),
        closed_at=row["closed_at"],
        closed_how=row["closed_how"],
    )


async def list_episodes(
    *, actor: Actor, page: PageParams, state: EpisodeState | None = None, account_id: uuid.UUID | None = None
) -> EpisodePage:
    """Episodes of the accounts in the caller's scope, newest first."""
    scope.require(actor, "retention.read")
    scoped, args = scope.owner_sql(actor, "a.owner")
    where = ["a.deleted_at IS NULL", scoped]
    if state is not None:
        where.append("e.state = {}")
        args.append(state)
    if account_id is not None:
        where.append("e.account = {}")
        args.append(account_id)
    clause = " AND ".join(where)
    async with read_transaction():
        total_rows = await EpisodeRow.raw(
            f"SELECT COUNT(*) AS n FROM retention_episodes e JOIN accounts a ON a.id = e.account WHERE {clause}",  # noqa: S608
            *args,
        )
        rows = await EpisodeRow.raw(
            _SELECT + f"WHERE {clause} ORDER BY e.opened_at DESC, e.id LIMIT {{}} OFFSET {{}}",
            *args,
            page.limit,
            page.offset,
        )
        by_id = await _strategies_by_id({as_uuid(r["strategy"]) for r in rows if r["strategy"] is not None})
    total = total_rows[0]["n"] if total_rows else 0
    return EpisodePage(items=[_out(r, by_id) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def _visible_row(actor: Actor, episode_id: uuid.UUID) -> dict[str, Any]:
    scoped, args = scope.owner_sql(actor, "a.owner")
    rows = await EpisodeRow.raw(_SELECT + f"WHERE e.id = {{}} AND {scoped}", episode_id, *args)
    if not rows:
        msg = f"episode {episode_id} not found"
        raise NotFound(msg)
    row: dict[str, Any] = rows[0]
    return row


async def get_episode(*, actor: Actor, episode_id: uuid.UUID) -> Episode:
    """One episode in the caller's scope (404 otherwise)."""
    scope.require(actor, "retention.read")
    row = await _visible_row(actor, episode_id)
    by_id = await _strategies_by_id({as_uuid(row["strategy"])} if row["strategy"] is not None else set())
    return _out(row, by_id)


async def open_episode(*, actor: Actor, account_id: uuid.UUID, now: datetime.datetime | None = None) -> Episode:
    """A leader opens an episode by hand; matching and tasks follow at once."""
    scope.require(actor, "retention.open")
    await accounts.ensure_visible(actor=actor, account_id=account_id)
    now = now or utcnow()
    episode_id = new_id()
    async with write_transaction():
        risk = await EpisodeRow.raw(
            "SELECT COALESCE((SELECT score FROM risk_scores WHERE account = a.id), 0) AS score, a.revenue_12m_cents "
            "FROM accounts a WHERE a.id = {}",
            account_id,
        )
        inserted = await EpisodeRow.raw(
            "INSERT INTO retention_episodes (id, account, state, opened_reason, opened_by, opened_at, score_at_open, "
            "revenue_at_open_cents) VALUES ({}, {}, 'open', 'manual', {}, {}, {}, {}) ON CONFLICT DO NOTHING "
            "RETURNING id",
            episode_id,
            account_id,
            actor.id,
            now,
            risk[0]["score"],
            int(risk[0]["revenue_12m_cents"] or 0),
        )
        if not inserted:
            msg = "this account already has an open retention episode"
            raise Conflict(msg)
        await audit.record(
            actor=actor,
            entity="retention_episode",
            entity_id=episode_id,
            account_id=account_id,
            action="create",
            changes={"state": [None, "open"], "reason": [None, "manual"]},
        )
    today = tasks.business_today(now)
    await _match(today)
    await _make_tasks(now)
    return await get_episode(actor=actor, episode_id=episode_id)


async def close_episode(*, actor: Actor, episode_id: uuid.UUID, data: EpisodeClose) -> Episode:
    """The account manager proposes how it ended; a leader's proposal is its own confirmation."""
    scope.require(actor, "retention.read")
    row = await _visible_row(actor, episode_id)
    if row["state"] == "closed":
        msg = "this episode is already closed"
        raise Conflict(msg)
    if data.outcome == "partial" and data.revenue_kept_cents is None:
        msg = "a partial retention needs revenueKeptCents: the monthly revenue the account still brings"
        raise InvalidInput(msg, field="revenueKeptCents")
    kept = {"retained": int(row["revenue_at_open_cents"]), "lost": 0}.get(data.outcome, data.revenue_kept_cents or 0)
    if data.revenue_kept_cents is not None and data.outcome != "lost":
        kept = data.revenue_kept_cents
    async with write_transaction():
        await EpisodeRow.update(
            {
                EpisodeRow.state: "closing",
                EpisodeRow.proposed_outcome: data.outcome,
                EpisodeRow.proposed_revenue_kept_cents: kept,
                EpisodeRow.proposed_by: actor.id,
            }
        ).where(EpisodeRow.id == episode_id)
        await audit.record(
            actor=actor,
            entity="retention_episode",
            entity_id=episode_id,
            account_id=as_uuid(row["account"]),
            action="update",
            changes={"state": [row["state"], "closing"], "proposedOutcome": [None, data.outcome]},
        )
    if scope.can(actor, "retention.open"):
        return await confirm_episode(actor=actor, episode_id=episode_id)
    return await get_episode(actor=actor, episode_id=episode_id)


async def confirm_episode(*, actor: Actor, episode_id: uuid.UUID, now: datetime.datetime | None = None) -> Episode:
    """A leader confirms the proposed close: the episode is closed with that outcome."""
    scope.require(actor, "retention.open")
    row = await _visible_row(actor, episode_id)
    if row["state"] != "closing":
        msg = "only an episode whose close was proposed can be confirmed"
        raise Conflict(msg)
    async with write_transaction():
        await EpisodeRow.update(
            {
                EpisodeRow.state: "closed",
                EpisodeRow.outcome: row["proposed_outcome"],
                EpisodeRow.revenue_kept_cents: int(row["proposed_revenue_kept_cents"] or 0),
                EpisodeRow.closed_at: now or utcnow(),
                EpisodeRow.closed_how: "confirmed",
                EpisodeRow.confirmed_by: actor.id,
            }
        ).where(EpisodeRow.id == episode_id, EpisodeRow.state == "closing")
        await audit.record(
            actor=actor,
            entity="retention_episode",
            entity_id=episode_id,
            account_id=as_uuid(row["account"]),
            action="update",
            changes={"state": ["closing", "closed"], "outcome": [None, row["proposed_outcome"]]},
        )
    return await get_episode(actor=actor, episode_id=episode_id)


async def outcomes(*, actor: Actor) -> Outcomes:
    """How each strategy did over the episodes of the accounts in the caller's scope.

    Per strategy: episodes, closed, the retained share (retained or partial) with its 95% Wilson interval,
    revenue kept, the median days from opening to closing.
    """
    scope.require(actor, "retention.read")
    scoped, args = scope.owner_sql(actor, "a.owner")
    rows = await EpisodeRow.raw(
        "SELECT e.outcome, e.revenue_kept_cents, e.opened_at, e.closed_at, s.strategy_id, s.name "  # noqa: S608
        "FROM retention_episodes e JOIN accounts a ON a.id = e.account "
        f"LEFT JOIN retention_strategies s ON s.id = e.strategy WHERE {scoped}",
        *args,
    )
    groups: dict[uuid.UUID | None, list[Mapping[str, Any]]] = defaultdict(list)
    names: dict[uuid.UUID | None, str] = {}
    for r in rows:
        key = as_uuid(r["strategy_id"]) if r["strategy_id"] is not None else None
        groups[key].append(r)
        names.setdefault(key, r["name"] or "")
    items = []
    for key, group in groups.items():
        closed = [r for r in group if r["outcome"] is not None]
        kept = sum(1 for r in closed if r["outcome"] in {"retained", "partial"})
        interval = wilson(kept, len(closed))
        days = [(r["closed_at"] - r["opened_at"]).total_seconds() / 86400 for r in closed if r["closed_at"]]
        items.append(
            StrategyOutcome(
                strategy_id=key,
                name=names[key],
                episodes=len(group),
                closed=len(closed),
                retained=sum(1 for r in closed if r["outcome"] == "retained"),
                partial=sum(1 for r in closed if r["outcome"] == "partial"),
                lost=sum(1 for r in closed if r["outcome"] == "lost"),
                retained_share=round(kept / len(closed), 4) if closed else None,
                wilson_low=round(interval[0], 4) if interval else None,
                wilson_high=round(interval[1], 4) if interval else None,
                revenue_kept_cents=sum(int(r["revenue_kept_cents"]) for r in closed),
                median_days_to_close=round(statistics.median(days), 1) if days else None,
            )
        )
    items.sort(key=lambda o: (-o.episodes, o.name))
    return Outcomes(items=items)
