"""A test-only subject ("memo", kept in memory) so the engine is tested without the sales domain.

Also used by tests/authz/test_matrix.py for the approvals endpoints.
"""

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldcrm.lib.errors import NotFound
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.subjects import Outcome, SubjectInfo

QUOTE_FILE = Path(workflow.DEFINITIONS_DIR) / "quote-approval.json"


@dataclass
class Memo:
    """A memo: what the engine sees of it, and what the engine told it."""

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    facts: dict[str, Any]
    version: int = 1
    state: str = "submitted"
    outcomes: list[tuple[Outcome, str | None, str]] = field(default_factory=list)  # (outcome, actor, comment)
    steps_done: list[str] = field(default_factory=list)


class MemoSubject:
    """SubjectType for memos."""

    kind = "memo"

    def __init__(self) -> None:
        self.memos: dict[uuid.UUID, Memo] = {}

    def add(self, owner_id: uuid.UUID, **facts: Any) -> Memo:
        memo = Memo(id=uuid.uuid4(), owner_id=owner_id, title=f"备忘 memo {len(self.memos) + 1}", facts=facts)
        self.memos[memo.id] = memo
        return memo

    async def load(self, subject_id: uuid.UUID) -> SubjectInfo:
        memo = self.memos.get(subject_id)
        if memo is None:
            msg = f"memo {subject_id} not found"
            raise NotFound(msg)
        return SubjectInfo(
            kind="memo",
            id=memo.id,
            owner_id=memo.owner_id,
            account_id=None,
            title=memo.title,
            version=memo.version,
            facts=memo.facts,
            url=f"#/memos/{memo.id}",
        )

    async def on_outcome(self, *, subject_id: uuid.UUID, outcome: Outcome, actor: Actor | None, comment: str) -> None:
        memo = self.memos[subject_id]
        memo.state = outcome
        memo.outcomes.append((outcome, actor.username if actor else None, comment))

    async def on_step(self, *, subject_id: uuid.UUID, step_name: str, actor: Actor | None) -> None:
        self.memos[subject_id].steps_done.append(step_name)


def memo_definition(key: str = "memo-approval", **changes: Any) -> dict[str, Any]:
    """The shipped quote rules, on memos."""
    body: dict[str, Any] = json.loads(QUOTE_FILE.read_text(encoding="utf-8"))
    body.update({"key": key, "subject": "memo", **changes})
    return body
