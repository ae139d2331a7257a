"""The offline protocol: push applies mutations exactly once, in order; pull sends what changed in scope.

See docs/sync.md. A mutation calls the same service as its REST twin, so validation and
authorization are the domain's own. The whole push runs in one write transaction with a
savepoint per mutation: a mutation that fails for good is rolled back to its savepoint, recorded
as a rejection and still advances the client's counter; a transient failure rolls back the
whole batch (nothing advances) and answers 503.
"""

import asyncio
import contextlib
import contextvars
import datetime
import hashlib
import itertools
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from fieldcrm.accounts import duplicates, feed
from fieldcrm.accounts import services as accounts
from fieldcrm.accounts.schemas import AccountCreate, ContactCreate, NoteCreate
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.cases.mutations import MUTATIONS as CASES_MUTATIONS
from fieldcrm.contracts.mutations import MUTATIONS as CONTRACT_MUTATIONS
from fieldcrm.lib.db import FieldcrmSQLiteEngine, engine, read_transaction, write_transaction
from fieldcrm.lib.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge, Unavailable
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.sales.mutations import MUTATIONS as SALES_MUTATIONS
from fieldcrm.settings import get_settings
from fieldcrm.sync import feeds
from fieldcrm.sync.schemas import (
    MAX_BATCH,
    AccountCreateArgs,
    AccountNoteArgs,
    AccountUpdateArgs,
    ContactCreateArgs,
    ContactDeleteArgs,
    ContactUpdateArgs,
    Deletes,
    Mutation,
    MutationResult,
    PlanUpdateArgs,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Rejection,
    RejectionPage,
    VisitCheckinArgs,
    VisitCheckoutArgs,
    VisitLogArgs,
)
from fieldcrm.sync.tables import ChangeCounter, ScopeChange, SyncClient, SyncHorizon, SyncRejection
from fieldcrm.tasks.mutations import MUTATIONS as TASK_MUTATIONS
from fieldcrm.visits import pins
from fieldcrm.visits import services as visits
from fieldcrm.visits.schemas import CheckinCreate, CheckoutCreate, VisitLogPut, VisitPlanCreate, VisitPlanPatch
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.schemas import ApprovalDecideArgs

SNAPSHOT_PAGE = 500  # accounts per page of a full snapshot
DELTA_LIMIT = 5000  # more changed rows than this and the device gets a fresh snapshot instead
RETRY_AFTER_S = 2
LOCK_TIMEOUT_MS = 5000  # PostgreSQL: a push waits this long for a lock, then answers 503 instead of hanging

# ---------------------------------------------------------------- mutations

# A handler may return extra result fields (conflicts, code, message) for a change it applied only in part.
Handler = Callable[[Actor, Any, Mutation], Awaitable[dict[str, Any] | None]]


async def _account_create(actor: Actor, args: AccountCreateArgs, _: Mutation) -> dict[str, Any] | None:
    """A prospect or member company made on the phone; possible duplicates go back with the result."""
    code = args.code or f"P-{args.id.hex[:12].upper()}"
    found = await duplicates.find(
        actor=actor,
        code=code,
        name=args.name,
        city=args.city,
        latitude=args.latitude if args.latitude is not None else args.pin_latitude,
        longitude=args.longitude if args.longitude is not None else args.pin_longitude,
        exclude=args.id,
    )
    renamed = ""
    if await AccountRow.exists().where(AccountRow.code == code, AccountRow.id != args.id):
        # The code is taken: keep the rep's account (and what they made under it offline) under a marked code.
        renamed, code = code, f"{code}-DUP-{args.id.hex[:6].upper()}"
    fields = {f: getattr(args, f) for f in AccountCreate.__struct_fields__ if f != "code"}
    await accounts.create_account(actor=actor, data=AccountCreate(code=code, **fields))
    if args.pin_latitude is not None and args.pin_longitude is not None and args.latitude is None:
        await pins.propose_pin(
            actor=actor,
            account_id=args.id,
            latitude=args.pin_latitude,
            longitude=args.pin_longitude,
            accuracy_m=args.pin_accuracy_m,
        )
    if not found:
        return (
            {"code": "renamed", "message": f"the code {renamed} was taken, so it was saved as {code}"}
            if renamed
            else None
        )
    names = ", ".join(c.name for c in found[:3])
    msg = f"{args.name} may already exist ({names}); a leader can merge it into the existing account"
    if renamed:
        msg += f"; the code {renamed} was taken, so it was saved as {code}"
    return {"code": "possible_duplicate", "message": msg, "candidates": found}


