"""Constants and small helpers shared by the workflow engine's modules."""

import datetime
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_uuid, engine
from fieldcrm.org.tables import User
from fieldcrm.workflow import subjects

DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "definitions"
NO_DEADLINE = datetime.timedelta(days=3650)  # inbox order of steps without an SLA: after everything due
SCAN_BATCH = 500
MAX_KEY = 200
MAX_DELEGATION = datetime.timedelta(days=366)
NOTIFY_TTL_S = 3 * 86_400
OUTCOME_OF: dict[str, subjects.Outcome] = {"reject": "rejected", "return": "returned"}
STEP_STATUS_OF = {"approve": "approved", "reject": "rejected", "return": "returned"}


def _postgres() -> bool:
    return not isinstance(engine(), FieldcrmSQLiteEngine)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _topic(kind: str, subject_id: uuid.UUID) -> str:
    return f"{kind}-{subject_id}"


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _names(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(ids))
    return {as_uuid(r["id"]): r["display_name"] for r in rows}
