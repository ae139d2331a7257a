"""Texts the contracts domain writes for people (task titles), in zh-CN and English."""

from collections.abc import Mapping

MESSAGES: dict[str, dict[str, str]] = {
    "task.renewal": {
        "zh-CN": "续约 {number}（{account}），{end} 到期",
        "en": "Renew {number} ({account}), ends {end}",
    },
    "task.collection": {
        "zh-CN": "催收 {account} 账单 {bill}：欠款 {amount} 元，逾期 {days} 天",
        "en": "Collect bill {bill} of {account}: {amount} yuan unpaid, {days} days overdue",
    },
    "task.broken_promise": {
        "zh-CN": "{account} 未按承诺于 {date} 付款 {amount} 元，请跟进",
        "en": "{account} did not pay {amount} yuan by {date} as promised: follow up",
    },
}


def text(key: str, locale: str, params: Mapping[str, object]) -> str:
    """The message in the locale (zh-CN unless English), with its parameters."""
    texts = MESSAGES[key]
    return texts["en" if locale == "en" else "zh-CN"].format(**params)


def yuan(cents: int) -> str:
    """Cents as yuan with two decimals (exact: integer arithmetic)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
