"""Offline mutations of sales (docs/sync.md): the sync registry takes these alongside its own.

A handler returns None, or extra fields for the mutation's result (``conflicts``, ``code``, ``message``)
so the device learns what the server did with a change it could only partly apply.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from fieldcrm.lib.errors import Conflict
from fieldcrm.lib.merges import conflict_result
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import opportunities, quotes
from fieldcrm.sales.schemas import OpportunityCreate, OpportunityPatch, QuoteCreate, QuotePatch, QuoteTransition


class OpportunityCreateArgs(OpportunityCreate, kw_only=True):
    """opportunity.create: the opportunity's fields with its client-made id."""


class OpportunityUpdateArgs(msgspec.Struct, rename="camel", kw_only=True):
    """opportunity.update: only the changed fields, and the version they were made on."""

    id: uuid.UUID
    changes: OpportunityPatch
    base_version: int | None = None


class QuoteCreateArgs(QuoteCreate, kw_only=True):
    """quote.create: a draft made on the device (the server numbers it when it arrives)."""


class QuoteUpdateArgs(msgspec.Struct, rename="camel", kw_only=True):
    """quote.update: changes to a draft; if the quote has left draft meanwhile, they become a new revision."""

    id: uuid.UUID
    changes: QuotePatch
    base_version: int | None = None


class QuoteSubmitArgs(msgspec.Struct, rename="camel", kw_only=True):
    """quote.submit: submit for approval, queued offline; ``baseVersion`` is the version the rep submitted."""

    id: uuid.UUID
    base_version: int | None = None
    comment: str = ""


Result = dict[str, Any] | None


async def _opportunity_create(actor: Actor, args: OpportunityCreateArgs, _: Any) -> Result:
    fields = {f: getattr(args, f) for f in OpportunityCreate.__struct_fields__}
    await opportunities.create_opportunity(actor=actor, data=OpportunityCreate(**fields))
    return None


async def _opportunity_update(actor: Actor, args: OpportunityUpdateArgs, _: Any) -> Result:
    changes = args.changes
    if args.base_version is not None:
        changes = msgspec.structs.replace(changes, base_version=args.base_version)
    _, conflicts = await opportunities.merge_opportunity(actor=actor, opportunity_id=args.id, data=changes)
    return conflict_result(conflicts)


async def _quote_create(actor: Actor, args: QuoteCreateArgs, _: Any) -> Result:
    fields = {f: getattr(args, f) for f in QuoteCreate.__struct_fields__}
    await quotes.create_quote(actor=actor, data=QuoteCreate(**fields))
    return None


async def _quote_update(actor: Actor, args: QuoteUpdateArgs, _: Any) -> Result:
    quote, left_draft = await quotes.update_quote_offline(actor=actor, quote_id=args.id, data=args.changes)
    if left_draft is None:
        return None
    return {
        "code": "revised",
        "message": (
            f"{quote.number} was already {left_draft}; your changes were kept as revision {quote.revision}, a new draft"
        ),
        "conflicts": {"state": {"yours": "draft", "server": left_draft, "revisionId": str(quote.id)}},
    }


async def _quote_submit(actor: Actor, args: QuoteSubmitArgs, _: Any) -> Result:
    """Submit against the quote as it is now: changed meanwhile (returned, edited, no longer draft) is a rejection."""
    quote = await quotes.get_quote(actor=actor, quote_id=args.id)
    label = quotes.label({"number": quote.number, "revision": quote.revision})
    if quote.state != "draft":
        why = f"; the comment: {quote.state_comment}" if quote.state_comment else ""
        msg = f"{label} was not submitted: it is {quote.state} on the server now ({quotes._HINTS[quote.state]}){why}"
        raise Conflict(msg, extra={"state": quote.state})
    if args.base_version is not None and args.base_version != quote.version:
        why = f" (the last comment: {quote.state_comment})" if quote.state_comment else ""
        msg = (
            f"{label} was not submitted: it changed on the server since you submitted it{why}; "
            "look at it again and submit it once more"
        )
        raise Conflict(msg, extra={"state": quote.state, "version": quote.version})
    await quotes.transition(actor=actor, quote_id=args.id, data=QuoteTransition(action="submit", comment=args.comment))
    return None


Handler = Callable[[Actor, Any, Any], Awaitable[Result]]

MUTATIONS: dict[str, tuple[type[msgspec.Struct], Handler]] = {
    "opportunity.create": (OpportunityCreateArgs, _opportunity_create),
    "opportunity.update": (OpportunityUpdateArgs, _opportunity_update),
    "quote.create": (QuoteCreateArgs, _quote_create),
    "quote.update": (QuoteUpdateArgs, _quote_update),
    "quote.submit": (QuoteSubmitArgs, _quote_submit),
}
