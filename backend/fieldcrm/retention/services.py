"""Use cases of retention: the at-risk list, read in the caller's scope (``scope.owner_sql`` on the owner)."""

import datetime
from typing import Any

from fieldcrm.lib.db import as_date, as_uuid, read_transaction
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.retention import messages
from fieldcrm.retention import timeline as _timeline  # noqa: F401 - registers the band changes' timeline source
from fieldcrm.retention.schemas import REASONS, Band, ReasonCode, Risk, RiskPage, RiskReason, RiskSort
from fieldcrm.retention.scoring import current_config
from fieldcrm.retention.tables import RiskScore
from fieldcrm.settings import get_settings
from fieldcrm.visits.services import business_today

_ORDER = {
    "-score": "r.score DESC, a.revenue_12m_cents DESC, a.id",
    "score": "r.score ASC, a.revenue_12m_cents DESC, a.id",
    "-revenue": "a.revenue_12m_cents DESC, r.score DESC, a.id",
    "revenue": "a.revenue_12m_cents ASC, r.score DESC, a.id",
}


def _date(value: Any) -> datetime.date | None:
    return None if value is None else as_date(value)


def reason_params(  # noqa: PLR0911 - one return per reason reads best
    code: ReasonCode, row: dict[str, Any], params: Any, today: datetime.date
) -> tuple[str, dict[str, Any]]:
    """The message key and the evidence of one reason, from the risk row's evidence columns."""
    key = f"retention.reason.{code}"
    if code == "revenue_falling":
        return key, {
            "after": messages.yuan(row["rev_last3_cents"]),
            "before": messages.yuan(row["rev_prev3_cents"]),
            "yearAgo": messages.yuan(row["rev_year3_cents"]),
            "afterCents": row["rev_last3_cents"],
            "beforeCents": row["rev_prev3_cents"],
            "yearAgoCents": row["rev_year3_cents"],
        }
    if code == "contract_ending":
        ends = [d for d in (_date(row["holding_end_on"]), _date(row["contract_end_on"])) if d is not None]
        end = min(ends) if ends else today
        return key, {"endsOn": end.isoformat(), "days": (end - today).days}
    if code == "lines_dropping":
        return key, {"peak": row["lines_peak"], "now": row["lines_now"]}
    if code == "open_complaint":
        return key, {"count": row["open_complaints"]}
    if code == "repeated_complaints":
        return key, {"count": row["complaints_recent"], "days": params.complaint_window_days}
    if code == "sla_breach":
        return key, {"count": row["sla_breaches"]}
    if code == "visit_overdue":
        last = _date(row["last_visited_on"])
        if last is None:
            return "retention.reason.visit_never", {"days": None, "lastVisitedOn": None}
        targets = get_settings().visit_targets
        target = targets.get(row["tier"] or "C", targets["C"])
        return key, {"days": (today - last).days - target, "lastVisitedOn": last.isoformat()}
    if code == "lost_opportunity":
        return key, {"count": row["lost_opportunities"], "days": params.lost_window_days}
    since = _date(row["arrears_since"])
    return key, {
        "amount": messages.yuan(row["arrears_cents"]),
        "amountCents": row["arrears_cents"],
        "since": since.isoformat() if since else "",
    }


def reasons_of(
    row: dict[str, Any], weights: dict[str, int], params: Any, locale: str, today: datetime.date
) -> list[RiskReason]:
    """The reasons present on a risk row, heaviest first, each with its evidence and text."""
    present = [code for code in REASONS if f",{code}," in (row["reasons"] or "")]
    out = []
    for code in present:
        key, values = reason_params(code, row, params, today)
        out.append(
            RiskReason(
                code=code,
                message_key=key,
                params=values,
                weight=weights[code],
                text=messages.text(key, locale, values),
            )
        )
    out.sort(key=lambda r: -r.weight)
    return out


async def list_risks(
    *,
    actor: Actor,
    page: PageParams,
    band: Band | None = None,
    reason: ReasonCode | None = None,
    min_score: int | None = None,
    sort: RiskSort = "-score",
) -> RiskPage:
    """Scored accounts in the caller's scope, riskiest first unless sorted otherwise, filtered by band and reason."""
    scope.require(actor, "retention.read")
    config = await current_config()
    scoped, args = scope.owner_sql(actor, "a.owner")
    where = ["a.deleted_at IS NULL", scoped]
    if band is not None:
        where.append("r.band = {}")
        args.append(band)
    if reason is not None:
        where.append("r.reasons LIKE {}")
        args.append(f"%,{reason},%")
    if min_score is not None:
        where.append("r.score >= {}")
        args.append(min_score)
    base = (
        "FROM risk_scores r JOIN accounts a ON a.id = r.account JOIN users u ON u.id = a.owner "
        f"WHERE {' AND '.join(where)}"
    )
    async with read_transaction():
        total_rows = await RiskScore.raw(f"SELECT COUNT(*) AS n {base}", *args)
        rows = await RiskScore.raw(
            f"SELECT r.*, a.name AS account_name, a.owner AS owner_id, u.display_name AS owner_name, "
            f"a.revenue_12m_cents AS revenue_12m_cents {base} ORDER BY {_ORDER[sort]} LIMIT {{}} OFFSET {{}}",
            *args,
            page.limit,
            page.offset,
        )
    total = total_rows[0]["n"] if total_rows else 0
    today = business_today()
    weights: dict[str, int] = {code: getattr(config.weights, code) for code in REASONS}
    items = [
        Risk(
            account_id=as_uuid(r["account"]),
            account_name=r["account_name"],
            owner_id=as_uuid(r["owner_id"]),
            owner_name=r["owner_name"],
            tier=r["tier"],
            revenue_12m_cents=int(r["revenue_12m_cents"] or 0),
            score=r["score"],
            band=r["band"],
            band_since=r["band_since"],
            reasons=reasons_of(r, weights, config.params, actor.locale, today),
            scored_at=r["scored_at"],
            config_version=r["config_version"],
        )
        for r in rows
    ]
    return RiskPage(items=items, total=total, next_cursor=page.next_cursor(total))
