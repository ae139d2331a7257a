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
