"""Definition documents: their format, validation with messages a person can act on, and rule evaluation.

A definition is data: ``{"key", "subject", "type", "rules": [{"when", "chain"}], "steps": {name: spec}}``.
The first rule whose ``when`` holds on the subject's facts picks the chain; a chain is a list of stages
run in order, a stage a list of steps run in parallel. See workflow/README.md for the full format.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import msgspec

from fieldcrm.lib.errors import InvalidInput

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "nin")
DECIDER_KINDS = ("owner", "owner_manager", "province_director")
ROLES = ("rep", "manager", "director", "hq_admin")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,63}$")
STEP_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
MAX_SLA_HOURS = 24 * 365
_T = TypeVar("_T")


class QuorumN(msgspec.Struct, forbid_unknown_fields=True):
    """N of the deciders must approve."""

    n: int


class StepSpec(msgspec.Struct, forbid_unknown_fields=True):
    """Who decides a step, how many must agree, and its timers."""

    deciders: str
    quorum: Literal["all", "any"] | QuorumN = "any"
    sla_hours: float | None = None
    warn_before_hours: float | None = None
    label: str = ""


class Rule(msgspec.Struct, forbid_unknown_fields=True):
    """When the facts match, run this chain."""

    chain: list[list[str]]
    when: dict[str, Any] = msgspec.field(default_factory=dict)


class Document(msgspec.Struct, forbid_unknown_fields=True):
    """A definition document, as stored and as HQ sends it."""

    key: str
    subject: str
    rules: list[Rule]
    steps: dict[str, StepSpec]
    type: Literal["approval", "work_order"] = "approval"
    default: bool = False
    description: str = ""


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, field=field)


def _check_condition(fact: str, condition: Any, where: str) -> None:
    if not isinstance(condition, dict):
        return  # a bare value means equality
    if not condition:
        msg = f"{where}.{fact}: an empty condition; use e.g. {{'lte': 500}} or a plain value for equality"
        raise _invalid(msg, f"{where}.{fact}")
    for op, value in condition.items():
        if op not in OPERATORS:
            msg = f"{where}.{fact}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}"
            raise _invalid(msg, f"{where}.{fact}.{op}")
        if op in ("in", "nin") and not isinstance(value, list):
            msg = f"{where}.{fact}.{op} needs a list of values"
            raise _invalid(msg, f"{where}.{fact}.{op}")
        if op in ("lt", "lte", "gt", "gte") and (not isinstance(value, int | float) or isinstance(value, bool)):
            msg = f"{where}.{fact}.{op} needs a number, not {value!r}"
            raise _invalid(msg, f"{where}.{fact}.{op}")


def check_decider_kind(kind: str, field: str) -> None:
    """Raise InvalidInput unless ``kind`` names a known way to find deciders."""
    if kind in DECIDER_KINDS:
        return
    if kind.startswith("hq:") and kind[3:] in ROLES:
        return
    msg = (
        f"{field}: unknown decider kind {kind!r}; use owner, owner_manager, province_director "
        f"or hq:<role> with a role of {', '.join(ROLES)}"
    )
    raise _invalid(msg, field)


def _convert(value: Any, kind: type[_T], prefix: str) -> _T:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        text = str(exc)
        at = re.search(r"at `\$\.?([^`]*)`", text)
        missing = re.search(r"missing required field `([^`]+)`", text)
        field = ".".join(p for p in (prefix, at.group(1) if at else "") if p)
        if missing:
            field = f"{field}.{missing.group(1)}" if field else missing.group(1)
        where = f" at {field}" if field else ""
        message = re.sub(r" - at `\$[^`]*`", "", text)
        raise _invalid(f"{message}{where}", field) from exc


def _check_step(doc: Document, name: str, spec: StepSpec) -> None:
    where = f"steps.{name}"
    if not STEP_NAME.match(name):
        msg = f"{where}: step names are 1 to 64 characters of a-z, 0-9, '-' and '_'"
        raise _invalid(msg, where)
    check_decider_kind(spec.deciders, f"{where}.deciders")
    if doc.type == "approval" and spec.deciders == "owner":
        msg = f"{where}.deciders: the owner cannot approve their own subject; owner is for work orders"
        raise _invalid(msg, f"{where}.deciders")
    if isinstance(spec.quorum, QuorumN) and spec.quorum.n < 1:
        msg = f"{where}.quorum.n must be 1 or more"
        raise _invalid(msg, f"{where}.quorum.n")
    if spec.sla_hours is not None and not 0 < spec.sla_hours <= MAX_SLA_HOURS:
        msg = f"{where}.sla_hours must be more than 0 and at most {MAX_SLA_HOURS}"
        raise _invalid(msg, f"{where}.sla_hours")
    if spec.warn_before_hours is not None and spec.sla_hours is None:
        msg = f"{where}.warn_before_hours needs sla_hours (a warning comes before a deadline)"
        raise _invalid(msg, f"{where}.warn_before_hours")
    if spec.warn_before_hours is not None and not 0 < spec.warn_before_hours < (spec.sla_hours or 0):
        msg = f"{where}.warn_before_hours must be more than 0 and less than sla_hours ({spec.sla_hours})"
        raise _invalid(msg, f"{where}.warn_before_hours")


def _check_rule(doc: Document, i: int, rule: Rule) -> None:
    where = f"rules[{i}]"
    for fact, condition in rule.when.items():
        _check_condition(fact, condition, f"{where}.when")
    seen: set[str] = set()
    for j, stage in enumerate(rule.chain):
        field = f"{where}.chain[{j}]"
        if not stage:
            msg = f"{field}: an empty stage; leave it out"
            raise _invalid(msg, field)
        for name in stage:
            if name not in doc.steps:
                known = ", ".join(sorted(doc.steps)) or "none"
                msg = f"{field}: step {name!r} is not defined in steps (defined: {known})"
                raise _invalid(msg, field)
            if name in seen:
                msg = f"{field}: step {name!r} appears twice in one chain"
                raise _invalid(msg, field)
            seen.add(name)


def parse(body: Mapping[str, Any], *, key: str | None = None) -> Document:
    """Validate a definition document; every problem is an InvalidInput naming the field.

    Args:
        body: The JSON document.
        key: The key in the URL, when there is one (the body's key must agree or be left out).
    """
    if not isinstance(body, Mapping):
        msg = "a definition is a JSON object with key, subject, rules and steps"
        raise _invalid(msg, "")
    data = dict(body)
    if key is not None and data.setdefault("key", key) != key:
        msg = f"the body's key {data['key']!r} differs from the key in the address {key!r}"
        raise _invalid(msg, "key")
    steps = data.get("steps")
    if isinstance(steps, dict):  # each step on its own, so that a problem names the step ("steps.manager.quorum")
        for name, spec in steps.items():
            _convert(spec, StepSpec, f"steps.{name}")
    doc = _convert(data, Document, "")
    if not KEY_PATTERN.match(doc.key):
        msg = "key: 2 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
        raise _invalid(msg, "key")
    if not doc.subject or len(doc.subject) > 32:
        msg = "subject: the subject kind this definition runs on, e.g. quote or case (up to 32 characters)"
        raise _invalid(msg, "subject")
    if not doc.rules:
        msg = "rules: at least one rule is needed (a last rule with an empty when catches everything)"
        raise _invalid(msg, "rules")
    for name, spec in doc.steps.items():
        _check_step(doc, name, spec)
    for i, rule in enumerate(doc.rules):
        _check_rule(doc, i, rule)
    return doc


def to_body(doc: Document) -> dict[str, Any]:
    """The document as plain JSON data (defaults filled in)."""
    body: dict[str, Any] = msgspec.to_builtins(doc)
    return body


def body_hash(body: Mapping[str, Any]) -> str:
    """A stable hash of a document, to tell a changed file from an unchanged one."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_COMPARE: dict[str, Any] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "nin": lambda a, b: a not in b,
}


