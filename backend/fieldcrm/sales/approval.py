"""Quotes on the workflow engine: the subject type the engine loads and tells, and start/cancel.

Routing facts (what the quote-approval definition's rules look at):

- ``discount_bp``: the depth that routes the quote. It is the quote's overall discount below list price
  (weighted by amount), raised to the depth of any single line that goes beyond its product's
  free-discount limit. So a deep discount on one product is not hidden by full-price lines around it,
  while lines within their product's limit only count through the overall figure.
- ``overall_discount_bp``, ``deepest_line_discount_bp``, ``excess_bp`` (how far the worst line is beyond its
  limit, 0 when every line is within), ``total_cents``, ``list_total_cents``, ``tier`` (the account's tier
  when submitted, "" when none).
"""

import uuid
from typing import Any

from fieldcrm.lib.db import required
from fieldcrm.lib.errors import NotFound
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import quotes
from fieldcrm.sales.money import line_amounts
from fieldcrm.sales.tables import Quote as QuoteRow
from fieldcrm.sales.tables import QuoteLine as LineRow
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.subjects import Outcome, SubjectInfo, register_subject

KIND = "quote"


async def facts_of(quote_id: uuid.UUID, row: dict[str, Any]) -> dict[str, Any]:
    """The routing facts of a quote (see the module docstring)."""
    lines = await LineRow.select(
        LineRow.quantity,
        LineRow.list_price_cents,
        LineRow.unit_price_cents,
        LineRow.discount_bp,
        LineRow.max_discount_bp,
    ).where(LineRow.quote == quote_id)
    deepest = 0
    beyond = 0
    excess = 0
    for line in lines:
        depth = line_amounts(
            quantity=line["quantity"],
            list_price_cents=line["list_price_cents"],
            unit_price_cents=line["unit_price_cents"],
            discount_bp=line["discount_bp"],
        ).depth_bp
        deepest = max(deepest, depth)
        if depth > line["max_discount_bp"]:
            beyond = max(beyond, depth)
            excess = max(excess, depth - line["max_discount_bp"])
    return {
        "discount_bp": max(row["discount_bp"], beyond),
        "overall_discount_bp": row["discount_bp"],
        "deepest_line_discount_bp": deepest,
        "excess_bp": excess,
        "total_cents": row["total_cents"],
        "list_total_cents": row["list_total_cents"],
        "tier": row["tier"] or "",
        # For the decider's card (not for routing): what the quote is, in its own words.
        "quote_label": quotes.label(row),
        "quote_title": row["title"],
        "account_name": row["account_name"],
    }


class QuoteSubject:
    """The engine's view of a quote."""

    kind = KIND

    async def load(self, subject_id: uuid.UUID) -> SubjectInfo:
        """The quote as it is now, with its routing facts."""
        row = await QuoteRow.select(*quotes.COLUMNS).where(QuoteRow.id == subject_id).first()
        if row is None:
            msg = f"quote {subject_id} not found"
            raise NotFound(msg)
        return SubjectInfo(
            kind=KIND,
            id=subject_id,
            owner_id=row["owner"],
            account_id=row["account"],
            title=f"{quotes.label(row)} · {row['account_name']} · {row['total_cents'] // 100:,} CNY",
            version=row["version"],
            facts=await facts_of(subject_id, row),
            url=f"#/quotes/{subject_id}",
        )

    async def on_outcome(self, *, subject_id: uuid.UUID, outcome: Outcome, actor: Actor | None, comment: str) -> None:
        """Approved, rejected or returned: the quote's state follows."""
        await quotes.set_outcome(quote_id=subject_id, outcome=outcome, actor=actor, comment=comment)

    async def on_step(self, *, subject_id: uuid.UUID, step_name: str, actor: Actor | None) -> None:
        """A step of the chain approved: nothing to do until the whole chain has."""
        del subject_id, step_name, actor


register_subject(QuoteSubject())


async def start(*, actor: Actor, quote_id: uuid.UUID) -> None:
    """Route a submitted quote (inside the submit transaction); an empty chain approves it at once."""
    await workflow.start(actor=actor, kind=KIND, subject_id=quote_id)


async def cancel(*, actor: Actor, quote_id: uuid.UUID, reason: str) -> None:
    """Stop the approval of a withdrawn quote."""
    await workflow.cancel(actor=actor, kind=KIND, subject_id=quote_id, reason=reason)


async def current_state(quote_id: uuid.UUID) -> str:
    """The quote's state (for tests and the bench)."""
    row = required(await QuoteRow.select(QuoteRow.state).where(QuoteRow.id == quote_id).first())
    return str(row["state"])
