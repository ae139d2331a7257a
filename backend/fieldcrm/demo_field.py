"""The demo company's field work: months of verified visits, a few doubtful ones, and today's plans.

Written in bulk inside the demo's transaction (after the tiers are computed, so better accounts
are visited more often), like a team that has used the app for a while: most A accounts covered,
some overdue, some never visited; a handful of check-ins waiting for review; each rep with a plan
for today and one missed yesterday.
"""

import datetime
import math
import random
import uuid
from collections import defaultdict
from typing import Any

from geopy.distance import geodesic

from fieldcrm.settings import get_settings
from fieldcrm.visits.services import business_day

# How likely an account of each tier is to be visited within its target (the targets are the settings').
_KEEN = {"A": 0.72, "B": 0.55, "C": 0.35}
_PURPOSES = ("例行拜访", "续约洽谈", "新业务推介", "故障回访", "账单沟通", "专线扩容")
_OUTCOMES = (
    "客户满意，暂无新需求",
    "客户计划扩容，需报价",
    "客户反映网络偶有抖动",
    "已约下次技术交流",
    "合同续签意向明确",
)
_VISIT_COLUMNS = (
    "id",
    "account",
    "user",
    "latitude",
    "longitude",
    "accuracy_m",
    "fix_at",
    "device_at",
    "sent_at",
    "received_at",
    "checked_in_at",
    "checked_in_on",
    "clock_skew_s",
    "distance_m",
    "verdict",
    "flags",
    "counts_for_coverage",
    "review_status",
    "review_comment",
    "checked_out_at",
    "duration_s",
    "purpose",
    "outcome",
    "contact_ids",
    "notes",
    "next_step",
    "created_at",
    "updated_at",
)
_PLAN_COLUMNS = ("id", "account", "owner", "created_by", "date", "purpose", "status", "created_at", "updated_at")


async def _rows(connection: Any, sql: str, *, sqlite: bool) -> list[dict[str, Any]]:
    if not sqlite:
        return [dict(r) for r in await connection.fetch(sql)]
    async with connection.execute(sql) as cursor:
        return [dict(r) for r in await cursor.fetchall()]


class _Field:
    def __init__(self, *, seed: int, now: datetime.datetime, sqlite: bool, visits_per_account: float) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.sqlite = sqlite
        self.per_account = visits_per_account
        self.targets = get_settings().visit_targets
        self.visits: list[tuple[Any, ...]] = []
        self.plans: list[tuple[Any, ...]] = []
        self.flagged = 0

    def ts(self, value: datetime.datetime) -> Any:
        return str(value.astimezone(datetime.UTC)) if self.sqlite else value

    def day(self, value: datetime.date) -> Any:
        return value.isoformat() if self.sqlite else value

    def boolean(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def days_ago_of_visits(self, tier: str) -> list[int]:
        """Days since each visit of an account, newest first (empty: never visited)."""
        target = self.targets.get(tier, self.targets["C"])
        rng = self.rng
        if rng.random() < _KEEN.get(tier, 0.35):
            last = rng.randint(0, max(1, int(target * 0.95)))
        elif rng.random() < 0.6:
            last = rng.randint(target + 1, target * 3)
        else:
            return []
        count = max(1, round(rng.expovariate(1 / self.per_account)))
        days = [last]
        for _ in range(count - 1):
            days.append(days[-1] + max(1, round(rng.gauss(target, target / 3))))
        return [d for d in days if d <= 1_100]  # three years at most

    def visit(self, account: dict[str, Any], days_ago: int, *, doubtful: bool) -> tuple[Any, ...]:
        rng = self.rng
        local = self.now - datetime.timedelta(days=days_ago)
        # 09:00-17:59 in China: 01:00-09:59 UTC.
        at = local.replace(hour=1 + rng.randint(0, 8), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        accuracy = round(rng.uniform(5, 45), 1)
        away = rng.uniform(0, 80) if not doubtful else rng.uniform(1_500, 6_000)
        point = geodesic(meters=away).destination((account["latitude"], account["longitude"]), rng.uniform(0, 360))
        lat, lon = round(point.latitude, 7), round(point.longitude, 7)
        duration = rng.randint(15, 90) * 60
        verdict = "out_of_range" if doubtful else "verified"
        checked_in = self.ts(at)
        return (
            self.uid(),
            account["id"],
            account["owner"],
            lat,
            lon,
            accuracy,
            self.ts(at - datetime.timedelta(seconds=rng.randint(1, 20))),
            checked_in,
            checked_in,
            checked_in,
            checked_in,
            self.day(business_day(at)),
            0.0,
            round(away, 1),
            verdict,
            "[]",
            self.boolean(not doubtful),
            "pending" if doubtful else "none",
            "",
            self.ts(at + datetime.timedelta(seconds=duration)),
            duration,
            rng.choice(_PURPOSES),
            rng.choice(_OUTCOMES),
            "[]",
            "",
            "",
            checked_in,
            checked_in,
        )

    def plan(self, account: dict[str, Any], on: datetime.date, status: str) -> tuple[Any, ...]:
        stamp = self.ts(self.now)
        owner = account["owner"]
        return (self.uid(), account["id"], owner, owner, self.day(on), self.rng.choice(_PURPOSES), status, stamp, stamp)


async def build_field_work(loader: Any, *, seed: int, now: datetime.datetime, visits_per_account: float = 2.0) -> str:
    """Visits and plans for every live account with a location; returns a summary."""
    sqlite = loader.sqlite
    field = _Field(seed=seed, now=now, sqlite=sqlite, visits_per_account=visits_per_account)
    accounts = await _rows(
        loader.connection,
        "SELECT id, owner, tier, status, latitude, longitude FROM accounts "
        "WHERE deleted_at IS NULL AND latitude IS NOT NULL ORDER BY id",
        sqlite=sqlite,
    )
    by_owner: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for account in accounts:
        by_owner[account["owner"]].append(account)
        if account["status"] == "lost":
            continue
        for days in field.days_ago_of_visits(account["tier"] or "C"):
            doubtful = field.rng.random() < 0.004
            field.flagged += doubtful
            field.visits.append(field.visit(account, days, doubtful=doubtful))
    today = business_day(now)
    for owned in by_owner.values():
        picks = field.rng.sample(owned, min(len(owned), 6))
        for account in picks[:5]:
            field.plans.append(field.plan(account, today, "planned"))
        if len(picks) > 5:
            field.plans.append(field.plan(picks[5], today - datetime.timedelta(days=1), "planned"))
    for start in range(0, len(field.visits), 20_000):
        await loader.insert("visits", _VISIT_COLUMNS, field.visits[start : start + 20_000])
    await loader.insert("visit_plans", _PLAN_COLUMNS, field.plans)
    await loader.execute(
        "UPDATE accounts SET last_visited_on = (SELECT MAX(v.checked_in_on) FROM visits v "
        "WHERE v.account = accounts.id AND v.counts_for_coverage)"
    )
    per = len(field.visits) / len(accounts) if accounts else 0
    return (
        f"{len(field.visits)} visits ({per:.1f} an account, {field.flagged} waiting for review), "
        f"{len(field.plans)} plans ({math.floor(len(field.plans) / max(1, len(by_owner)))} a rep)"
    )