async def _account_update(actor: Actor, args: AccountUpdateArgs, _: Mutation) -> None:
    await accounts.update_account(actor=actor, account_id=args.id, data=args.changes)


async def _account_note(actor: Actor, args: AccountNoteArgs, mutation: Mutation) -> None:
    data = NoteCreate(id=args.id, text=args.text, captured_at=mutation.captured_at)
    await accounts.create_note(actor=actor, account_id=args.account_id, data=data)


async def _contact_create(actor: Actor, args: ContactCreateArgs, _: Mutation) -> None:
    fields = {f: getattr(args, f) for f in ContactCreate.__struct_fields__}
    await accounts.create_contact(actor=actor, account_id=args.account_id, data=ContactCreate(**fields))


async def _contact_update(actor: Actor, args: ContactUpdateArgs, _: Mutation) -> None:
    await accounts.update_contact(actor=actor, account_id=args.account_id, contact_id=args.id, data=args.changes)


async def _contact_delete(actor: Actor, args: ContactDeleteArgs, _: Mutation) -> None:
    await accounts.delete_contact(actor=actor, account_id=args.account_id, contact_id=args.id)


# The clock of the push being applied: (the device's clock at sending, the server's clock at receiving).
_CLOCK: contextvars.ContextVar[tuple[datetime.datetime | None, datetime.datetime]] = contextvars.ContextVar("clock")


def _device_times(mutation: Mutation) -> tuple[datetime.datetime, datetime.datetime | None, datetime.datetime]:
    """(device time of the change, device time of sending, server time of receiving) for judging device clocks."""
    sent_at, received = _CLOCK.get((None, utcnow()))
    return mutation.captured_at or sent_at or received, sent_at, received


async def _visit_checkin(actor: Actor, args: VisitCheckinArgs, mutation: Mutation) -> None:
    device_at, sent_at, received = _device_times(mutation)
    fields = {f: getattr(args, f) for f in VisitCheckinArgs.__struct_fields__}
    data = CheckinCreate(**fields, device_at=device_at, sent_at=sent_at or device_at)
    await visits.check_in(actor=actor, data=data, received_at=received)


async def _visit_checkout(actor: Actor, args: VisitCheckoutArgs, mutation: Mutation) -> None:
    device_at, sent_at, received = _device_times(mutation)
    data = CheckoutCreate(
        device_at=device_at,
        sent_at=sent_at or device_at,
        latitude=args.latitude,
        longitude=args.longitude,
        accuracy_m=args.accuracy_m,
    )
    await visits.check_out(actor=actor, visit_id=args.visit_id, data=data, received_at=received)


async def _visit_log(actor: Actor, args: VisitLogArgs, _: Mutation) -> None:
    fields = {f: getattr(args, f) for f in VisitLogPut.__struct_fields__}
    await visits.put_log(actor=actor, visit_id=args.visit_id, data=VisitLogPut(**fields))


async def _plan_create(actor: Actor, args: VisitPlanCreate, _: Mutation) -> None:
    await visits.create_plan(actor=actor, data=args)


async def _plan_update(actor: Actor, args: PlanUpdateArgs, _: Mutation) -> None:
    fields = {f: getattr(args, f) for f in VisitPlanPatch.__struct_fields__}
    await visits.update_plan(actor=actor, plan_id=args.id, data=VisitPlanPatch(**fields))


# The tagged union of mutations: name -> (argument Struct, the service it calls).
MUTATIONS: dict[str, tuple[type[msgspec.Struct], Handler]] = {
    "account.create": (AccountCreateArgs, _account_create),
    "account.update": (AccountUpdateArgs, _account_update),
    "account.note": (AccountNoteArgs, _account_note),
    "contact.create": (ContactCreateArgs, _contact_create),
    "contact.update": (ContactUpdateArgs, _contact_update),
    "contact.delete": (ContactDeleteArgs, _contact_delete),
    "visit.checkin": (VisitCheckinArgs, _visit_checkin),
    "visit.checkout": (VisitCheckoutArgs, _visit_checkout),
    "visit.log": (VisitLogArgs, _visit_log),
    "plan.create": (VisitPlanCreate, _plan_create),
    "plan.update": (PlanUpdateArgs, _plan_update),
    "approval.decide": (ApprovalDecideArgs, workflow.sync_decide),
}

