"""What a notification says, in the recipient's language (``users.locale``: zh-CN or en).

The outbox stores a kind and its parameters; the text is made at delivery, so a user who switches
language gets the next notification in the new one. The payload is a hint for the service worker:
a title, a body, where to go, and for approvals the step to decide; the app fetches the rest.
"""

import datetime
import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

Locale = str  # "zh-CN" | "en"; anything else reads as zh-CN, the default of users.locale

TITLE_MAX = 120
BODY_MAX = 240

# Which switch of the preferences a kind answers to.
CATEGORY_OF: dict[str, str] = {
    "approval.requested": "approvals",
    "approval.decided": "approvals",
    "approval.returned": "approvals",
    "approval.escalated": "approvals",
    "approval.sla_warning": "sla_warnings",
    "work.assigned": "assignments",
    "digest.daily": "daily_digest",
    "task.reminder": "task_reminders",
}

# How long a push service keeps a message for a phone that is off (the issue: approvals 24 hours).
# A warning is worth little once its step is due; an assignment stays useful longer.
TTL_OF: dict[str, int] = {
    "approval.requested": 24 * 3600,
    "approval.decided": 24 * 3600,
    "approval.returned": 24 * 3600,
    "approval.escalated": 24 * 3600,
    "approval.sla_warning": 4 * 3600,
    "work.assigned": 3 * 24 * 3600,
    "digest.daily": 12 * 3600,
    "task.reminder": 12 * 3600,
}
DEFAULT_TTL_S = 24 * 3600

# Kinds whose notification carries the Approve / Open actions (a step waits for the recipient).
DECIDABLE = frozenset({"approval.requested", "approval.escalated", "approval.sla_warning"})

_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "zh-CN": {
        "approval.requested": ("待审批：{title}", "{stepLabel} · {ownerName} 提交"),
        "approval.decided.approved": ("已批准：{title}", "{actorName} 已批准{commentPart}"),
        "approval.decided.rejected": ("已驳回：{title}", "{actorName} 已驳回{commentPart}"),
        "approval.returned": ("退回修改：{title}", "{actorName} 退回{commentPart}"),
        "approval.sla_warning": ("即将超时：{title}", "{stepLabel} 将于 {due} 到期"),
        "approval.escalated": ("已升级给您：{title}", "{stepLabel} 已超时（{fromNames}），截止 {due}"),
        "work.assigned": ("新任务：{title}", "{stepLabel}"),
        "digest.daily": ("今日摘要", "待审批 {approvals} · 今日计划拜访 {plans} · 逾期未访客户 {overdue}"),
        "digest.daily.tasks": (
            "今日摘要",
            "待审批 {approvals} · 今日计划拜访 {plans} · 逾期未访客户 {overdue}"
            " · 今日到期任务 {tasksDue} · 逾期任务 {tasksOverdue}",
        ),
        "task.reminder": ("任务提醒：{title}", "截止 {dueDate} {dueTime}{accountPart}"),
        "fallback": ("fieldcrm", "{title}"),
    },
    "en": {
        "approval.requested": ("Approval needed: {title}", "{stepLabel} · submitted by {ownerName}"),
        "approval.decided.approved": ("Approved: {title}", "Approved by {actorName}{commentPart}"),
        "approval.decided.rejected": ("Rejected: {title}", "Rejected by {actorName}{commentPart}"),
        "approval.returned": ("Returned for changes: {title}", "Returned by {actorName}{commentPart}"),
        "approval.sla_warning": ("Due soon: {title}", "{stepLabel} is due at {due}"),
        "approval.escalated": ("Escalated to you: {title}", "{stepLabel} is overdue ({fromNames}); due {due}"),
        "work.assigned": ("Assigned to you: {title}", "{stepLabel}"),
        "digest.daily": (
            "Your day",
            "{approvals} approvals waiting · {plans} visits planned today · {overdue} accounts overdue",
        ),
        "digest.daily.tasks": (
            "Your day",
            "{approvals} approvals waiting · {plans} visits planned today · {overdue} accounts overdue"
            " · {tasksDue} tasks due today · {tasksOverdue} tasks overdue",
        ),
        "task.reminder": ("Task reminder: {title}", "Due {dueDate} {dueTime}{accountPart}"),
        "fallback": ("fieldcrm", "{title}"),
    },
}
_ACTIONS: dict[str, tuple[str, str]] = {"zh-CN": ("批准", "打开"), "en": ("Approve", "Open")}


