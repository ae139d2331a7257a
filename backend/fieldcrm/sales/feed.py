"""What devices sync of selling: opportunities and quotes (with lines and approval history), in the actor's scope.

The sync layer calls these inside its read snapshot (docs/sync.md). Both are scoped through their
account's owner, so they follow a reassigned account. The window: everything open, and what closed
after ``closed_after`` (an opportunity by its ``closedAt``, a quote in a final state by its last change).
Each function answers rows to upsert and ids to delete on the device.
"""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from fieldcrm.lib.structs import BaseStruct
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import opportunities, quotes
from fieldcrm.sales.schemas import Opportunity, Quote
from fieldcrm.sales.tables import Opportunity as OppRow
from fieldcrm.sales.tables import Quote as QuoteRow
from fieldcrm.sales.tables import QuoteLine as LineRow
from fieldcrm.workflow.tables import WorkflowDecision, WorkflowInstance, WorkflowStep

Changes = tuple[list[Any], list[uuid.UUID]]

# A quote in one of these states is still being worked on and always syncs; the others age out.
OPEN_QUOTE_STATES = ("draft", "submitted", "returned", "approved", "sent")


class ApprovalDecision(BaseStruct):
    """One decision on an approval step."""

    decision: str
    comment: str
    actor_name: str
    on_behalf_of_name: str | None
    at: datetime.datetime


class ApprovalStep(BaseStruct):
    """A step of an approval round: who had to decide, what happened."""

    id: uuid.UUID
    name: str
    label: str
    stage: int
    status: str
    due_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    decisions: list[ApprovalDecision]


class ApprovalRound(BaseStruct):
    """One run of the approval chain (a quote submitted twice has two)."""

    id: uuid.UUID
    status: str
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    steps: list[ApprovalStep]


class SyncedQuote(Quote, kw_only=True):
    """A quote as a device keeps it: the quote with its lines, and its approval history (oldest round first)."""

    approvals: list[ApprovalRound]


# ---------------------------------------------------------------- opportunities


def _in_scope(actor: Actor, account_column: Any) -> list[Any]:
    limit = scope.owner_filter(actor, account_column.owner)
    return [] if limit is None else [limit]


OPP_COLUMNS = (*opportunities.COLUMNS, OppRow.account.deleted_at.as_alias("account_deleted"))


def _opp_window(closed_after: datetime.datetime) -> Any:
    return OppRow.closed_at.is_null() | (OppRow.closed_at >= closed_after)


def _split_opps(rows: Sequence[dict[str, Any]], closed_after: datetime.datetime) -> Changes:
    live: list[Opportunity] = []
    gone: list[uuid.UUID] = []
    for row in rows:
        closed = row["closed_at"]
        in_window = closed is None or closed >= closed_after
        if row["deleted_at"] is None and row["account_deleted"] is None and in_window:
            live.append(opportunities.opportunity_out(row))
        else:
            gone.append(row["id"])
    return live, gone


async def opportunities_snapshot(*, actor: Actor, closed_after: datetime.datetime) -> list[Opportunity]:
    """Open opportunities in scope, and those closed after ``closed_after``."""
    rows = await OppRow.select(*OPP_COLUMNS).where(
        OppRow.deleted_at.is_null(),
        OppRow.account.deleted_at.is_null(),
        _opp_window(closed_after),
        *_in_scope(actor, OppRow.account),
    )
    return [opportunities.opportunity_out(r) for r in rows]


async def opportunities_changes_since(*, actor: Actor, since: int, closed_after: datetime.datetime) -> Changes:
    """Opportunities in scope written after ``since``; deleted ones and those closed too long ago are deletes."""
    rows = await OppRow.select(*OPP_COLUMNS).where(OppRow.sync_version > since, *_in_scope(actor, OppRow.account))
    return _split_opps(rows, closed_after)