MUTATIONS.update(SALES_MUTATIONS)
MUTATIONS.update(CASES_MUTATIONS)
MUTATIONS.update(TASK_MUTATIONS)
MUTATIONS.update(CONTRACT_MUTATIONS)

_CODES: list[tuple[type[DomainError], str]] = [
    (NotFound, "not_found"),
    (Forbidden, "forbidden"),
    (Conflict, "conflict"),
    (InvalidInput, "invalid"),
]


def _code_of(error: DomainError) -> str:
    return next((code for kind, code in _CODES if isinstance(error, kind)), "invalid")


def is_transient(exc: BaseException) -> bool:
    """Failures worth retrying: a busy or unreachable database, a serialisation conflict."""
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    return isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError
        | asyncpg.LockNotAvailableError
        | asyncpg.InterfaceError
        | ConnectionError
        | TimeoutError,
    )


async def _apply(actor: Actor, mutation: Mutation) -> dict[str, Any] | None:
    entry = MUTATIONS.get(mutation.name)
    if entry is None:
        msg = f"this server does not know the change {mutation.name!r}; update the app"
        raise _Rejected("unknown_mutation", msg)
    args_type, handler = entry
    try:
        args = msgspec.convert(mutation.args, args_type, strict=False)
    except msgspec.ValidationError as exc:
        raise _Rejected("invalid", str(exc).replace("$.", "")) from exc
    return await handler(actor, args, mutation)


class _Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def _client_for_push(actor: Actor, client_id: uuid.UUID, user_agent: str) -> dict[str, Any]:
    """The client row, created (bound to the actor) on first use and locked for this batch on PostgreSQL."""
    # Insert-if-absent first: two first pushes of one new device must not race to create it.
    await _ensure_client(actor, client_id, user_agent)
    query = SyncClient.select().where(SyncClient.id == client_id)
    if not isinstance(engine(), FieldcrmSQLiteEngine):  # SQLite's single writer already serialises pushes
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None or row["user"] != actor.id:
        msg = "this device is registered to another user; sign out there first, or start with a new client id"
        raise Forbidden(msg, extra={"code": "client_bound"})
    return row


async def _apply_in_savepoint(
    txn: Any, actor: Actor, client_id: uuid.UUID, mutation: Mutation, rejections: list[SyncRejection]
) -> MutationResult:
    """Apply one mutation; a permanent failure rolls back to the savepoint and becomes a rejection."""
    savepoint = await txn.savepoint()
    try:
        outcome = await _apply(actor, mutation)
    except (DomainError, _Rejected) as exc:
        await savepoint.rollback_to()
        code = exc.code if isinstance(exc, _Rejected) else _code_of(exc)
        message = exc.message
        rejections.append(
            SyncRejection(
                client=client_id,
                mutation_id=mutation.id,
                name=mutation.name,
                code=code,
                message=message,
                args=msgspec.json.encode(mutation.args).decode(),
            )
        )
        return MutationResult(id=mutation.id, status="rejected", code=code, message=message)
    await savepoint.release()
    return MutationResult(id=mutation.id, status="applied", **(outcome or {}))


async def _apply_batch(
    txn: Any, actor: Actor, data: PushRequest, last: int, deadline: float
) -> tuple[int, list[MutationResult], list[SyncRejection]]:
    """Apply the batch from ``last + 1`` on: skip what was applied, stop at a gap or at the push's deadline."""
    guard = get_settings().sync_replay_guard
    last = last if guard else 0
    loop = asyncio.get_running_loop()
    results: list[MutationResult] = []
    rejections: list[SyncRejection] = []
    for mutation in data.mutations:
        if not guard:
            last = mutation.id - 1  # negative control: apply whatever arrives, replays included
        if mutation.id <= last:
            results.append(MutationResult(id=mutation.id, status="skipped"))
            continue
        if mutation.id > last + 1:
            break  # a gap: the device resends from last + 1
        if loop.time() > deadline:
            raise TimeoutError
        results.append(await _apply_in_savepoint(txn, actor, data.client_id, mutation, rejections))
        last = mutation.id
    return last, results, rejections