def _locale(locale: str | None) -> str:
    return "en" if (locale or "").lower().startswith("en") else "zh-CN"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(value: Any, zone: ZoneInfo, locale: str) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    local = moment.astimezone(zone)
    return local.strftime("%m-%d %H:%M") if locale == "zh-CN" else local.strftime("%d %b %H:%M")


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(
    *,
    notification_id: uuid.UUID,
    kind: str,
    params: Mapping[str, Any],
    url: str,
    topic: str,
    locale: str | None,
    timezone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    """The JSON payload the service worker shows: title and body in the recipient's language, and where to go.

    Args:
        notification_id: The outbox row (the service worker passes it back; it also tells duplicates apart).
        kind: The outbox kind.
        params: The outbox parameters (title, stepLabel, ownerName, actorName, comment, dueAt, stepId...).
        url: The PWA route to open (``#/quotes/<id>``).
        topic: The outbox topic; notifications of one subject share a tag and replace each other on screen.
        locale: The recipient's ``users.locale``.
        timezone: The recipient's zone, for times in the text.
    """
    lang = _locale(locale)
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    key = kind
    if kind == "approval.decided":
        key = "approval.decided.rejected" if params.get("decision") == "rejected" else "approval.decided.approved"
    if kind == "digest.daily" and (params.get("tasksDue") or params.get("tasksOverdue")):
        key = "digest.daily.tasks"
    account = str(params.get("accountName") or "")
    title_t, body_t = _TEXT[lang].get(key, _TEXT[lang]["fallback"])
    comment = str(params.get("comment") or "")
    names = params.get("fromNames")
    values = _Params(
        title=str(params.get("title") or ""),
        stepLabel=str(params.get("stepLabel") or ""),
        ownerName=str(params.get("ownerName") or ""),
        actorName=str(params.get("actorName") or ""),
        commentPart=(f"：{comment}" if lang == "zh-CN" else f": {comment}") if comment else "",
        due=_when(params.get("dueAt"), zone, lang),
        fromNames=("、" if lang == "zh-CN" else ", ").join(str(n) for n in names) if isinstance(names, list) else "",
        approvals=str(params.get("approvals", 0)),
        plans=str(params.get("plans", 0)),
        overdue=str(params.get("overdue", 0)),
        tasksDue=str(params.get("tasksDue", 0)),
        tasksOverdue=str(params.get("tasksOverdue", 0)),
        dueDate=str(params.get("dueDate") or ""),
        dueTime=str(params.get("dueTime") or ""),
        accountPart=(f" · {account}" if account else ""),
    )
    payload: dict[str, Any] = {
        "v": 1,
        "id": str(notification_id),
        "kind": kind,
        "title": _clip(title_t.format_map(values), TITLE_MAX),
        "body": _clip(body_t.format_map(values), BODY_MAX),
        "url": url or str(params.get("url") or ""),
        "tag": topic or str(notification_id),
        "lang": lang,
    }
    for field in ("subjectKind", "subjectId"):
        if isinstance(params.get(field), str):
            payload[field] = params[field]
    step_id = params.get("stepId")
    if kind in DECIDABLE and isinstance(step_id, str) and step_id:
        approve, open_ = _ACTIONS[lang]
        payload["stepId"] = step_id
        payload["actions"] = [{"action": "approve", "title": approve}, {"action": "open", "title": open_}]
    return payload
