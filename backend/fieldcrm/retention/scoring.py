"""The churn-risk score: the versioned configuration and the bulk scoring of every account in set-based SQL.

Scoring runs a few statements over ``risk_scores`` (one row per account, its id the account's id), the same
SQL on SQLite and PostgreSQL: insert rows for new accounts, gather the evidence with correlated subqueries,
derive the reasons as a ``,code,code,`` string, sum the weights (capped at 100), set the band. Band changes
are then audited and kept in ``risk_band_changes`` for the 360 timeline. docs/retention.md gives every formula.
"""

import datetime
import uuid
from typing import Any

import msgspec

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, insert_rows, is_unique_violation, write_transaction
from fieldcrm.lib.errors import InvalidInput
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.retention.schemas import REASONS, RiskConfig, RiskConfigBody, ScoreRun
from fieldcrm.retention.tables import RiskBandChange, RiskScore
from fieldcrm.retention.tables import RiskConfig as ConfigRow
from fieldcrm.settings import get_settings
from fieldcrm.tasks.services import business_today

# ---------------------------------------------------------------- configuration


def _config_out(row: dict[str, Any], created_by_name: str) -> RiskConfig:
    body = msgspec.json.decode(row["body"], type=RiskConfigBody)
    return RiskConfig(
        version=row["version"],
        weights=body.weights,
        thresholds=body.thresholds,
        params=body.params,
        created_at=row["created_at"],
        created_by_name=created_by_name,
    )


async def _latest() -> dict[str, Any] | None:
    return await (
        ConfigRow.select(*ConfigRow.all_columns(), ConfigRow.created_by.display_name.as_alias("created_by_name"))
        .order_by(ConfigRow.version, ascending=False)
        .first()
    )


async def current_config() -> RiskConfig:
    """The newest configuration; the shipped defaults become version 1 on the first read."""
    row = await _latest()
    if row is None:
        try:
            async with write_transaction():
                await ConfigRow.insert(
                    ConfigRow(
                        id=new_id(), version=1, body=msgspec.json.encode(RiskConfigBody()).decode(), created_at=utcnow()
                    )
                )
        except Exception as exc:  # two first reads at once: the other one wrote version 1
            if not is_unique_violation(exc):
                raise
        row = await _latest()
        assert row is not None  # noqa: S101 - just written
    return _config_out(row, row["created_by_name"] or "")


async def get_config(*, actor: Actor) -> RiskConfig:
    """The scoring configuration in force (everyone who reads risks may read how they are made)."""
    scope.require(actor, "retention.read")
    return await current_config()


def validate(body: RiskConfigBody) -> None:
    """Rules across fields the schema cannot say: the watch band starts below the high band."""
    if body.thresholds.watch >= body.thresholds.high:
        msg = (
            f"thresholds.watch ({body.thresholds.watch}) must be below thresholds.high ({body.thresholds.high}): "
            "the watch band lies under the high band"
        )
        raise InvalidInput(msg, field="thresholds.watch")
    if sum(msgspec.structs.asdict(body.weights).values()) < body.thresholds.high:
        msg = "the weights add up to less than thresholds.high: no account could ever reach the high band"
        raise InvalidInput(msg, field="weights")


async def put_config(*, actor: Actor, data: RiskConfigBody) -> RiskConfig:
    """A new version of the configuration (HQ); older versions are kept and the change is audited."""
    scope.require(actor, "retention.manage")
    validate(data)
    before = await current_config()
    async with write_transaction():
        latest = await _latest()
        version = (latest["version"] if latest else 0) + 1
        row_id = new_id()
        body = msgspec.json.encode(data).decode()
        await ConfigRow.insert(
            ConfigRow(id=row_id, version=version, body=body, created_by=actor.id, created_at=utcnow())
        )
        old = msgspec.to_builtins(
            RiskConfigBody(weights=before.weights, thresholds=before.thresholds, params=before.params)
        )
        await audit.record(
            actor=actor,
            entity="retention_config",
            entity_id=row_id,
            action="create",
            changes={"version": [before.version, version], **audit.diff(_flat(old), _flat(msgspec.to_builtins(data)))},
        )
    row = await _latest()
    assert row is not None  # noqa: S101 - just written
    return _config_out(row, row["created_by_name"] or "")