async def push(*, actor: Actor, data: PushRequest, user_agent: str = "") -> PushResponse:
    """Apply a batch of mutations in order, exactly once each."""
    if len(data.mutations) > MAX_BATCH:
        msg = f"at most {MAX_BATCH} mutations per push, not {len(data.mutations)}; send the rest in the next batch"
        raise PayloadTooLarge(msg)
    ids = [m.id for m in data.mutations]
    if any(b <= a for a, b in itertools.pairwise(ids)):
        msg = "mutation ids must increase through the batch, in the order the changes were made"
        raise InvalidInput(msg, field="mutations")
    clock = _CLOCK.set((data.sent_at, utcnow()))
    deadline_s = get_settings().sync_push_deadline_s
    deadline = asyncio.get_running_loop().time() + deadline_s
    sqlite = isinstance(engine(), FieldcrmSQLiteEngine)
    # One deadline for the whole push: per-statement lock timeouts alone let one push wait for many locks.
    # PostgreSQL cancels the statement in flight; SQLite's driver cannot cancel a statement running in its
    # thread (the connection would be left mid-transaction), so there the deadline is checked between
    # mutations and the busy timeout bounds each wait.
    limit = contextlib.nullcontext() if sqlite else asyncio.timeout(deadline_s)
    try:
        async with limit, write_transaction() as txn:
            if not sqlite:
                await txn.connection.execute(f"SET LOCAL lock_timeout = {int(LOCK_TIMEOUT_MS)}")
                await txn.connection.execute(f"SET LOCAL statement_timeout = {int(deadline_s * 1000)}")
            client = await _client_for_push(actor, data.client_id, user_agent)
            last, results, rejections = await _apply_batch(txn, actor, data, int(client["last_mutation_id"]), deadline)
            if rejections:
                await SyncRejection.insert(*rejections)
            await SyncClient.update({SyncClient.last_mutation_id: last, SyncClient.last_seen_at: utcnow()}).where(
                SyncClient.id == data.client_id
            )
    except Exception as exc:
        if isinstance(exc, TimeoutError | asyncpg.QueryCanceledError):
            msg = f"the server could not finish this batch within {deadline_s} s; nothing was applied, send it again"
            raise Unavailable(msg, retry_after=RETRY_AFTER_S) from exc
        if is_transient(exc):
            msg = "the server is busy; nothing from this batch was applied, send it again"
            raise Unavailable(msg, retry_after=RETRY_AFTER_S) from exc
        raise
    finally:
        _CLOCK.reset(clock)
    return PushResponse(last_mutation_id=last, results=results)


# ---------------------------------------------------------------- pull


async def _ensure_client(actor: Actor, client_id: uuid.UUID, user_agent: str = "") -> None:
    await SyncClient.insert(SyncClient(id=client_id, user=actor.id, user_agent=user_agent[:300])).on_conflict(
        action="DO NOTHING"
    )


async def _bind_for_pull(actor: Actor, client_id: uuid.UUID) -> None:
    row = await SyncClient.select(SyncClient.user).where(SyncClient.id == client_id).first()
    if row is None:
        async with write_transaction():
            await _ensure_client(actor, client_id)
        row = await SyncClient.select(SyncClient.user).where(SyncClient.id == client_id).first()
    if row is None or row["user"] != actor.id:
        msg = "this device is registered to another user; sign out there first, or start with a new client id"
        raise Forbidden(msg, extra={"code": "client_bound"})


