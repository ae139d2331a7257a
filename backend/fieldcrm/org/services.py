"""Use cases of the org domain: the org tree, people, login and sessions."""

import datetime
import math
import uuid
from collections.abc import Mapping
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import FieldcrmSQLiteEngine, contains_text, engine, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from fieldcrm.lib.locking import lock_row
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import (
    Actor,
    LoginResponse,
    Me,
    OrgUnitCreate,
    OrgUnitPage,
    OrgUnitPatch,
    UserCreate,
    UserPage,
    UserPatch,
)
from fieldcrm.org.schemas import OrgUnit as OrgUnitOut
from fieldcrm.org.schemas import User as UserOut
from fieldcrm.org.security import check_password, hash_password, new_token, token_digest, verify_password
from fieldcrm.org.tables import LoginAttempt, OrgUnit, Session, User
from fieldcrm.settings import get_settings

SESSION_TOUCH_INTERVAL = datetime.timedelta(minutes=5)

# ---------------------------------------------------------------- org units

_UNIT_FIELDS = ("id", "name", "kind", "parent", "path", "depth", "latitude", "longitude", "created_at", "updated_at")


def _unit_out(row: Mapping[str, Any]) -> OrgUnitOut:
    return OrgUnitOut(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent"],
        path=row["path"],
        depth=row["depth"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _unit_row(unit_id: uuid.UUID) -> dict[str, Any]:
    row = await OrgUnit.select().where(OrgUnit.id == unit_id).first()
    if row is None:
        msg = f"org unit {unit_id} does not exist"
        raise NotFound(msg)
    return row


async def list_units(*, actor: Actor, page: PageParams, parent_id: uuid.UUID | None = None) -> OrgUnitPage:
    """The org tree in path order (every signed-in person may read it: names are not secret)."""
    del actor
    where = OrgUnit.parent == parent_id if parent_id is not None else None
    query = OrgUnit.select().order_by(OrgUnit.path).limit(page.limit).offset(page.offset)
    count = OrgUnit.count()
    if where is not None:
        query = query.where(where)
        count = count.where(where)
    rows = await query
    total = await count
    return OrgUnitPage(items=[_unit_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def get_unit(*, actor: Actor, unit_id: uuid.UUID) -> OrgUnitOut:
    """One org unit."""
    del actor
    return _unit_out(await _unit_row(unit_id))


async def create_unit(*, actor: Actor | None, data: OrgUnitCreate) -> OrgUnitOut:
    """Add an org unit under a parent; the first unit (the HQ root) has none."""
    if actor is not None:
        scope.require(actor, "org.manage")
    unit_id = data.id or new_id()
    async with write_transaction():
        if await OrgUnit.exists().where(OrgUnit.id == unit_id):
            msg = f"org unit {unit_id} already exists"
            raise Conflict(msg)
        if data.parent_id is None:
            if await OrgUnit.exists().where(OrgUnit.parent.is_null()):
                msg = "an org tree has one root; give parentId"
                raise InvalidInput(msg, field="parentId")
            path, depth = f"/{unit_id}/", 0
        else:
            parent = await OrgUnit.select(OrgUnit.path, OrgUnit.depth).where(OrgUnit.id == data.parent_id).first()
            if parent is None:
                msg = f"parent org unit {data.parent_id} does not exist"
                raise InvalidInput(msg, field="parentId")
            path, depth = f"{parent['path']}{unit_id}/", parent["depth"] + 1
        row = OrgUnit(
            id=unit_id,
            name=data.name,
            kind=data.kind,
            parent=data.parent_id,
            path=path,
            depth=depth,
            latitude=data.latitude,
            longitude=data.longitude,
        )
        await OrgUnit.insert(row)
        created = await _unit_row(unit_id)
        await audit.record(actor=actor, entity="org_unit", entity_id=unit_id, action="create", after=created)
    return _unit_out(created)


async def update_unit(*, actor: Actor, unit_id: uuid.UUID, data: OrgUnitPatch) -> OrgUnitOut:
    """Rename or move an org unit; a move carries its whole subtree (and so everyone's scope) along."""
    scope.require(actor, "org.manage")
    changes = changed_fields(data)
    async with write_transaction():
        await lock_row(OrgUnit, unit_id)
        before = await _unit_row(unit_id)
        values: dict[Any, Any] = {}
        for field in ("name", "kind", "latitude", "longitude"):
            if field in changes:
                values[getattr(OrgUnit, field)] = changes[field]
        if "parent_id" in changes and changes["parent_id"] != before["parent"]:
            if before["parent"] is None:
                msg = "the root of the org tree cannot move"
                raise InvalidInput(msg, field="parentId")
            parent = await _unit_row(changes["parent_id"])
            if parent["path"].startswith(before["path"]):
                msg = "an org unit cannot move under itself or one of its descendants"
                raise InvalidInput(msg, field="parentId")
            old_prefix = before["path"]
            new_prefix = f"{parent['path']}{unit_id}/"
            depth_shift = parent["depth"] + 1 - before["depth"]
            await OrgUnit.raw(
                "UPDATE org_units SET path = {} || substr(path, {}), depth = depth + {} WHERE path LIKE {}",
                new_prefix,
                len(old_prefix) + 1,
                depth_shift,
                old_prefix + "%",
            )
            values[OrgUnit.parent] = parent["id"]
        values[OrgUnit.updated_at] = utcnow()
        await OrgUnit.update(values).where(OrgUnit.id == unit_id)
        after = await _unit_row(unit_id)
        await audit.record(
            actor=actor, entity="org_unit", entity_id=unit_id, action="update", before=before, after=after
        )
    return _unit_out(after)


async def delete_unit(*, actor: Actor, unit_id: uuid.UUID) -> None:
    """Remove an empty org unit (no child units, people or accounts)."""
    scope.require(actor, "org.manage")
    # accounts depends on org; this one read looks the other way, to name what blocks the delete.
    from fieldcrm.accounts.tables import Account  # noqa: PLC0415

    async with write_transaction():
        await lock_row(OrgUnit, unit_id)
        before = await _unit_row(unit_id)
        blockers = []
        if await OrgUnit.exists().where(OrgUnit.parent == unit_id):
            blockers.append("child units")
        if await User.exists().where(User.org_unit == unit_id):
            blockers.append("people")
        if await Account.exists().where(Account.org_unit == unit_id):
            blockers.append("accounts")
        if blockers:
            msg = f"org unit {before['name']} still has {', '.join(blockers)}; move them first"
            raise Conflict(msg)
        await OrgUnit.delete().where(OrgUnit.id == unit_id)
        await audit.record(actor=actor, entity="org_unit", entity_id=unit_id, action="delete", before=before)


# ---------------------------------------------------------------- users

_USER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.org_unit,
    User.org_unit.name.as_alias("org_unit_name"),
    User.email,
    User.phone,
    User.locale,
    User.is_active,
    User.created_at,
    User.updated_at,
)


def _user_out(row: Mapping[str, Any]) -> UserOut:
    return UserOut(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        org_unit_id=row["org_unit"],
        org_unit_name=row["org_unit_name"],
        email=row["email"],
        phone=row["phone"],
        locale=row["locale"],
        is_active=bool(row["is_active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _user_row(user_id: uuid.UUID, actor: Actor | None = None) -> dict[str, Any]:
    query = User.select(*_USER_COLUMNS).where(User.id == user_id)
    if actor is not None and (limit := scope.user_filter(actor)) is not None:
        query = query.where(limit)
    row = await query.first()
    if row is None:
        msg = f"user {user_id} does not exist"
        raise NotFound(msg)
    return row


async def list_users(
    *,
    actor: Actor,
    page: PageParams,
    q: str | None = None,
    role: str | None = None,
    org_unit_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> UserPage:
    """People the actor may see, filtered and sorted by name."""
    scope.require(actor, "users.read")
    conditions = [c for c in (scope.user_filter(actor),) if c is not None]
    if q:
        conditions.append(contains_text("lower(users.username || ' ' || users.display_name)", q.casefold()))
    if role:
        conditions.append(User.role == role)
    if org_unit_id:
        unit = await _unit_row(org_unit_id)
        conditions.append(User.org_unit.is_in(OrgUnit.select(OrgUnit.id).where(OrgUnit.path.like(unit["path"] + "%"))))
    if active is not None:
        conditions.append(User.is_active == active)
    query = User.select(*_USER_COLUMNS).order_by(User.display_name).order_by(User.id)
    count = User.count()
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await count
    return UserPage(items=[_user_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def get_user(*, actor: Actor, user_id: uuid.UUID) -> UserOut:
    """One person, if the actor may see them."""
    return _user_out(await _user_row(user_id, actor))


async def create_user(*, actor: Actor | None, data: UserCreate) -> UserOut:
    """Add a person (HQ, or the command line when actor is None)."""
    if actor is not None:
        scope.require(actor, "users.manage")
    check_password(data.password, username=data.username)
    password_hash = await hash_password(data.password)
    user_id = data.id or new_id()
    async with write_transaction():
        if await User.exists().where(User.username == data.username):
            msg = f"username {data.username} is taken"
            raise Conflict(msg, field="username")
        if not await OrgUnit.exists().where(OrgUnit.id == data.org_unit_id):
            msg = f"org unit {data.org_unit_id} does not exist"
            raise InvalidInput(msg, field="orgUnitId")
        await User.insert(
            User(
                id=user_id,
                username=data.username,
                display_name=data.display_name,
                password_hash=password_hash,
                role=data.role,
                org_unit=data.org_unit_id,
                email=data.email,
                phone=data.phone,
                locale=data.locale,
                is_active=True,
            )
        )
        row = await _user_row(user_id)
        await audit.record(actor=actor, entity="user", entity_id=user_id, action="create", after=row)
    return _user_out(row)


async def update_user(*, actor: Actor, user_id: uuid.UUID, data: UserPatch) -> UserOut:
    """Change a person; deactivating or a new password ends all their sessions at once."""
    scope.require(actor, "users.manage")
    changes = changed_fields(data)
    if "password" in changes:
        target = await User.select(User.username).where(User.id == user_id).first()
        check_password(changes["password"], username=target["username"] if target else "")
    password_hash = await hash_password(changes.pop("password")) if "password" in changes else None
    async with write_transaction():
        await lock_row(User, user_id)
        before = await _user_row(user_id)
        if "org_unit_id" in changes and not await OrgUnit.exists().where(OrgUnit.id == changes["org_unit_id"]):
            msg = f"org unit {changes['org_unit_id']} does not exist"
            raise InvalidInput(msg, field="orgUnitId")
        if user_id == actor.id and (changes.get("is_active") is False or changes.get("role", "hq_admin") != "hq_admin"):
            msg = "you cannot deactivate yourself or give up your own HQ role; ask another HQ admin"
            raise Conflict(msg)
        values: dict[Any, Any] = {User.updated_at: utcnow()}
        column_of = {"org_unit_id": User.org_unit}
        for field, value in changes.items():
            values[column_of.get(field, getattr(User, field, None))] = value
        if password_hash is not None:
            values[User.password_hash] = password_hash
        await User.update(values).where(User.id == user_id)
        if changes.get("is_active") is False or password_hash is not None:
            await Session.delete().where(Session.user == user_id)
        after = await _user_row(user_id)
        audit_changes = audit.diff(before, after)
        if password_hash is not None:
            audit_changes["password"] = ["***", "changed"]
        await audit.record(actor=actor, entity="user", entity_id=user_id, action="update", changes=audit_changes)
    return _user_out(after)


async def me(*, actor: Actor) -> Me:
    """The caller and their permissions."""
    return Me(user=_user_out(await _user_row(actor.id)), permissions=scope.permissions_of(actor))


async def leaders_of(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The managers and directors above a person, nearest first (whom they report to)."""
    row = await User.select(User.org_unit._.path.as_alias("path")).where(User.id == user_id).first()
    if row is None:
        return []
    ancestor_ids = [uuid.UUID(part) for part in row["path"].strip("/").split("/")]
    leaders = await User.select(
        User.id, User.username, User.display_name, User.role, User.org_unit.depth.as_alias("depth")
    ).where(
        User.org_unit.is_in(ancestor_ids),
        User.role.is_in(["manager", "director", "hq_admin"]),
        User.is_active == True,  # noqa: E712
        User.id != user_id,
    )
    return sorted(leaders, key=lambda r: -r["depth"])


# ---------------------------------------------------------------- sessions


def _delay_s(failures: int, free: int, cap: int) -> int:
    """The wait after ``failures`` recent failures: none for the first ``free``, then 1, 2, 4 ... s up to ``cap``."""
    if failures < free:
        return 0
    return int(min(cap, 2 ** min(failures - free, 30)))


async def _reserve_attempt(username: str, ip: str) -> uuid.UUID:
    """Check the throttle and record this attempt as a failure in one step; returns the attempt's id.

    The attempt is written before the password is checked, inside a write transaction that serialises
    attempts on the same account (SQLite's single writer; a transaction-scoped advisory lock on
    PostgreSQL), so concurrent guesses cannot all pass the check before any is recorded. A success
    deletes it again. Delays grow per (account, address); the account-wide limit is not applied from
    an address the account has a session from (docs/security.md).

    Raises:
        TooManyRequests: This account must wait before the next attempt from this address.
    """
    settings = get_settings()
    async with write_transaction():
        if not isinstance(engine(), FieldcrmSQLiteEngine):
            await LoginAttempt.raw("SELECT pg_advisory_xact_lock(hashtext({}))", f"login:{username}")
        now = utcnow()
        cutoff = now - datetime.timedelta(seconds=settings.login_window_s)
        rows = await LoginAttempt.select(LoginAttempt.ip, LoginAttempt.at).where(
            LoginAttempt.at > cutoff, LoginAttempt.username == username
        )
        here = sorted(r["at"] for r in rows if r["ip"] == ip)
        waits = []
        delay = _delay_s(len(here), settings.login_max_failures, settings.login_window_s)
        if delay:
            waits.append(here[-1] + datetime.timedelta(seconds=delay))
        everywhere = sorted(r["at"] for r in rows)
        delay = _delay_s(len(everywhere), settings.login_account_max_failures, settings.login_window_s)
        if delay and not await _known_address(username, ip):
            waits.append(everywhere[-1] + datetime.timedelta(seconds=delay))
        free_at = max(waits, default=now)
        if free_at > now:
            retry_after = max(1, math.ceil((free_at - now).total_seconds()))
            msg = f"too many failed logins; try again in {retry_after} seconds"
            raise TooManyRequests(msg, retry_after=retry_after)
        attempt_id = new_id()
        await LoginAttempt.insert(LoginAttempt(id=attempt_id, username=username, ip=ip, at=now))
    return attempt_id


async def _known_address(username: str, ip: str) -> bool:
    """Whether the account has a live session opened from this address (it signed in here before)."""
    user = User.select(User.id).where(User.username == username)
    live = Session.expires_at > utcnow()
    return bool(await Session.exists().where(Session.user.is_in(user), Session.ip == ip[:64], live))


async def login(
    *, username: str, password: str, ip: str, user_agent: str, old_token: str | None
) -> tuple[LoginResponse, str]:
    """Check a password and open a session; returns the response and the raw token (for the cookie)."""
    username = username.strip()
    await _reserve_attempt(username, ip)
    row = await User.select(User.id, User.password_hash, User.is_active).where(User.username == username).first()
    ok, needs_rehash = await verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None or not row["is_active"]:
        msg = "wrong username or password"
        raise NotAuthenticated(msg)
    token, csrf = new_token(), new_token()
    now = utcnow()
    expires = now + datetime.timedelta(days=get_settings().session_days)
    new_hash = await hash_password(password) if needs_rehash else None
    async with write_transaction():
        if old_token:  # rotate: the session the browser came with ends here
            await Session.delete().where(Session.id == token_digest(old_token))
        await Session.insert(
            Session(
                id=token_digest(token),
                user=row["id"],
                csrf_token=csrf,
                kind="cookie",
                user_agent=user_agent[:300],
                ip=ip[:64],
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
        # this attempt and this address's earlier failures; other addresses' failures still count
        await LoginAttempt.delete().where(LoginAttempt.username == username, LoginAttempt.ip == ip)
        if new_hash is not None:
            await User.update({User.password_hash: new_hash}).where(User.id == row["id"])
    user = _user_out(await _user_row(row["id"]))
    return LoginResponse(token=token, csrf_token=csrf, expires_at=expires, user=user), token


_SESSION_SQL = """
SELECT s.csrf_token, s.expires_at, s.last_seen_at, u.id AS user_id, u.username, u.display_name, u.role,
       u.org_unit AS org_unit_id, o.path AS org_path, u.locale, u.is_active
FROM sessions s JOIN users u ON u.id = s."user" JOIN org_units o ON o.id = u.org_unit
WHERE s.id = {}
"""


async def authenticate(token: str, *, via_cookie: bool) -> Actor | None:
    """The actor behind a session token, or None when it is unknown, expired or the user is inactive."""
    digest = token_digest(token)
    # Every request runs this: hand-written SQL skips about 1 ms of query building per call.
    rows = await Session.raw(_SESSION_SQL, digest)
    row = rows[0] if rows else None
    if row is None or not row["is_active"]:
        return None
    now = utcnow()
    if row["expires_at"] <= now:
        await Session.delete().where(Session.id == digest)
        return None
    if now - row["last_seen_at"] > SESSION_TOUCH_INTERVAL:
        await Session.update({Session.last_seen_at: now}).where(Session.id == digest)
    return Actor(
        id=row["user_id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        org_unit_id=row["org_unit_id"],
        org_path=row["org_path"],
        locale=row["locale"],
        session_id=digest,
        via_cookie=via_cookie,
        csrf_token=row["csrf_token"],
    )


async def actors_of(user_ids: list[uuid.UUID]) -> list[Actor]:
    """Active people as actors without a session: for jobs that act on their behalf (e.g. a daily digest)."""
    if not user_ids:
        return []
    rows = await User.select(
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.org_unit,
        User.org_unit.path.as_alias("org_path"),
        User.locale,
    ).where(User.id.is_in(user_ids), User.is_active.eq(True))
    return [
        Actor(
            id=r["id"],
            username=r["username"],
            display_name=r["display_name"],
            role=r["role"],
            org_unit_id=r["org_unit"],
            org_path=r["org_path"],
            locale=r["locale"],
        )
        for r in rows
    ]


async def logout(*, actor: Actor) -> None:
    """End the caller's session on the server."""
    await Session.delete().where(Session.id == actor.session_id)


async def purge_expired_sessions() -> int:
    """Delete expired sessions and old login failures; returns how many sessions went."""
    now = utcnow()
    gone = await Session.delete().where(Session.expires_at <= now).returning(Session.id)
    await LoginAttempt.delete().where(LoginAttempt.at < now - datetime.timedelta(days=1))
    return len(gone)
