"""The strategy knowledge base: versioned strategies HQ edits, and matching an account to the best one.

A strategy applies when every condition holds; the best match is the one with the highest priority
(ties: the older strategy first). Saving a strategy writes a new version; episodes keep the version they
were opened with.
"""

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_date, as_uuid, write_transaction
from fieldcrm.lib.errors import InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.retention.schemas import Strategy, StrategyAction, StrategyConditions, StrategyInput, StrategyPage
from fieldcrm.retention.tables import Strategy as StrategyRow


def strategy_out(row: Mapping[str, Any]) -> Strategy:
    """A strategy row as its API shape."""
    return Strategy(
        id=as_uuid(row["id"]),
        strategy_id=as_uuid(row["strategy_id"]),
        version=row["version"],
        name=row["name"],
        advice=row["advice"],
        conditions=msgspec.json.decode(row["conditions"], type=StrategyConditions),
        actions=msgspec.json.decode(row["actions"], type=list[StrategyAction]),
        priority=row["priority"],
        retired=bool(row["retired"]),
        created_at=row["created_at"],
    )


def _validate(data: StrategyInput) -> None:
    c = data.conditions
    if (
        c.min_revenue_cents is not None
        and c.max_revenue_cents is not None
        and c.min_revenue_cents > c.max_revenue_cents
    ):
        msg = "conditions.minRevenueCents must not be above conditions.maxRevenueCents"
        raise InvalidInput(msg, field="conditions.minRevenueCents")
    for index, action in enumerate(data.actions):
        try:
            action.title.format(account="x")
        except (KeyError, IndexError, ValueError) as exc:
            msg = f"actions[{index}].title may use only {{account}} as a placeholder"
            raise InvalidInput(msg, field=f"actions[{index}].title") from exc


async def current_versions(*, include_retired: bool = True) -> list[Strategy]:
    """The newest version of every strategy (one statement)."""
    rows = await StrategyRow.raw(
        "SELECT s.* FROM retention_strategies s WHERE s.version = "
        "(SELECT MAX(t.version) FROM retention_strategies t WHERE t.strategy_id = s.strategy_id) "
        "ORDER BY s.priority DESC, s.created_at, s.id"
    )
    out = [strategy_out(r) for r in rows]
    return out if include_retired else [s for s in out if not s.retired]


async def list_strategies(*, actor: Actor, page: PageParams) -> StrategyPage:
    """Strategies in force, highest priority first (everyone who reads risks may read the advice)."""
    scope.require(actor, "retention.read")
    items = await current_versions()
    return StrategyPage(
        items=items[page.offset : page.offset + page.limit], total=len(items), next_cursor=page.next_cursor(len(items))
    )


async def _save(actor: Actor, data: StrategyInput, strategy_id: uuid.UUID, version: int) -> Strategy:
    row_id = new_id()
    await StrategyRow.insert(
        StrategyRow(
            id=row_id,
            strategy_id=strategy_id,
            version=version,
            name=data.name,
            advice=data.advice,
            conditions=msgspec.json.encode(data.conditions).decode(),
            actions=msgspec.json.encode(data.actions).decode(),
            priority=data.priority,
            retired=int(data.retired),
            created_by=actor.id,
            created_at=utcnow(),
        )
    )
    await audit.record(
        actor=actor,
        entity="retention_strategy",
        entity_id=strategy_id,
        action="create" if version == 1 else "update",
        changes={
            "version": [version - 1 or None, version],
            "name": [None, data.name],
            "priority": [None, data.priority],
        },
    )
    row = await StrategyRow.select().where(StrategyRow.id == row_id).first()
    assert row is not None  # noqa: S101 - just written
    return strategy_out(row)


async def create_strategy(*, actor: Actor, data: StrategyInput) -> Strategy:
    """A new strategy, version 1 (HQ)."""
    scope.require(actor, "retention.manage")
    _validate(data)
    async with write_transaction():
        return await _save(actor, data, new_id(), 1)


async def update_strategy(*, actor: Actor, strategy_id: uuid.UUID, data: StrategyInput) -> Strategy:
    """A new version of a strategy (HQ); open episodes keep the version they have."""
    scope.require(actor, "retention.manage")
    _validate(data)
    async with write_transaction():
        latest = await (
            StrategyRow.select(StrategyRow.version)
            .where(StrategyRow.strategy_id == strategy_id)
            .order_by(StrategyRow.version, ascending=False)
            .first()
        )
        if latest is None:
            msg = f"strategy {strategy_id} not found"
            raise NotFound(msg)
        return await _save(actor, data, strategy_id, latest["version"] + 1)


def matches(strategy: Strategy, facts: Mapping[str, Any]) -> bool:
    """Whether every condition of the strategy holds for an account's facts.

    ``facts``: tier, industry, revenue_12m_cents, reasons (a set of codes), band, ends_on (a date or None), today.
    """
    c = strategy.conditions
    ends: datetime.date | None = facts["ends_on"]
    revenue = facts["revenue_12m_cents"]
    checks = (
        not c.tiers or facts["tier"] in c.tiers,
        not c.industries or facts["industry"] in c.industries,
        not c.reasons or set(c.reasons) <= facts["reasons"],
        not c.bands or facts["band"] in c.bands,
        c.contract_end_within_days is None
        or (ends is not None and (ends - facts["today"]).days <= c.contract_end_within_days),
        c.min_revenue_cents is None or revenue >= c.min_revenue_cents,
        c.max_revenue_cents is None or revenue <= c.max_revenue_cents,
    )
    return all(checks)


def best_match(strategies: list[Strategy], facts: Mapping[str, Any]) -> Strategy | None:
    """The highest-priority strategy (not retired) whose conditions all hold; ``strategies`` come best first."""
    for strategy in strategies:
        if not strategy.retired and matches(strategy, facts):
            return strategy
    return None


def facts_of(row: Mapping[str, Any], today: datetime.date) -> dict[str, Any]:
    """An account's facts for matching, from a risk row joined with its account."""
    ends = [as_date(d) for d in (row.get("holding_end_on"), row.get("contract_end_on")) if d is not None]
    return {
        "tier": row["tier"],
        "industry": row["industry"],
        "revenue_12m_cents": int(row["revenue_12m_cents"] or 0),
        "reasons": {code for code in (row["reasons"] or "").split(",") if code},
        "band": row["band"],
        "ends_on": min(ends) if ends else None,
        "today": today,
    }


def strategy_out_actions(actions_json: str) -> list[StrategyAction]:
    """A strategy version's actions from their stored JSON."""
    return msgspec.json.decode(actions_json, type=list[StrategyAction])