def _fingerprint(actor: Actor) -> str:
    """What a device's copy depends on besides the data: who pulls, their role and org unit, the windows.

    A cursor carries it, so a user whose role or team changed (or a server whose windows changed) gets a
    full snapshot at the next pull, without signing in again and without any state kept per device.
    """
    key = f"{actor.id}|{actor.role}|{actor.org_path}|{feeds.fingerprint()}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _parse_cursor(cursor: str | None, fingerprint: str) -> tuple[str, int, uuid.UUID | None, datetime.date | None]:
    """('start', 0, None, None) | ('delta', version, None, day) | ('snapshot', version, after_id, day).

    Cursors: ``d:<version>:<day>:<fingerprint>`` and ``s:<version>:<after>:<day>:<fingerprint>``. A cursor
    of another scope, or of the format before the field day was synced (``<version>``, ``s:<version>:<after>``),
    starts over.
    """
    if cursor is None or cursor == "":
        return "start", 0, None, None
    parts = cursor.split(":")
    try:
        if parts[0] == "d" and len(parts) == 4:
            day = datetime.datetime.strptime(parts[2], "%Y%m%d").replace(tzinfo=datetime.UTC).date()
            version = int(parts[1])
            return ("delta", version, None, day) if parts[3] == fingerprint else ("start", 0, None, None)
        if parts[0] == "s" and len(parts) == 5:
            day = datetime.datetime.strptime(parts[3], "%Y%m%d").replace(tzinfo=datetime.UTC).date()
            version, after = int(parts[1]), uuid.UUID(parts[2]) if parts[2] else None
            return ("snapshot", version, after, day) if parts[4] == fingerprint else ("start", 0, None, None)
        if (parts[0] == "s" and len(parts) == 3) or (len(parts) == 1 and int(parts[0]) >= 0):
            return "start", 0, None, None
    except ValueError:
        pass
    msg = "cursor is not one this server issued; pull with cursor null to start over"
    raise InvalidInput(msg, field="cursor")


def _response(
    result: feed.Feed,
    *,
    cursor: str,
    reset: bool,
    more: bool,
    kinds: dict[str, list[Any]] | None = None,
    gone: dict[str, list[uuid.UUID]] | None = None,
) -> PullResponse:
    kinds = kinds or {}
    gone = gone or {}
    return PullResponse(
        cursor=cursor,
        reset=reset,
        more=more,
        accounts=result.accounts,
        contacts=result.contacts,
        holdings=result.holdings,
        notes=result.notes,
        revenue=result.revenue,
        **{kind: kinds.get(kind, []) for kind in KINDS},
        deletes=Deletes(
            accounts=result.deleted_accounts,
            contacts=result.deleted_contacts,
            holdings=result.deleted_holdings,
            notes=result.deleted_notes,
            **{kind: gone.get(kind, []) for kind in KINDS},
        ),
    )


KINDS = tuple(source.kind for source in feeds.SOURCES)


async def _too_many_changes(actor: Actor, since: int) -> bool:
    """More changed account rows in scope than a delta carries (then the device gets a fresh snapshot).

    Counting in scope is the expensive part of a small pull: when fewer rows changed in the whole
    company, the scope cannot hold more.
    """
    if await feeds.changed_rows(feeds.ACCOUNT_TABLES, since) <= DELTA_LIMIT:
        return False
    return await feed.count_changes(actor=actor, since=since) > DELTA_LIMIT


async def _moved_since(actor: Actor, since: int) -> list[uuid.UUID]:
    """Accounts whose visibility may have changed for this actor since the cursor.

    A reassignment concerns the actor if the previous owner or the account (now) is in the actor's
    scope; a move of a person or a unit (no previous owner recorded) concerns everyone.
    """
    rows = await ScopeChange.select(ScopeChange.account_id, ScopeChange.old_owner).where(ScopeChange.version > since)
    if not rows or scope.sees_everything(actor):  # usually nothing moved; HQ sees every account: every move concerns it
        return list({r["account_id"] for r in rows})
    ids = list({r["account_id"] for r in rows})
    owned = [f] if (f := scope.owner_filter(actor, AccountRow.owner)) is not None else []
    visible = {r["id"] for r in await AccountRow.select(AccountRow.id).where(AccountRow.id.is_in(ids), *owned)}
    owners = list({r["old_owner"] for r in rows if r["old_owner"] is not None})
    limit = scope.user_filter(actor)
    known = await User.select(User.id).where(User.id.is_in(owners), limit) if owners and limit is not None else []
    seen_before = {r["id"] for r in known}
    relevant = {
        r["account_id"]
        for r in rows
        if r["old_owner"] is None or r["old_owner"] in seen_before or r["account_id"] in visible
    }
    return list(relevant)


