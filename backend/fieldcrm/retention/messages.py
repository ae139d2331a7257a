"""Texts the retention domain writes for people (reasons, band changes), in zh-CN and English."""

from collections.abc import Mapping

MESSAGES: dict[str, dict[str, str]] = {
    "retention.reason.revenue_falling": {
        "zh-CN": "收入下降：近 3 个月 {after} 元，前 3 个月 {before} 元，去年同期 {yearAgo} 元",
        "en": "Revenue falling: {after} yuan in the last 3 months, {before} in the 3 before, {yearAgo} a year earlier",
    },
    "retention.reason.contract_ending": {
        "zh-CN": "合同或在网业务将于 {endsOn} 到期（{days} 天后）",
        "en": "A contract or holding ends on {endsOn} (in {days} days)",
    },
    "retention.reason.lines_dropping": {
        "zh-CN": "成员线路减少：由 {peak} 条降至 {now} 条",
        "en": "Member lines dropping: from {peak} to {now}",
    },
    "retention.reason.open_complaint": {
        "zh-CN": "有 {count} 个未结投诉",
        "en": "{count} open complaint(s)",
    },
    "retention.reason.repeated_complaints": {
        "zh-CN": "{days} 天内投诉 {count} 次",
        "en": "{count} complaints in {days} days",
    },
    "retention.reason.sla_breach": {
        "zh-CN": "{count} 个工单超出服务时限",
        "en": "{count} case(s) past their SLA",
    },
    "retention.reason.visit_overdue": {
        "zh-CN": "拜访逾期 {days} 天（上次拜访 {lastVisitedOn}）",
        "en": "Visit overdue by {days} days (last visit {lastVisitedOn})",
    },
    "retention.reason.visit_never": {
        "zh-CN": "从未拜访",
        "en": "Never visited",
    },
    "retention.reason.lost_opportunity": {
        "zh-CN": "近 {days} 天丢单 {count} 个",
        "en": "{count} opportunity(ies) lost in the last {days} days",
    },
    "retention.reason.unpaid_bills": {
        "zh-CN": "欠费 {amount} 元，最早 {since} 到期",
        "en": "{amount} yuan unpaid, oldest due {since}",
    },
    "timeline.retention.band": {
        "zh-CN": "流失风险由 {from} 变为 {to}（{score} 分）",
        "en": "Churn risk moved from {from} to {to} (score {score})",
    },
    "retention.band.low": {"zh-CN": "低", "en": "low"},
    "retention.band.watch": {"zh-CN": "关注", "en": "watch"},
    "retention.band.high": {"zh-CN": "高", "en": "high"},
    "retention.band.none": {"zh-CN": "未评分", "en": "not scored"},
}


def text(key: str, locale: str, params: Mapping[str, object]) -> str:
    """The message in the locale (zh-CN unless English), with its parameters."""
    texts = MESSAGES[key]
    return texts["en" if locale.startswith("en") else "zh-CN"].format(**params)


def yuan(cents: int) -> str:
    """Cents as yuan with two decimals (exact: integer arithmetic)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
