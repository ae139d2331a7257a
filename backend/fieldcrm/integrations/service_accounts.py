"""Service accounts and their tokens: created by HQ, scoped, hashed, revocable, audited."""

import datetime
import json
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.integrations.principal import service_actor
from fieldcrm.integrations.schemas import (
    NewToken,
    ServiceAccount,
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountPage,
    ServiceAccountPatch,
    ServiceToken,
    TokenCreate,
)
from fieldcrm.integrations.tables import ServiceAccount as AccountRow
from fieldcrm.integrations.tables import ServiceToken as TokenRow
from fieldcrm.lib.db import as_uuid, is_unique_violation, write_transaction
from fieldcrm.lib.errors import Conflict, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.security import token_digest

TOKEN_PREFIX = "fcs_"  # noqa: S105 - a marker, not a secret; tells a service-account token from a session token at a glance
LAST_USED_INTERVAL = datetime.timedelta(seconds=60)  # last-used time is written at most this often


def is_service_token(token: str) -> bool:
    """Whether a bearer token is a service account's."""
    return token.startswith(TOKEN_PREFIX)


def _scopes(value: Any) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


def _token_out(row: Mapping[str, Any]) -> ServiceToken:
    return ServiceToken(
        id=row["id"],
        prefix=row["prefix"],
        label=row["label"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def _out(row: Mapping[str, Any]) -> ServiceAccount:
    tokens = await TokenRow.select().where(TokenRow.service_account == row["id"]).order_by(TokenRow.created_at)
    used = [t["last_used_at"] for t in tokens if t["last_used_at"] is not None]
    return ServiceAccount(
        id=row["id"],
        name=row["name"],
        scopes=_scopes(row["scopes"]),
        disabled=row["disabled_at"] is not None,
        tokens=[_token_out(t) for t in tokens],
        last_used_at=max(used) if used else None,
        created_at=row["created_at"],
    )


async def _row(account_id: uuid.UUID) -> dict[str, Any]:
    row = await AccountRow.select().where(AccountRow.id == account_id).first()
    if row is None:
        msg = f"there is no service account {account_id}"
        raise NotFound(msg)
    return row


async def _issue(account_id: uuid.UUID, label: str) -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(
        id=new_id(),
        service_account=account_id,
        digest=token_digest(token),
        prefix=token[:10],
        label=label,
        created_at=utcnow(),
    )
    await TokenRow.insert(row)
    details = ServiceToken(
        id=row.id, prefix=row.prefix, label=label, created_at=row.created_at, last_used_at=None, revoked_at=None
    )
    return NewToken(token=token, service_account_id=account_id, details=details)


async def create_service_account(*, actor: Actor, data: ServiceAccountCreate) -> ServiceAccountCreated:
    """A new service account with its first token (HQ); the token is in this answer only."""
    scope.require(actor, "integrations.manage")
    account_id = new_id()
    scopes = sorted(set(data.scopes))
    try:
        async with write_transaction():
            await AccountRow.insert(
                AccountRow(id=account_id, name=data.name.strip(), scopes=scopes, created_by=actor.id)
            )
            token = await _issue(account_id, data.token_label)
            await audit.record(
                actor=actor,
                entity="service_account",
                entity_id=account_id,
                action="create",
                after={"name": data.name, "scopes": scopes},
            )
            out = await _out(await _row(account_id))
    except Exception as exc:
        if is_unique_violation(exc):
            msg = f"a service account is already named {data.name!r}; choose another name"
            raise Conflict(msg, field="name") from None
        raise
    return ServiceAccountCreated(service_account=out, token=token)


async def list_service_accounts(*, actor: Actor, page: PageParams) -> ServiceAccountPage:
    """Every service account (HQ), by name."""
    scope.require(actor, "integrations.manage")
    rows = await AccountRow.select().order_by(AccountRow.name).limit(page.limit).offset(page.offset)
    total = await AccountRow.count()
    return ServiceAccountPage(items=[await _out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def get_service_account(*, actor: Actor, account_id: uuid.UUID) -> ServiceAccount:
    """One service account with its tokens (never the tokens themselves)."""
    scope.require(actor, "integrations.manage")
    return await _out(await _row(account_id))


async def update_service_account(*, actor: Actor, account_id: uuid.UUID, data: ServiceAccountPatch) -> ServiceAccount:
    """Change the scopes, or disable (and re-enable) every token of the account."""
    scope.require(actor, "integrations.manage")
    changes = changed_fields(data)
    async with write_transaction():
        before = await _row(account_id)
        values: dict[Any, Any] = {AccountRow.updated_at: utcnow()}
        after: dict[str, Any] = {}
        if "scopes" in changes:
            values[AccountRow.scopes] = sorted(set(changes["scopes"]))
            after["scopes"] = sorted(set(changes["scopes"]))
        if "disabled" in changes:
            values[AccountRow.disabled_at] = utcnow() if changes["disabled"] else None
            after["disabled"] = changes["disabled"]
        await AccountRow.update(values).where(AccountRow.id == account_id)
        await audit.record(
            actor=actor,
            entity="service_account",
            entity_id=account_id,
            action="update",
            before={"scopes": _scopes(before["scopes"]), "disabled": before["disabled_at"] is not None},
            after={"scopes": _scopes(before["scopes"]), "disabled": before["disabled_at"] is not None} | after,
        )
        return await _out(await _row(account_id))


async def issue_token(*, actor: Actor, account_id: uuid.UUID, data: TokenCreate) -> NewToken:
    """Another token for the account; shown in this answer only."""
    scope.require(actor, "integrations.manage")
    async with write_transaction():
        await _row(account_id)
        token = await _issue(account_id, data.label)
        await audit.record(
            actor=actor,
            entity="service_token",
            entity_id=token.details.id,
            action="create",
            after={"service_account": account_id, "prefix": token.details.prefix, "label": data.label},
        )
    return token


async def revoke_token(*, actor: Actor, account_id: uuid.UUID, token_id: uuid.UUID) -> None:
    """Revoke a token: calls with it answer 401 from now on."""
    scope.require(actor, "integrations.manage")
    async with write_transaction():
        row = await TokenRow.select().where(TokenRow.id == token_id, TokenRow.service_account == account_id).first()
        if row is None:
            msg = f"service account {account_id} has no token {token_id}"
            raise NotFound(msg)
        if row["revoked_at"] is not None:
            return
        now = utcnow()
        await TokenRow.update({TokenRow.revoked_at: now}).where(TokenRow.id == token_id)
        await audit.record(
            actor=actor, entity="service_token", entity_id=token_id, action="update", changes={"revoked": [False, True]}
        )


_LOOKUP_SQL = (
    "SELECT t.id AS token_id, t.last_used_at, t.revoked_at, a.id AS account_id, a.name, a.scopes, a.disabled_at "
    "FROM service_tokens t JOIN service_accounts a ON a.id = t.service_account WHERE t.digest = {}"
)


async def authenticate(token: str, *, now: datetime.datetime | None = None) -> Actor | None:
    """The service account behind a token, or None when the token is unknown, revoked or its account disabled."""
    rows = await TokenRow.raw(_LOOKUP_SQL, token_digest(token))
    row = rows[0] if rows else None
    if row is None or row["revoked_at"] is not None or row["disabled_at"] is not None:
        return None
    now = now or utcnow()
    last = row["last_used_at"]
    if isinstance(last, str):
        last = datetime.datetime.fromisoformat(last)
    if last is None or now - last > LAST_USED_INTERVAL:
        await TokenRow.update({TokenRow.last_used_at: now}).where(TokenRow.id == as_uuid(row["token_id"]))
    return service_actor(
        account_id=as_uuid(row["account_id"]),
        name=row["name"],
        token_id=as_uuid(row["token_id"]),
        scopes=frozenset(_scopes(row["scopes"])),
    )


async def record_call(actor: Actor, *, method: str, path: str) -> None:
    """Every call of a service account goes into the audit trail under its name (its changes also do, as usual)."""
    await audit.record(
        actor=actor,
        entity="service_account",
        entity_id=actor.id,
        action="call",
        changes={"call": [None, f"{method} {path}"[:300]]},
    )
