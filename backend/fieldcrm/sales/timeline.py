"""Opportunities, quotes, cases and delivery projects on the account 360 timeline, in one query.

One source for the four kinds keeps the 360 view's statement count flat (one UNION ALL of four
indexed, limited reads instead of four round trips).
"""

import datetime
import uuid
from typing import Any

from fieldcrm.accounts import timeline
from fieldcrm.accounts.schemas import TimelineItem
from fieldcrm.lib.db import as_uuid
from fieldcrm.sales.money import yuan
from fieldcrm.sales.tables import Opportunity

_PARTS = (
    # kind, id, at, title, state, amount, actor name, number, revision
    """SELECT 'opportunity' AS kind, o.id AS id, o.updated_at AS at, o.name AS title, o.stage AS state,
              o.amount_cents AS amount, u.display_name AS actor_name, '' AS number, 1 AS revision
       FROM opportunities o LEFT JOIN users u ON u.id = o.owner
       WHERE o.account = {} AND o.deleted_at IS NULL ORDER BY o.updated_at DESC LIMIT {}""",
    # A decided quote names who decided (the last decision on it), not its owner.
    """SELECT 'quote' AS kind, q.id AS id, q.updated_at AS at, q.title AS title, q.state AS state,
              q.total_cents AS amount,
              COALESCE(CASE WHEN q.state IN ('approved', 'rejected', 'returned') THEN (
                  SELECT d.actor_name FROM workflow_decisions d
                  JOIN workflow_steps s ON s.id = d.step JOIN workflow_instances i ON i.id = s.instance
                  WHERE i.subject_kind = 'quote' AND i.subject_id = q.id ORDER BY d.at DESC LIMIT 1) END,
                  u.display_name) AS actor_name,
              q.number AS number, q.revision AS revision
       FROM quotes q LEFT JOIN users u ON u.id = q.owner
       WHERE q.account = {} ORDER BY q.updated_at DESC LIMIT {}""",
    """SELECT 'case.' || c.type AS kind, c.id AS id, c.updated_at AS at, c.title AS title, c.state AS state,
              0 AS amount, u.display_name AS actor_name, c.priority AS number, 1 AS revision
       FROM cases c LEFT JOIN users u ON u.id = c.owner
       WHERE c.account = {} ORDER BY c.updated_at DESC LIMIT {}""",
    """SELECT 'project' AS kind, p.id AS id, p.updated_at AS at, p.name AS title, p.state AS state,
              0 AS amount, u.display_name AS actor_name, p.last_step AS number, 1 AS revision
       FROM delivery_projects p LEFT JOIN users u ON u.id = p.owner
       WHERE p.account = {} ORDER BY p.updated_at DESC LIMIT {}""",
)
# Only our constant parts; the account id and the limit are bound parameters.
SQL = " UNION ALL ".join(f"SELECT * FROM ({part}) AS part{n}" for n, part in enumerate(_PARTS))  # noqa: S608


def _at(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _item(row: dict[str, Any]) -> TimelineItem:
    """One row in words; ``data`` carries the parts a client shows in its own language and money format."""
    kind = str(row["kind"])
    state = str(row["state"])
    data: dict[str, Any] = {"state": state}
    if kind == "quote":
        label = row["number"] if int(row["revision"]) == 1 else f"{row['number']} rev {row['revision']}"
        title, detail = f"{label} {state}", yuan(int(row["amount"]))
        data |= {"label": label, "name": str(row["title"] or ""), "amountCents": int(row["amount"])}
    elif kind == "opportunity":
        title, detail = f"{row['title']} ({state})", yuan(int(row["amount"]))
        data |= {"name": str(row["title"]), "amountCents": int(row["amount"])}
    elif kind == "project":
        title, detail = str(row["title"]), state + (f" · {row['number']}" if row["number"] else "")
    else:  # a case: number holds its priority
        title, detail = str(row["title"]), f"{state} · {row['number']}"
    return TimelineItem(
        at=_at(row["at"]),
        kind=kind,
        title=title,
        detail=detail,
        ref_id=as_uuid(row["id"]),
        actor_name=row["actor_name"] or "",
        data=data,
    )


async def source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    """The newest ``limit`` opportunities, quotes, cases and projects of the account (one statement)."""
    args: list[Any] = []
    for _ in _PARTS:
        args += [account_id, limit]
    rows = await Opportunity.raw(SQL, *args)
    items = sorted((_item(r) for r in rows), key=lambda i: i.at, reverse=True)
    return items[:limit]


timeline.register("sales", source, covers=("opportunity", "quote", "case", "project"))