def _holds(value: Any, condition: Any) -> bool:
    if not isinstance(condition, dict):
        return bool(value == condition)
    for op, expected in condition.items():
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if op in ("lt", "lte", "gt", "gte") and not numeric:
            return False  # no number to compare (missing, text, or a boolean)
        if not _COMPARE[op](value, expected):
            return False
    return True


def choose_chain(doc: Document, facts: Mapping[str, Any]) -> list[list[str]]:
    """The chain of the first rule whose conditions all hold on ``facts`` (a missing fact fails its condition)."""
    for rule in doc.rules:
        if all(fact in facts and _holds(facts[fact], cond) for fact, cond in rule.when.items()):
            return [list(stage) for stage in rule.chain]
    shown = json.dumps(dict(facts), ensure_ascii=False, default=str)
    msg = f"no rule of definition {doc.key!r} matches the facts {shown}; HQ should add a rule that catches them"
    raise InvalidInput(msg, field="facts")


def quorum_of(value: Any) -> str:
    """The stored text of a quorum as it appears in a document's JSON ("all", "any" or {"n": k})."""
    if isinstance(value, dict):
        return f"n:{int(value['n'])}"
    return str(value)


def needed_for(quorum: str, deciders: int) -> int:
    """Approvals a step needs with this many deciders (N of M asks for at most M)."""
    if quorum == "all":
        return max(deciders, 1)
    if quorum.startswith("n:"):
        return max(1, min(int(quorum[2:]), deciders))
    return 1
