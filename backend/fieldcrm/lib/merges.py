"""What an offline edit merged field by field tells the device when guarded fields were stale (docs/sync.md)."""

from typing import Any


def conflict_result(conflicts: dict[str, Any]) -> dict[str, Any] | None:
    """The extra fields of a sync result for a partly applied edit, or None when nothing conflicted.

    Args:
        conflicts: Per guarded field, ``{yours, server}``: the server kept its value, the other fields were saved.
    """
    if not conflicts:
        return None
    fields = ", ".join(conflicts)
    return {
        "conflicts": conflicts,
        "code": "conflict",
        "message": f"someone else changed {fields} meanwhile; the server kept theirs, your other changes were saved",
    }
