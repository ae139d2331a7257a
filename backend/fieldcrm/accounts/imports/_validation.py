"""Cell values: each cell checked against the API's own Structs, money, dates, months and phones parsed."""

import datetime
import decimal
import re
from typing import Any

import msgspec

from fieldcrm.accounts.imports._parsing import _Row, _Sheet

# ---------------------------------------------------------------- cell values

_RULES = (
    (re.compile(r"^Expected `str` of length >= 1$"), "must not be empty"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), "is longer than {0} characters"),
    (re.compile(r"^Expected `str` of length >= (\d+)$"), "is shorter than {0} characters"),
    (re.compile(r"^Expected `(?:int|float)[^`]*` >= (-?[\d.]+)$"), "must be at least {0}"),
    (re.compile(r"^Expected `(?:int|float)[^`]*` <= (-?[\d.]+)$"), "must be at most {0}"),
    (re.compile(r"^Expected `int(?: \| null)?`, got `.*`$"), "must be a whole number"),
    (re.compile(r"^Expected `float(?: \| null)?`, got `.*`$"), "must be a number"),
    (re.compile(r"^Expected `array` of length <= (\d+)$"), "has more than {0} entries"),
    (re.compile(r"^Invalid RFC3339 encoded date$"), "is not a date"),
)
_PATTERN_HINTS = {
    "code": "may contain only letters, digits and _ . - /",
    "email": "is not an e-mail address",
    "phones": "is not a phone number (digits, + - ( ) and spaces)",
    "month": "is not a month (YYYY-MM)",
}
_CHOICES = {
    "status": "must be prospect, active, at_risk or lost (潜在, 在网, 预警, 流失)",
    "decision_role": "must be decision_maker, influencer, user or gatekeeper (决策人, 影响者, 使用者, 把关人)",
}


def _human(error: msgspec.ValidationError, name: str) -> str:
    text = str(error).split(" - at `", 1)[0]
    if text.startswith("Expected `str` matching regex"):
        return _PATTERN_HINTS.get(name, "has characters that are not allowed")
    if text.startswith("Invalid enum value"):
        return _CHOICES.get(name, "is not one of the allowed values")
    for pattern, message in _RULES:
        if match := pattern.match(text):
            return message.format(*match.groups())
    return text


def _shown(value: Any) -> str:
    text = ";".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


_ENCODE_NAMES: dict[type[msgspec.Struct], dict[str, str]] = {}


def _encode_name(struct: type[msgspec.Struct], name: str) -> str:
    names = _ENCODE_NAMES.get(struct)
    if names is None:
        names = _ENCODE_NAMES[struct] = {f.name: f.encode_name for f in msgspec.structs.fields(struct)}
    return names[name]


def _checked(
    row: _Row,
    sheet: _Sheet,
    struct: type[msgspec.Struct],
    values: dict[str, tuple[str, Any]],
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Each value alone against the struct's field (the REST rules); errors go on the row under the file's column.

    ``values`` maps the struct's field to (the file's field, the value); ``base`` holds valid values of the
    struct's other required fields, by their wire names.
    """
    out: dict[str, Any] = {}
    for name, (source, value) in values.items():
        try:
            converted = msgspec.convert((base or {}) | {_encode_name(struct, name): value}, struct, strict=False)
        except msgspec.ValidationError as exc:
            row.error(sheet.column(source), f"{_shown(value)}: {_human(exc, name)}")
            continue
        out[name] = getattr(converted, name)
    return out


def _number_text(text: str) -> str:
    return text.replace(",", "").replace("，", "").replace(" ", "")


def _yuan_to_cents(row: _Row, column: str, text: str) -> int | None:
    cleaned = _number_text(text).replace("¥", "").replace("￥", "").removesuffix("元")
    try:
        amount = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        row.error(column, f"{_shown(text)}: is not an amount in yuan (like 1234.50)")
        return None
    if not amount.is_finite():
        row.error(column, f"{_shown(text)}: is not an amount in yuan (like 1234.50)")
        return None
    cents = amount * 100
    if cents != cents.to_integral_value():
        row.error(column, f"{_shown(text)}: has more than two decimals (fen)")
        return None
    return int(cents)


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})(?:[-/.年]\s*(\d{1,2})月?(?:[-/.]\d{1,2}日?)?|(\d{2}))$")


def _date(row: _Row, column: str, text: str) -> str | None:
    match = _DATE.match(text) or _DATE_COMPACT.match(text)
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            pass
    row.error(column, f"{_shown(text)}: is not a date (YYYY-MM-DD or YYYY/MM/DD)")
    return None


def _month(row: _Row, column: str, text: str) -> str | None:
    match = _MONTH.match(_number_text(text))
    if match is None:
        row.error(column, f"{_shown(text)}: is not a month (YYYY-MM, YYYYMM or YYYY-MM-DD)")
        return None
    return f"{match[1]}-{int(match[2] or match[3]):02d}"


def _phones(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;/,，；、|]+", text) if p.strip()]