async def pull(*, actor: Actor, data: PullRequest) -> PullResponse:
    """Changes since the cursor in the actor's current scope, read in one snapshot (docs/sync.md)."""
    fingerprint = _fingerprint(actor)
    kind, since, after, day = _parse_cursor(data.cursor, fingerprint)
    await _bind_for_pull(actor, data.client_id)
    window_start, _ = await accounts.revenue_window()
    today = feeds.pull_day()
    windows = feeds.Windows.on(today)
    async with read_transaction():
        counter = await ChangeCounter.select(ChangeCounter.value).where(ChangeCounter.id == 1).first()
        horizon = await SyncHorizon.select(SyncHorizon.version).where(SyncHorizon.id == 1).first()
        version = int(counter["value"]) if counter else 0
        oldest = int(horizon["version"]) if horizon else 0
        if kind == "delta" and (since < oldest or since > version):
            kind, after = "start", None  # tombstones purged (or a cursor from another database): start over
        newest = await feeds.newest_versions() if kind == "delta" else {}
        accounts_changed = any(newest.get(t, 0) > since for t in feeds.ACCOUNT_TABLES)
        if kind == "delta" and accounts_changed and await _too_many_changes(actor, since):
            kind, after = "start", None
        if kind == "delta":
            moved = await _moved_since(actor, since)
            if moved or accounts_changed:
                result = await feed.changes_since(actor=actor, since=since, moved=moved, window_start=window_start)
            else:  # nothing of the accounts changed anywhere: no need to look in scope
                result = feed.Feed(**{f: [] for f in feed.Feed.__struct_fields__})
            old = feeds.Windows.on(day) if day is not None else None
            kinds, gone = await feeds.changes(actor, since, moved, old, windows, newest=newest)
            cursor = f"d:{version}:{today:%Y%m%d}:{fingerprint}"
            return _response(result, cursor=cursor, reset=False, more=False, kinds=kinds, gone=gone)
        snapshot_version = version if kind == "start" else since
        page_day = today if kind == "start" or day is None else day
        page = await feed.snapshot_page(actor=actor, after=after, limit=SNAPSHOT_PAGE, window_start=window_start)
        # The other kinds come whole with the first page, read in its snapshot; later pages carry accounts only.
        kinds = await feeds.snapshot(actor, windows) if kind == "start" else {}
        more = len(page.accounts) == SNAPSHOT_PAGE
        if more:
            cursor = f"s:{snapshot_version}:{page.accounts[-1].id}:{page_day:%Y%m%d}:{fingerprint}"
        else:
            cursor = f"d:{snapshot_version}:{page_day:%Y%m%d}:{fingerprint}"
        return _response(page, cursor=cursor, reset=kind == "start", more=more, kinds=kinds)


async def rejections(*, actor: Actor, client_id: uuid.UUID, page: PageParams) -> RejectionPage:
    """A client's rejected mutations, newest first (only its own user may read them)."""
    client = await SyncClient.select(SyncClient.user).where(SyncClient.id == client_id).first()
    if client is None or client["user"] != actor.id:
        msg = f"client {client_id} not found"
        raise NotFound(msg)
    where = SyncRejection.client == client_id
    rows = await (
        SyncRejection.select()
        .where(where)
        .order_by(SyncRejection.mutation_id, ascending=False)
        .limit(page.limit)
        .offset(page.offset)
    )
    total = await SyncRejection.count().where(where)
    items = [
        Rejection(mutation_id=r["mutation_id"], name=r["name"], code=r["code"], message=r["message"], at=r["at"])
        for r in rows
    ]
    return RejectionPage(items=items, total=total, next_cursor=page.next_cursor(total))


async def purge_tombstones(*, older_than: datetime.timedelta = datetime.timedelta(days=30)) -> int:
    """Drop soft-deleted synced rows and scope-change records older than the horizon; cursors before it reset."""
    cutoff = utcnow() - older_than
    async with write_transaction():
        counter = await ChangeCounter.select(ChangeCounter.value).where(ChangeCounter.id == 1).first()
        purged = await accounts.purge_deleted(before=cutoff)
        version = int(counter["value"]) if counter else 0
        if purged:
            await SyncHorizon.update({SyncHorizon.version: version}).where(SyncHorizon.id == 1)
            await ScopeChange.delete().where(ScopeChange.version <= version)
    return purged
