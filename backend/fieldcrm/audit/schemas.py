"""API shapes of the audit trail."""

import datetime
import uuid
from typing import Any

from fieldcrm.lib.structs import BaseStruct


class AuditEntry(BaseStruct):
    """One change: who, when, what, and each changed field as [before, after]."""

    id: uuid.UUID
    at: datetime.datetime
    actor_id: uuid.UUID | None
    actor_name: str
    entity: str
    entity_id: uuid.UUID
    account_id: uuid.UUID | None
    action: str
    changes: dict[str, Any]


class AuditPage(BaseStruct):
    """A page of audit entries."""

    items: list[AuditEntry]
    total: int
    next_cursor: str | None
