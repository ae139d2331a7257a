"""What the engine runs on: a subject type (quote, case, project, ...) registers how to load and tell it.

A domain registers its subject type once, when its module loads (``register_subject(QuoteSubject())``).
The engine calls ``load`` inside its own transaction to route and to check versions, and ``on_outcome`` /
``on_step`` in the same transaction as the decision, so the subject's state and the workflow's never disagree.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from fieldcrm.lib.errors import InvalidInput
from fieldcrm.org.schemas import Actor

Outcome = Literal["approved", "rejected", "returned"]


@dataclass(frozen=True)
class SubjectInfo:
    """What the engine needs to know about one subject."""

    kind: str  # "quote" | "case" | "project" | ... (registered)
    id: uuid.UUID
    owner_id: uuid.UUID  # deciders are found relative to this user's org unit
    account_id: uuid.UUID | None
    title: str  # shown in the inbox and notifications
    version: int  # decisions apply only to this version
    facts: Mapping[str, Any] = field(default_factory=dict)  # what rules look at, e.g. {"discount_bp": 1250}
    url: str = ""  # PWA hash route, e.g. "#/quotes/<id>"


class SubjectType(Protocol):
    """A kind of subject the engine can run definitions on."""

    kind: str

    async def load(self, subject_id: uuid.UUID) -> SubjectInfo:
        """The subject as it is now (called inside the engine's transaction); raise NotFound if absent."""
        ...

    async def on_outcome(self, *, subject_id: uuid.UUID, outcome: Outcome, actor: Actor | None, comment: str) -> None:
        """The instance ended: approved, rejected, or returned for changes (same transaction as the decision)."""
        ...

    async def on_step(self, *, subject_id: uuid.UUID, step_name: str, actor: Actor | None) -> None:
        """A step completed (approved / done); work orders may react, approvals may ignore it."""
        ...


_registry: dict[str, SubjectType] = {}


def register_subject(subject_type: SubjectType) -> None:
    """Add (or replace) the subject type for ``subject_type.kind``."""
    _registry[subject_type.kind] = subject_type


def unregister_subject(kind: str) -> None:
    """Remove a subject type (tests register fakes and remove them again)."""
    _registry.pop(kind, None)


def subject_type(kind: str) -> SubjectType:
    """The registered subject type of ``kind``."""
    try:
        return _registry[kind]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        msg = f"no subject type {kind!r} is registered (known: {known})"
        raise InvalidInput(msg, field="kind") from None


def registered_kinds() -> list[str]:
    """The kinds registered so far."""
    return sorted(_registry)