async def opportunities_follow(
    *, actor: Actor, account_ids: Sequence[uuid.UUID], closed_after: datetime.datetime
) -> Changes:
    """Opportunities of accounts whose owner moved: upserts where the actor now sees the account, else deletes."""
    ids = list(account_ids)
    rows = await OppRow.select(*OPP_COLUMNS).where(OppRow.account.is_in(ids))
    visible = {
        r["id"]
        for r in await OppRow.select(OppRow.id).where(OppRow.account.is_in(ids), *_in_scope(actor, OppRow.account))
    }
    live, gone = _split_opps([r for r in rows if r["id"] in visible], closed_after)
    return live, [*gone, *(r["id"] for r in rows if r["id"] not in visible)]


async def opportunities_shift(
    *, actor: Actor, old_closed_after: datetime.datetime, closed_after: datetime.datetime
) -> Changes:
    """Opportunities that aged out of the window since the last pull."""
    if closed_after <= old_closed_after:
        return [], []
    rows = await OppRow.select(OppRow.id).where(
        OppRow.closed_at >= old_closed_after, OppRow.closed_at < closed_after, *_in_scope(actor, OppRow.account)
    )
    return [], [r["id"] for r in rows]


# ---------------------------------------------------------------- quotes


QUOTE_COLUMNS = (*quotes.COLUMNS, QuoteRow.account.deleted_at.as_alias("account_deleted"))


def _quote_window(closed_after: datetime.datetime) -> Any:
    return QuoteRow.state.is_in(list(OPEN_QUOTE_STATES)) | (QuoteRow.updated_at >= closed_after)


async def _approvals(quote_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ApprovalRound]]:
    """The approval rounds of the quotes, read from the workflow engine's tables."""
    if not quote_ids:
        return {}
    instances = await (
        WorkflowInstance.select(
            WorkflowInstance.id,
            WorkflowInstance.subject_id,
            WorkflowInstance.status,
            WorkflowInstance.started_at,
            WorkflowInstance.ended_at,
        )
        .where(WorkflowInstance.subject_kind == "quote", WorkflowInstance.subject_id.is_in(list(quote_ids)))
        .order_by(WorkflowInstance.started_at)
    )
    if not instances:
        return {}
    instance_ids = [r["id"] for r in instances]
    steps = await (
        WorkflowStep.select(
            WorkflowStep.id,
            WorkflowStep.instance,
            WorkflowStep.name,
            WorkflowStep.label,
            WorkflowStep.stage,
            WorkflowStep.status,
            WorkflowStep.due_at,
            WorkflowStep.completed_at,
        )
        .where(WorkflowStep.instance.is_in(instance_ids))
        .order_by(WorkflowStep.stage)
        .order_by(WorkflowStep.activated_at)
    )
    decisions = await (
        WorkflowDecision.select(
            WorkflowDecision.step,
            WorkflowDecision.decision,
            WorkflowDecision.comment,
            WorkflowDecision.actor_name,
            WorkflowDecision.on_behalf_of_name,
            WorkflowDecision.at,
        )
        .where(WorkflowDecision.step.instance.is_in(instance_ids))
        .order_by(WorkflowDecision.at)
    )
    decisions_of: dict[Any, list[ApprovalDecision]] = {}
    for d in decisions:
        decisions_of.setdefault(str(d["step"]), []).append(
            ApprovalDecision(
                decision=d["decision"],
                comment=d["comment"],
                actor_name=d["actor_name"],
                on_behalf_of_name=d["on_behalf_of_name"],
                at=d["at"],
            )
        )
    steps_of: dict[str, list[ApprovalStep]] = {}
    for s in steps:
        steps_of.setdefault(str(s["instance"]), []).append(
            ApprovalStep(
                id=s["id"],
                name=s["name"],
                label=s["label"] or s["name"],
                stage=s["stage"],
                status=s["status"],
                due_at=s["due_at"],
                completed_at=s["completed_at"],
                decisions=decisions_of.get(str(s["id"]), []),
            )
        )
    rounds: dict[uuid.UUID, list[ApprovalRound]] = {}
    for i in instances:
        rounds.setdefault(uuid.UUID(str(i["subject_id"])), []).append(
            ApprovalRound(
                id=i["id"],
                status=i["status"],
                started_at=i["started_at"],
                ended_at=i["ended_at"],
                steps=steps_of.get(str(i["id"]), []),
            )
        )
    return rounds


