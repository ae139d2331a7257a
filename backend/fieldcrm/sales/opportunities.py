"""Opportunities: configurable stages, offline merges with guarded fields, the pipeline."""

import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from fieldcrm.accounts import services as accounts
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, required, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound
from fieldcrm.lib.locking import lock_row
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.sales.money import round_half_up
from fieldcrm.sales.schemas import (
    Opportunity,
    OpportunityCreate,
    OpportunityPage,
    OpportunityPatch,
    Pipeline,
    PipelineStage,
    Stage,
    StagePut,
)
from fieldcrm.sales.scoping import account_in_scope, owned_under, through_account
from fieldcrm.sales.tables import Opportunity as OppRow
from fieldcrm.sales.tables import OpportunityStage as StageRow
from fieldcrm.sales.tables import Product as ProductRow

# Guarded fields: a stale edit does not overwrite them; it comes back as a conflict. field -> its version column.
GUARDED: dict[str, Any] = {
    "stage": OppRow.stage_version,
    "amount_cents": OppRow.amount_version,
    "expected_close": OppRow.close_version,
}
_CAMEL = {"stage": "stage", "amount_cents": "amountCents", "expected_close": "expectedClose"}

COLUMNS = (
    *OppRow.all_columns(),
    OppRow.account.name.as_alias("account_name"),
    OppRow.owner.display_name.as_alias("owner_name"),
)


def _ids(value: Any) -> list[uuid.UUID]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [as_uuid(v) for v in value or []]


