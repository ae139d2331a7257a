"""The one base for every API input and output."""

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

__all__ = ["UNSET", "BaseStruct", "UnsetType", "changed_fields"]


class BaseStruct(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=False):
    """Base of every API Struct: camelCase on the wire, keyword-only in Python."""


def changed_fields(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body set (absent fields are UNSET; null is a value)."""
    return {f: getattr(patch, f) for f in patch.__struct_fields__ if getattr(patch, f) is not UNSET}


def bool_error(body: bytes, data_type: Any) -> tuple[str, str] | None:
    """(field, message) when a JSON body gives a number or a string where ``data_type`` has a boolean.

    Litestar converts request bodies leniently (so path and query strings become numbers), which would
    also take ``0``/``1`` or ``"true"`` for a boolean field; an API field that is a boolean takes only
    ``true`` and ``false``. Other type errors are left to the normal validation.
    """
    try:
        msgspec.json.decode(body, type=data_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        if not message.startswith("Expected `bool`"):
            return None
        _, _, where = message.partition(" - at `")
        field = where.rstrip("`").removeprefix("$").lstrip(".")
        return field, "must be true or false (not a number or a string)"
    except msgspec.DecodeError:
        return None
    return None
