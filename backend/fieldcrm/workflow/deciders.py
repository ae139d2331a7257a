"""Who decides: deciders relative to the subject's owner, the next level up for escalation, deputies.

The org tree is read through each unit's materialised path ("/<hq>/<province>/<city>/<team>/"), so the
ancestors of a unit are known without walking the tree row by row.
"""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from fieldcrm.lib.db import as_uuid
from fieldcrm.lib.errors import Conflict
from fieldcrm.org.tables import OrgUnit, User
from fieldcrm.workflow.tables import WorkflowDelegation

RANK = {"rep": 0, "manager": 1, "director": 2, "hq_admin": 3}


@dataclass(frozen=True)
class Person:
    """A user and where they sit in the tree."""

    id: uuid.UUID
    name: str
    role: str
    path: str

    @property
    def ancestors(self) -> list[uuid.UUID]:
        """Their unit, then its parent, up to HQ (nearest first)."""
        return [uuid.UUID(part) for part in reversed(self.path.strip("/").split("/")) if part]


async def person(user_id: uuid.UUID) -> Person:
    """One user with their unit's path."""
    row = await (
        User.select(User.id, User.display_name, User.role, User.org_unit.path.as_alias("path"))
        .where(User.id == user_id)
        .first()
    )
    if row is None:
        msg = f"user {user_id} not found"
        raise Conflict(msg)
    return Person(id=as_uuid(row["id"]), name=row["display_name"], role=row["role"], path=row["path"])


async def _leaders_in(units: list[uuid.UUID], roles: Iterable[str]) -> list[dict[str, object]]:
    return list(
        await User.select(User.id, User.role, User.org_unit).where(
            User.org_unit.is_in(units), User.role.is_in(list(roles)), User.is_active.eq(True)
        )
    )


async def _all_with_role(role: str) -> list[uuid.UUID]:
    rows = await User.select(User.id).where(User.role == role, User.is_active.eq(True)).order_by(User.username)
    return [as_uuid(r["id"]) for r in rows]


def _nearest(rows: list[dict[str, object]], ancestors: list[uuid.UUID], exclude: uuid.UUID) -> list[uuid.UUID]:
    """The users of the nearest unit that has any (besides ``exclude``)."""
    by_unit: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        user_id = as_uuid(row["id"])
        if user_id != exclude:
            by_unit.setdefault(as_uuid(row["org_unit"]), []).append(user_id)
    for unit in ancestors:
        if unit in by_unit:
            return sorted(by_unit[unit])
    return []


async def _director_for(owner: Person) -> list[uuid.UUID]:
    ancestors = owner.ancestors
    directors = await _leaders_in(ancestors, ["director"])
    provinces = await OrgUnit.select(OrgUnit.id).where(OrgUnit.id.is_in(ancestors), OrgUnit.kind == "province")
    province_ids = {as_uuid(r["id"]) for r in provinces}
    nearest_province = next((u for u in ancestors if u in province_ids), None)
    if nearest_province is not None:
        found = _nearest([r for r in directors if as_uuid(r["org_unit"]) == nearest_province], ancestors, owner.id)
        if found:
            return found
    return _nearest(directors, ancestors, owner.id)


async def resolve(kind: str, owner_id: uuid.UUID, *, owner: Person | None = None) -> list[uuid.UUID]:
    """The users who decide a step of ``kind`` for a subject owned by ``owner_id``.

    owner: the owner. owner_manager: the managers of the owner's unit or of the nearest ancestor that has
    one (never the owner), else as province_director. province_director: the director of the nearest
    province above the owner, else the nearest director above, else HQ. hq:<role>: everyone with the role.
    When nobody fits, HQ admins decide; with none at all the step cannot start (Conflict). ``owner``:
    the owner already looked up, to save the query.
    """
    if kind.startswith("hq:"):
        found = await _all_with_role(kind[3:])
    else:
        owner = owner or await person(owner_id)
        found = []
        if kind == "owner":
            found = [owner.id]
        if kind == "owner_manager":
            found = _nearest(await _leaders_in(owner.ancestors, ["manager"]), owner.ancestors, owner.id)
        if kind in ("owner_manager", "province_director") and not found:
            found = await _director_for(owner)
    if not found:
        found = await _all_with_role("hq_admin")
    if not found:
        msg = f"nobody can decide a step of kind {kind!r}: there is no such person and no active HQ admin"
        raise Conflict(msg)
    return found


async def next_level(user_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """For escalation: each decider's own next level up (rep -> manager -> director -> HQ), merged.

    The nearest unit above (or at) the decider with someone of a higher role gives the lowest such
    role there; HQ admins have no level above them.
    """
    found: dict[uuid.UUID, None] = {}
    for user_id in user_ids:
        someone = await person(user_id)
        rank = RANK.get(someone.role, 0)
        higher = [r for r, n in RANK.items() if n > rank]
        if not higher:
            continue
        rows = await _leaders_in(someone.ancestors, higher)
        by_unit: dict[uuid.UUID, list[dict[str, object]]] = {}
        for row in rows:
            if as_uuid(row["id"]) != someone.id:
                by_unit.setdefault(as_uuid(row["org_unit"]), []).append(row)
        chosen: list[uuid.UUID] = []
        for unit in someone.ancestors:
            if unit in by_unit:
                lowest = min(RANK[str(r["role"])] for r in by_unit[unit])
                chosen = sorted(as_uuid(r["id"]) for r in by_unit[unit] if RANK[str(r["role"])] == lowest)
                break
        if not chosen and someone.role != "hq_admin":
            chosen = await _all_with_role("hq_admin")
        for user in chosen:
            found[user] = None
    return list(found)


async def delegators_of(user_id: uuid.UUID, now: datetime.datetime) -> list[uuid.UUID]:
    """The people ``user_id`` deputises for at ``now``."""
    rows = await WorkflowDelegation.select(WorkflowDelegation.user).where(
        WorkflowDelegation.delegate == user_id,
        WorkflowDelegation.starts_at <= now,
        WorkflowDelegation.ends_at > now,
    )
    return sorted({as_uuid(r["user"]) for r in rows})


async def deputies_of(user_ids: Iterable[uuid.UUID], now: datetime.datetime) -> list[uuid.UUID]:
    """The deputies acting for any of ``user_ids`` at ``now`` (to notify them too)."""
    ids = list(user_ids)
    if not ids:
        return []
    rows = await WorkflowDelegation.select(WorkflowDelegation.delegate).where(
        WorkflowDelegation.user.is_in(ids),
        WorkflowDelegation.starts_at <= now,
        WorkflowDelegation.ends_at > now,
    )
    return sorted({as_uuid(r["delegate"]) for r in rows})
