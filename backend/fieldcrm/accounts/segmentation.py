"""Value tiers A/B/C from trailing-12-month revenue (a Pareto cut), recomputed in bulk.

The window is the twelve months ending at the latest month in the revenue table (last month when
there is none). Live accounts are ranked by their revenue in the window, largest first (ties by
code); an account is A while the revenue ranked before it is under 80% of the total, B under 95%,
C after that; an account without revenue is C. An HQ override keeps deciding the effective tier.

It reads with one aggregate query and writes with ``executemany`` on the transaction's own
connection (audit rows too), because 100,000 Piccolo UPDATEs or INSERT rows would take minutes.
"""

import datetime
import json
from collections.abc import Sequence
from typing import Any

from fieldcrm.accounts.services import add_months, month_start, today
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import SegmentationRun
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_date, as_uuid, executemany, write_transaction
from fieldcrm.lib.structs import BaseStruct
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

A_SHARE = (80, 100)  # an account is A while the revenue ranked before it is under 80/100 of the total
B_SHARE = (95, 100)


class SegmentationResult(BaseStruct):
    """What a segmentation run did."""

    ran_at: datetime.datetime
    window_start: str  # YYYY-MM
    window_end: str
    accounts: int
    total_cents: int
    a_count: int
    b_count: int
    c_count: int
    a_min_cents: int | None  # the smallest revenue that made A
    b_min_cents: int | None
    changed: int  # accounts whose computed tier changed


# ---------------------------------------------------------------- the computation


def tiers(revenues: Sequence[tuple[str, int]]) -> list[tuple[str, float, int]]:
    """Tier and cumulative share of each (code, revenue_cents), in rank order.

    Integer arithmetic decides the cut-offs, so an account whose predecessors make exactly 80%
    is B, never A by a rounding error.

    Args:
        revenues: (code, revenue in cents) of every account.

    Returns:
        (tier, cumulative share including the account, index into ``revenues``) in rank order.
    """
    order = sorted(range(len(revenues)), key=lambda i: (-revenues[i][1], revenues[i][0]))
    total = sum(r for _, r in revenues)
    out: list[tuple[str, float, int]] = []
    before = 0
    for index in order:
        revenue = revenues[index][1]
        if revenue <= 0:
            tier = "C"
        elif before * A_SHARE[1] < A_SHARE[0] * total:
            tier = "A"
        elif before * B_SHARE[1] < B_SHARE[0] * total:
            tier = "B"
        else:
            tier = "C"
        before += max(revenue, 0)
        out.append((tier, before / total if total > 0 else 0.0, index))
    return out


async def _window() -> tuple[datetime.date, datetime.date]:
    rows = await AccountRow.raw("SELECT MAX(month) AS latest FROM revenue")
    latest = rows[0]["latest"] if rows else None
    end = month_start(as_date(latest)) if latest is not None else add_months(month_start(today()), -1)
    return add_months(end, -11), end


_READ = """
SELECT a.id AS id, a.code AS code, a.computed_tier AS computed_tier, a.tier_override AS tier_override,
       a.tier AS tier, a.revenue_12m_cents AS revenue_12m_cents, a.revenue_share_rank AS revenue_share_rank,
       COALESCE(r.total, 0) AS revenue
FROM accounts a
LEFT JOIN (
    SELECT account, CAST(SUM(amount_cents) AS BIGINT) AS total FROM revenue
    WHERE month >= {} AND month <= {} GROUP BY account
) r ON r.account = a.id
WHERE a.deleted_at IS NULL
"""
_UPDATE_ALL = (
    "UPDATE accounts SET computed_tier = ?, revenue_12m_cents = ?, revenue_share_rank = ?, tier = ?, "
    "updated_at = ?, version = version + 1 WHERE id = ?"
)
_UPDATE_RANK = "UPDATE accounts SET revenue_share_rank = ? WHERE id = ?"


async def run_segmentation(*, actor: Actor | None) -> SegmentationResult:
    """Recompute every live account's tier from trailing-12-month revenue (HQ; None is the CLI/system).

    Joins the caller's transaction when there is one (an import recomputes in its own transaction).

    Args:
        actor: Who asks; None for the command line and internal callers.

    Returns:
        The window, the counts per tier, the cut-offs and how many computed tiers changed.
    """
    if actor is not None:
        scope.require(actor, "segmentation.run")
    async with write_transaction():
        start, end = await _window()
        rows = await AccountRow.raw(_READ, start, end)
        ranked = tiers([(str(r["code"]), int(r["revenue"] or 0)) for r in rows])
        now = utcnow()
        full: list[tuple[Any, ...]] = []
        rank_only: list[tuple[Any, ...]] = []
        entries = []
        counts = {"A": 0, "B": 0, "C": 0}
        minimum: dict[str, int | None] = {"A": None, "B": None}
        for tier, share, index in ranked:
            row = rows[index]
            account_id = as_uuid(row["id"])
            revenue = int(row["revenue"] or 0)
            counts[tier] += 1
            if tier in minimum:
                minimum[tier] = revenue  # ranked largest first: the last one seen is the smallest
            effective = row["tier_override"] or tier
            if tier != row["computed_tier"] or revenue != row["revenue_12m_cents"] or effective != row["tier"]:
                full.append((tier, revenue, share, effective, now, account_id))
            elif share != row["revenue_share_rank"]:
                rank_only.append((share, account_id))
            if tier != row["computed_tier"]:
                changes: dict[str, Any] = {"computed_tier": [row["computed_tier"], tier]}
                if effective != row["tier"]:
                    changes["tier"] = [row["tier"], effective]
                if revenue != row["revenue_12m_cents"]:
                    changes["revenue_12m_cents"] = [row["revenue_12m_cents"], revenue]
                entries.append(
                    audit.entry_row(
                        actor=actor,
                        entity="account",
                        entity_id=account_id,
                        account_id=account_id,
                        action="segment",
                        changes=changes,
                    )
                )
        await executemany(_UPDATE_ALL, full)
        await executemany(_UPDATE_RANK, rank_only)
        await audit.record_many(entries)
        total = sum(int(r["revenue"] or 0) for r in rows)
        summary = {
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "counts": counts,
            "a_min_cents": minimum["A"],
            "b_min_cents": minimum["B"],
            "thresholds": {"A": A_SHARE[0] / A_SHARE[1], "B": B_SHARE[0] / B_SHARE[1]},
            "changed": len(entries),
        }
        await SegmentationRun.insert(
            SegmentationRun(ran_at=now, accounts=len(rows), total_cents=total, summary=json.dumps(summary))
        )
    return SegmentationResult(
        ran_at=now,
        window_start=start.strftime("%Y-%m"),
        window_end=end.strftime("%Y-%m"),
        accounts=len(rows),
        total_cents=total,
        a_count=counts["A"],
        b_count=counts["B"],
        c_count=counts["C"],
        a_min_cents=minimum["A"],
        b_min_cents=minimum["B"],
        changed=len(entries),
    )