def opportunity_out(row: Mapping[str, Any]) -> Opportunity:
    """An opportunity row (selected with COLUMNS) as its API shape."""
    return Opportunity(
        id=row["id"],
        account_id=row["account"],
        account_name=row["account_name"],
        owner_id=row["owner"],
        owner_name=row["owner_name"],
        name=row["name"],
        stage=row["stage"],
        probability=row["probability"],
        amount_cents=row["amount_cents"],
        weighted_cents=round_half_up(row["amount_cents"] * row["probability"], 100),
        expected_close=row["expected_close"],
        product_ids=_ids(row["product_ids"]),
        competitor=row["competitor"],
        next_step=row["next_step"],
        lost_reason=row["lost_reason"],
        closed_at=row["closed_at"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- stages


# The stages in force while HQ has defined none (HQ's first change writes them all to the table).
DEFAULT_STAGES: tuple[dict[str, Any], ...] = tuple(
    {"key": k, "name": n, "name_zh": z, "position": p, "probability": pr, "kind": kind}
    for k, n, z, p, pr, kind in (
        ("lead", "Lead", "线索", 10, 10, "open"),
        ("qualified", "Qualified", "已确认需求", 20, 25, "open"),
        ("proposal", "Proposal", "方案报价", 30, 50, "open"),
        ("negotiation", "Negotiation", "商务谈判", 40, 75, "open"),
        ("won", "Won", "赢单", 50, 100, "won"),
        ("lost", "Lost", "丢单", 60, 0, "lost"),
    )
)


async def stages() -> list[dict[str, Any]]:
    """The stages in order: HQ's, or the defaults while there are none."""
    rows = await StageRow.select().order_by(StageRow.position).order_by(StageRow.key)
    return list(rows) or [dict(s) for s in DEFAULT_STAGES]


def _stage_out(row: Mapping[str, Any]) -> Stage:
    return Stage(
        key=row["key"],
        name=row["name"],
        name_zh=row["name_zh"],
        position=row["position"],
        probability=row["probability"],
        kind=row["kind"],
    )


async def list_stages(*, actor: Actor) -> list[Stage]:
    """The funnel's stages in order."""
    scope.require(actor, "sales.read")
    return [_stage_out(r) for r in await stages()]


async def put_stage(*, actor: Actor, key: str, data: StagePut) -> Stage:
    """Create or change a stage (HQ). Existing opportunities keep the probability they have."""
    scope.require(actor, "stages.manage")
    async with write_transaction():
        if not await StageRow.exists():
            await StageRow.insert(*(StageRow(**s) for s in DEFAULT_STAGES))  # HQ's first change keeps the rest
        fields: dict[str, Any] = {
            "name": data.name,
            "name_zh": data.name_zh,
            "position": data.position,
            "probability": data.probability,
            "kind": data.kind,
            "updated_at": utcnow(),
        }
        if await StageRow.exists().where(StageRow.key == key):
            await StageRow.update({getattr(StageRow, k): v for k, v in fields.items()}).where(StageRow.key == key)
        else:
            await StageRow.insert(StageRow(key=key, **fields))
        row = required(await StageRow.select().where(StageRow.key == key).first())
    return _stage_out(row)


async def _stage(key: str) -> dict[str, Any]:
    known = await stages()
    row = next((s for s in known if s["key"] == key), None)
    if row is None:
        msg = f"there is no stage {key!r}; the stages are: {', '.join(s['key'] for s in known)}"
        raise InvalidInput(msg, field="stage")
    return row


# ---------------------------------------------------------------- reads


async def _row(actor: Actor, opportunity_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await OppRow.select(*COLUMNS)
        .where(OppRow.id == opportunity_id, OppRow.deleted_at.is_null(), *through_account(actor, OppRow.account))
        .first()
    )
    if row is None:
        msg = f"opportunity {opportunity_id} not found"
        raise NotFound(msg)
    return row


async def get_opportunity(*, actor: Actor, opportunity_id: uuid.UUID) -> Opportunity:
    """One opportunity on an account the actor sees."""
    scope.require(actor, "sales.read")
    return opportunity_out(await _row(actor, opportunity_id))


async def list_opportunities(
    *,
    actor: Actor,
    page: PageParams,
    account_id: uuid.UUID | None = None,
    stage: str | None = None,
    owner_id: uuid.UUID | None = None,
    org_unit_id: uuid.UUID | None = None,
    open_only: bool = False,
) -> OpportunityPage:
    """Opportunities in scope, soonest expected close first."""
    scope.require(actor, "sales.read")
    where = [OppRow.deleted_at.is_null(), *through_account(actor, OppRow.account)]
    where += owned_under(OppRow.account, owner_id=owner_id, unit_path=await accounts.unit_path(org_unit_id))
    if account_id is not None:
        where.append(OppRow.account == account_id)
    if stage:
        where.append(OppRow.stage == stage)
    if open_only:
        where.append(OppRow.closed_at.is_null())
    query = OppRow.select(*COLUMNS).where(*where).order_by(OppRow.expected_close).order_by(OppRow.id)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await OppRow.count().where(*where)
    return OpportunityPage(items=[opportunity_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def pipeline(
    *, actor: Actor, owner_id: uuid.UUID | None = None, org_unit_id: uuid.UUID | None = None
) -> Pipeline:
    """Count, amount and probability-weighted amount by stage, for what the actor sees (a rep, a team, a region)."""
    scope.require(actor, "sales.read")
    where = [OppRow.deleted_at.is_null(), *through_account(actor, OppRow.account)]
    where += owned_under(OppRow.account, owner_id=owner_id, unit_path=await accounts.unit_path(org_unit_id))
    rows = await (
        OppRow.select(OppRow.stage, OppRow.probability, Count(alias="n"), Sum(OppRow.amount_cents, alias="amount"))
        .where(*where)
        .group_by(OppRow.stage, OppRow.probability)
    )
    funnel = await stages()
    by_stage: dict[str, list[int]] = {s["key"]: [0, 0, 0] for s in funnel}
    for r in rows:
        amount = int(r["amount"] or 0)
        # Weighted per (stage, probability) group, so rounding happens once per group, not once per opportunity.
        totals = by_stage.setdefault(r["stage"], [0, 0, 0])
        totals[0] += int(r["n"])
        totals[1] += amount
        totals[2] += round_half_up(amount * int(r["probability"]), 100)
    kinds = {s["key"]: s for s in funnel}
    items = [
        PipelineStage(
            stage=key,
            name=kinds[key]["name"] if key in kinds else key,
            kind=kinds[key]["kind"] if key in kinds else "open",
            count=n,
            amount_cents=amount,
            weighted_cents=weighted,
        )
        for key, (n, amount, weighted) in by_stage.items()
    ]
    open_items = [i for i in items if i.kind == "open"]
    return Pipeline(
        stages=items,
        open_count=sum(i.count for i in open_items),
        open_amount_cents=sum(i.amount_cents for i in open_items),
        open_weighted_cents=sum(i.weighted_cents for i in open_items),
    )


# ---------------------------------------------------------------- writes


async def _check_products(product_ids: list[uuid.UUID]) -> str:
    unique = list(dict.fromkeys(product_ids))
    if unique:
        found = {as_uuid(r["id"]) for r in await ProductRow.select(ProductRow.id).where(ProductRow.id.is_in(unique))}
        if missing := [str(p) for p in unique if p not in found]:
            msg = f"no such product: {', '.join(missing)}"
            raise InvalidInput(msg, field="productIds")
    return json.dumps([str(p) for p in unique])


def _require_lost_reason(stage: Mapping[str, Any], lost_reason: str) -> None:
    if stage["kind"] == "lost" and not lost_reason.strip():
        msg = f"say why the opportunity was lost (lostReason) to move it to {stage['name']}"
        raise InvalidInput(msg, field="lostReason")


async def _check_owner(actor: Actor, owner_id: uuid.UUID) -> None:
    query = User.select(User.id).where(User.id == owner_id, User.is_active.eq(True))
    if (limit := scope.user_filter(actor)) is not None:
        query = query.where(limit)
    if not await query.first():
        msg = f"owner {owner_id} is not an active person in your part of the org tree"
        raise InvalidInput(msg, field="ownerId")


async def create_opportunity(*, actor: Actor, data: OpportunityCreate) -> Opportunity:
    """Open an opportunity on an account the actor sees (the owner defaults to the account's owner)."""
    scope.require(actor, "opportunities.write")
    opportunity_id = data.id or new_id()
    async with write_transaction():
        account = await account_in_scope(actor, data.account_id)
        owner_id = data.owner_id or account["owner"]
        if data.owner_id and data.owner_id != actor.id:
            await _check_owner(actor, data.owner_id)
        stage = await _stage(data.stage)
        _require_lost_reason(stage, data.lost_reason)
        if await OppRow.exists().where(OppRow.id == opportunity_id):
            msg = f"opportunity {opportunity_id} already exists"
            raise Conflict(msg)
        await OppRow.insert(
            OppRow(
                id=opportunity_id,
                account=data.account_id,
                owner=owner_id,
                name=data.name,
                stage=data.stage,
                probability=stage["probability"] if data.probability is None else data.probability,
                amount_cents=data.amount_cents,
                expected_close=data.expected_close,
                product_ids=await _check_products(data.product_ids),
                competitor=data.competitor,
                next_step=data.next_step,
                lost_reason=data.lost_reason,
                closed_at=utcnow() if stage["kind"] != "open" else None,
            )
        )
        row = required(await OppRow.select(*COLUMNS).where(OppRow.id == opportunity_id).first())
        await audit.record(
            actor=actor,
            entity="opportunity",
            entity_id=opportunity_id,
            account_id=data.account_id,
            action="create",
            after=_audited(row),
        )
    return opportunity_out(row)


def _audited(row: Mapping[str, Any]) -> dict[str, Any]:
    skip = {"account_name", "owner_name", "stage_version", "amount_version", "close_version"}
    return {k: v for k, v in row.items() if k not in skip}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _stale_guarded(before: Mapping[str, Any], changes: dict[str, Any], base: int | None) -> dict[str, Any]:
    """Take out of ``changes`` the guarded fields the server moved since ``base``; return them as conflicts."""
    conflicts: dict[str, Any] = {}
    if base is None:
        return conflicts
    for field, version_column in GUARDED.items():
        if field in changes and before[version_column._meta.name] > base and changes[field] != before[field]:
            conflicts[_CAMEL[field]] = {"yours": _plain(changes.pop(field)), "server": _plain(before[field])}
    return conflicts


async def merge_opportunity(
    *, actor: Actor, opportunity_id: uuid.UUID, data: OpportunityPatch, strict: bool = False
) -> tuple[Opportunity, dict[str, Any]]:
    """Apply an edit field by field; returns the opportunity and the conflicts ``{field: {yours, server}}``.

    Stage, amount and close date edited on a stale ``baseVersion`` are not applied when the server's value
    moved since that version; they come back as conflicts and everything else is merged. ``strict`` (REST)
    applies nothing when there is a conflict and raises 409 with the conflicts instead.
    """
    scope.require(actor, "opportunities.write")
    changes = changed_fields(data)
    base = changes.pop("base_version", None)
    async with write_transaction():
        await lock_row(OppRow, opportunity_id)
        before = await _row(actor, opportunity_id)
        conflicts = _stale_guarded(before, changes, base)
        if conflicts and strict:
            fields = ", ".join(conflicts)
            msg = f"someone changed {fields} after version {base}; reload the opportunity and decide again"
            raise Conflict(msg, extra={"conflicts": conflicts, "version": before["version"]})
        changes = {k: v for k, v in changes.items() if k == "product_ids" or before[k] != v}
        if "product_ids" in changes:
            encoded = await _check_products(changes["product_ids"])
            if _ids(before["product_ids"]) == _ids(encoded):
                del changes["product_ids"]
            else:
                changes["product_ids"] = encoded
        if not changes:
            return opportunity_out(before), conflicts
        stage = await _stage(changes.get("stage", before["stage"]))
        if "stage" in changes:
            if "probability" not in changes:
                changes["probability"] = stage["probability"]
            _require_lost_reason(stage, changes.get("lost_reason", before["lost_reason"]))
            changes["closed_at"] = None if stage["kind"] == "open" else utcnow()
        elif "lost_reason" in changes:
            _require_lost_reason(stage, changes["lost_reason"])
        new_version = before["version"] + 1
        values: dict[Any, Any] = {getattr(OppRow, k): v for k, v in changes.items()}
        for field, version_column in GUARDED.items():
            if field in changes:
                values[version_column] = new_version
        values[OppRow.version] = new_version
        values[OppRow.updated_at] = utcnow()
        await OppRow.update(values).where(OppRow.id == opportunity_id)
        after = required(await OppRow.select(*COLUMNS).where(OppRow.id == opportunity_id).first())
        await audit.record(
            actor=actor,
            entity="opportunity",
            entity_id=opportunity_id,
            account_id=after["account"],
            action="update",
            before=_audited(before),
            after=_audited(after),
        )
    return opportunity_out(after), conflicts


async def update_opportunity(*, actor: Actor, opportunity_id: uuid.UUID, data: OpportunityPatch) -> Opportunity:
    """Change an opportunity; a stale ``baseVersion`` on stage, amount or close date answers 409 with the conflicts."""
    result, _ = await merge_opportunity(actor=actor, opportunity_id=opportunity_id, data=data, strict=True)
    return result


async def won_opportunity(*, actor: Actor, opportunity_id: uuid.UUID) -> dict[str, Any]:
    """The opportunity if the actor sees it and it is won (a delivery project may start from it); 409 otherwise."""
    row = await _row(actor, opportunity_id)
    stage = next((s for s in await stages() if s["key"] == row["stage"]), None)
    if stage is None or stage["kind"] != "won":
        msg = f"opportunity {row['name']} is at stage {row['stage']}, not won; win it before starting delivery"
        raise Conflict(msg, field="opportunityId")
    return row