def _flat(body: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {f"{group}.{key}": value for group, values in body.items() for key, value in values.items()}


# ---------------------------------------------------------------- bulk scoring


def _months_back(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def windows(today: datetime.date) -> dict[str, datetime.date]:
    """Month boundaries: last 3 complete months, the 3 before, and the last 3 a year earlier."""
    m0 = today.replace(day=1)
    return {
        "last_from": _months_back(m0, 3),
        "last_to": m0,
        "prev_from": _months_back(m0, 6),
        "year_from": _months_back(m0, 15),
        "year_to": _months_back(m0, 12),
    }


_OPEN_CASE = "c.state IN ('open', 'in_progress')"


def _evidence_sql() -> str:
    # Fixed fragments only; every value is a {} argument.
    return (
        "UPDATE risk_scores SET "  # noqa: S608
        "prev_band = CASE WHEN config_version = 0 THEN NULL ELSE band END, "
        "tier = (SELECT a.tier FROM accounts a WHERE a.id = risk_scores.account), "
        "rev_last3_cents = COALESCE((SELECT SUM(v.amount_cents) FROM revenue v WHERE v.account = risk_scores.account "
        "AND v.month >= {} AND v.month < {}), 0), "
        "rev_prev3_cents = COALESCE((SELECT SUM(v.amount_cents) FROM revenue v WHERE v.account = risk_scores.account "
        "AND v.month >= {} AND v.month < {}), 0), "
        "rev_year3_cents = COALESCE((SELECT SUM(v.amount_cents) FROM revenue v WHERE v.account = risk_scores.account "
        "AND v.month >= {} AND v.month < {}), 0), "
        "holding_end_on = (SELECT MIN(h.contract_end) FROM holdings h WHERE h.account = risk_scores.account "
        "AND h.contract_end >= {} AND h.contract_end <= {}), "
        "contract_end_on = (SELECT MIN(k.end_on) FROM contracts k WHERE k.account = risk_scores.account "
        "AND k.status IN ('signed', 'active', 'expiring') AND k.renewed_by IS NULL "
        "AND k.end_on >= {} AND k.end_on <= {}), "
        "lines_now = (SELECT a.member_lines FROM accounts a WHERE a.id = risk_scores.account), "
        "open_complaints = (SELECT COUNT(*) FROM cases c WHERE c.account = risk_scores.account "
        f"AND c.type = 'complaint' AND {_OPEN_CASE}), "
        "complaints_recent = (SELECT COUNT(*) FROM cases c WHERE c.account = risk_scores.account "
        "AND c.type = 'complaint' AND c.state <> 'cancelled' AND c.created_at >= {}), "
        "sla_breaches = (SELECT COUNT(*) FROM cases c WHERE c.account = risk_scores.account AND ("
        f"({_OPEN_CASE} AND c.due_at < {{}}) "
        "OR (c.resolved_at IS NOT NULL AND c.resolved_at > c.due_at AND c.resolved_at >= {}))), "
        "last_visited_on = (SELECT a.last_visited_on FROM accounts a WHERE a.id = risk_scores.account), "
        "visit_overdue = (SELECT COUNT(*) FROM accounts a WHERE a.id = risk_scores.account "
        "AND a.status IN ('active', 'at_risk') AND ("
        "(a.tier = 'A' AND (a.last_visited_on IS NULL OR a.last_visited_on < {})) "
        "OR (a.tier = 'B' AND (a.last_visited_on IS NULL OR a.last_visited_on < {})) "
        "OR ((a.tier IS NULL OR a.tier NOT IN ('A', 'B')) "
        "AND (a.last_visited_on IS NULL OR a.last_visited_on < {})))), "
        "lost_opportunities = (SELECT COUNT(*) FROM opportunities o WHERE o.account = risk_scores.account "
        "AND o.stage IN (SELECT s.key FROM opportunity_stages s WHERE s.kind = 'lost') AND o.closed_at >= {}), "
        "arrears_cents = COALESCE((SELECT ar.outstanding_cents FROM account_arrears ar "
        "WHERE ar.account = risk_scores.account), 0), "
        "arrears_since = (SELECT ar.oldest_due_on FROM account_arrears ar WHERE ar.account = risk_scores.account)"
    )


def _reason_conditions() -> dict[str, str]:
    """Each reason's SQL condition on the evidence columns, with its ``{}`` arguments named by the params."""
    return {
        "revenue_falling": "((rev_prev3_cents > 0 AND rev_last3_cents * 100 < rev_prev3_cents * {keep_rev}) "
        "OR (rev_year3_cents > 0 AND rev_last3_cents * 100 < rev_year3_cents * {keep_rev}))",
        "contract_ending": "(holding_end_on IS NOT NULL OR contract_end_on IS NOT NULL)",
        "lines_dropping": "(lines_peak > 0 AND lines_now * 100 < lines_peak * {keep_lines})",
        "open_complaint": "(open_complaints > 0)",
        "repeated_complaints": "(complaints_recent >= {repeated})",
        "sla_breach": "(sla_breaches > 0)",
        "visit_overdue": "(visit_overdue > 0)",
        "lost_opportunity": "(lost_opportunities > 0)",
        "unpaid_bills": "(arrears_cents > {arrears_min})",
    }


async def score_all(*, actor: Actor | None = None, now: datetime.datetime | None = None) -> ScoreRun:
    """Score every account in bulk with the configuration in force (the CLI, the nightly job, after imports)."""
    if actor is not None:
        scope.require(actor, "retention.manage")
    now = now or utcnow()
    today = business_today(now)
    config = await current_config()
    p = config.params
    w = windows(today)
    targets = get_settings().visit_targets
    cutoff = {t: today - datetime.timedelta(days=targets.get(t, targets["C"])) for t in ("A", "B", "C")}
    evidence_args: list[Any] = [
        w["last_from"],
        w["last_to"],
        w["prev_from"],
        w["last_from"],
        w["year_from"],
        w["year_to"],
        today,
        today + datetime.timedelta(days=p.ending_window_days),
        today,
        today + datetime.timedelta(days=p.ending_window_days),
        now - datetime.timedelta(days=p.complaint_window_days),
        now,
        now - datetime.timedelta(days=p.sla_window_days),
        cutoff["A"],
        cutoff["B"],
        cutoff["C"],
        now - datetime.timedelta(days=p.lost_window_days),
    ]
    values = {
        "keep_rev": 100 - p.revenue_drop_pct,
        "keep_lines": 100 - p.lines_drop_pct,
        "repeated": p.repeated_complaints,
        "arrears_min": p.arrears_min_cents,
    }
    reason_parts: list[str] = []
    reason_args: list[Any] = []
    for code, condition in _reason_conditions().items():
        sql = condition
        for name, value in values.items():
            while "{" + name + "}" in sql:
                sql = sql.replace("{" + name + "}", "{}", 1)
                reason_args.append(value)
        reason_parts.append(f"CASE WHEN {sql} THEN '{code},' ELSE '' END")
    weights = msgspec.structs.asdict(config.weights)
    score_parts = [f"CASE WHEN reasons LIKE '%,{code},%' THEN {{}} ELSE 0 END" for code in REASONS]
    high, watch = config.thresholds.high, config.thresholds.watch
    async with write_transaction():
        await RiskScore.raw(
            "DELETE FROM risk_scores WHERE account IN (SELECT id FROM accounts WHERE deleted_at IS NOT NULL)"
        )
        await RiskScore.raw(
            "INSERT INTO risk_scores (id, account, scored_at, band_since) SELECT a.id, a.id, {}, {} FROM accounts a "
            "WHERE a.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM risk_scores r WHERE r.account = a.id)",
            now,
            now,
        )
        await RiskScore.raw(_evidence_sql(), *evidence_args)
        await RiskScore.raw(
            "UPDATE risk_scores SET lines_peak = CASE WHEN lines_now > lines_peak THEN lines_now ELSE lines_peak END"
        )
        await RiskScore.raw(f"UPDATE risk_scores SET reasons = ',' || {' || '.join(reason_parts)}", *reason_args)  # noqa: S608
        await RiskScore.raw(
            f"UPDATE risk_scores SET score = {' + '.join(score_parts)}",  # noqa: S608 - fixed fragments
            *[weights[code] for code in REASONS],
        )
        band = "CASE WHEN score >= {} THEN 'high' WHEN score >= {} THEN 'watch' ELSE 'low' END"
        await RiskScore.raw(
            "UPDATE risk_scores SET score = CASE WHEN score > 100 THEN 100 ELSE score END, "  # noqa: S608
            f"band_since = CASE WHEN prev_band IS NULL OR prev_band <> {band} THEN {{}} ELSE band_since END, "
            f"band = {band}, scored_at = {{}}, config_version = {{}}",
            high,
            watch,
            now,
            high,
            watch,
            now,
            config.version,
        )
        changed = await RiskScore.raw(
            "SELECT account, prev_band, band, score FROM risk_scores "
            "WHERE (prev_band IS NULL AND band <> 'low') OR prev_band <> band"
        )
        await _record_changes(changed, config.version, now)
        counts = await RiskScore.raw("SELECT band, COUNT(*) AS n FROM risk_scores GROUP BY band")
    by_band = {r["band"]: r["n"] for r in counts}
    return ScoreRun(
        accounts=sum(by_band.values()),
        config_version=config.version,
        band_changes=len(changed),
        high=by_band.get("high", 0),
        watch=by_band.get("watch", 0),
        scored_at=now,
    )


async def _record_changes(rows: list[dict[str, Any]], version: int, now: datetime.datetime) -> None:
    if not rows:
        return
    changes = []
    entries = []
    for r in rows:
        account = as_uuid(r["account"])
        changes.append(
            RiskBandChange(
                id=new_id(),
                account=account,
                from_band=r["prev_band"],
                to_band=r["band"],
                score=r["score"],
                config_version=version,
                at=now,
            )
        )
        entries.append(
            audit.entry_row(
                actor=None,
                entity="risk_score",
                entity_id=account,
                account_id=account,
                action="update",
                changes={"band": [r["prev_band"], r["band"]], "score": [None, r["score"]]},
            )
        )
    await insert_rows(RiskBandChange, changes)
    await audit.record_many(entries)


async def scored_users(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of people, by id."""
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(list(ids)))
    return {as_uuid(r["id"]): r["display_name"] for r in rows}