async def _synced(rows: Sequence[dict[str, Any]]) -> list[SyncedQuote]:
    """Quote rows with their lines and approval history, in three queries whatever their number."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    lines_of: dict[str, list[dict[str, Any]]] = {}
    for line in await LineRow.select().where(LineRow.quote.is_in(ids)).order_by(LineRow.position):
        lines_of.setdefault(str(line["quote"]), []).append(line)
    approvals = await _approvals(ids)
    out = []
    for row in rows:
        quote = quotes.quote_out(row, lines_of.get(str(row["id"]), []))
        fields = {f: getattr(quote, f) for f in Quote.__struct_fields__}
        out.append(SyncedQuote(**fields, approvals=approvals.get(uuid.UUID(str(row["id"])), [])))
    return out


async def _split_quotes(rows: Sequence[dict[str, Any]], closed_after: datetime.datetime) -> Changes:
    keep: list[dict[str, Any]] = []
    gone: list[uuid.UUID] = []
    for row in rows:
        in_window = row["state"] in OPEN_QUOTE_STATES or row["updated_at"] >= closed_after
        if row["account_deleted"] is None and in_window:
            keep.append(row)
        else:
            gone.append(row["id"])
    return await _synced(keep), gone


async def quotes_snapshot(*, actor: Actor, closed_after: datetime.datetime) -> list[SyncedQuote]:
    """Quotes in scope still being worked on, and those that reached a final state after ``closed_after``."""
    rows = await QuoteRow.select(*QUOTE_COLUMNS).where(
        QuoteRow.account.deleted_at.is_null(), _quote_window(closed_after), *_in_scope(actor, QuoteRow.account)
    )
    return await _synced(rows)


async def quotes_changes_since(*, actor: Actor, since: int, closed_after: datetime.datetime) -> Changes:
    """Quotes in scope written after ``since`` (their lines, state or approval history changed)."""
    rows = await QuoteRow.select(*QUOTE_COLUMNS).where(
        QuoteRow.sync_version > since, *_in_scope(actor, QuoteRow.account)
    )
    return await _split_quotes(rows, closed_after)


async def quotes_follow(*, actor: Actor, account_ids: Sequence[uuid.UUID], closed_after: datetime.datetime) -> Changes:
    """Quotes of accounts whose owner moved: upserts where the actor now sees the account, else deletes."""
    ids = list(account_ids)
    rows = await QuoteRow.select(*QUOTE_COLUMNS).where(QuoteRow.account.is_in(ids))
    visible = {
        r["id"]
        for r in await QuoteRow.select(QuoteRow.id).where(
            QuoteRow.account.is_in(ids), *_in_scope(actor, QuoteRow.account)
        )
    }
    live, gone = await _split_quotes([r for r in rows if r["id"] in visible], closed_after)
    return live, [*gone, *(r["id"] for r in rows if r["id"] not in visible)]


async def quotes_shift(
    *, actor: Actor, old_closed_after: datetime.datetime, closed_after: datetime.datetime
) -> Changes:
    """Final quotes that aged out of the window since the last pull."""
    if closed_after <= old_closed_after:
        return [], []
    rows = await QuoteRow.select(QuoteRow.id).where(
        QuoteRow.state.not_in(list(OPEN_QUOTE_STATES)),
        QuoteRow.updated_at >= old_closed_after,
        QuoteRow.updated_at < closed_after,
        *_in_scope(actor, QuoteRow.account),
    )
    return [], [r["id"] for r in rows]
