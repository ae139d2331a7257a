"""Database engines: SQLite with one shared writer and a few readers, PostgreSQL with a pool.

Piccolo's stock SQLite engine opens a connection for every statement and lets concurrent
writers fight over the file lock. Here one writer connection is shared behind an asyncio lock
(writes queue in the process instead of spinning in busy-wait), reads use a small pool of
reader connections (WAL lets them run beside the writer), and every connection is set up
once with the durability pragmas. Both engines count statements, so tests can assert how
many queries an endpoint issues.
"""

import asyncio
import contextlib
import contextvars
import datetime
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

import aiosqlite
import asyncpg
from piccolo.columns import JSON, JSONB, Column
from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import ADAPTERS as SQLITE_ADAPTERS
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from fieldcrm.settings import Settings

_query_counter: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "fieldcrm_query_counter", default=None
)


@contextlib.contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run in this context (used by tests to bound queries per request)."""
    statements: list[str] = []
    token = _query_counter.set(statements)
    try:
        yield statements
    finally:
        _query_counter.reset(token)


def _record(sql: str) -> None:
    counter = _query_counter.get()
    if counter is not None:
        counter.append(sql)


class _SQLiteState:
    """Connections and locks of one event loop."""

    def __init__(self) -> None:
        self.writer: aiosqlite.Connection | None = None
        self.write_lock = asyncio.Lock()
        self.readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self.reader_count = 0
        self.open_lock = asyncio.Lock()


class FieldcrmSQLiteTransaction(SQLiteTransaction):
    """A transaction on the shared writer (IMMEDIATE/EXCLUSIVE) or on a pooled reader (DEFERRED)."""

    __slots__ = ("_lease",)

    async def get_connection(self) -> aiosqlite.Connection:
        """The shared writer for IMMEDIATE/EXCLUSIVE transactions, a pooled reader for DEFERRED ones."""
        engine: FieldcrmSQLiteEngine = self.engine  # type: ignore[assignment]
        if self.transaction_type is TransactionType.deferred:
            self._lease = "reader"
            return await engine.acquire_reader()
        self._lease = "writer"
        return await engine.acquire_writer()

    async def __aenter__(self) -> "FieldcrmSQLiteTransaction":
        if self._parent is not None:
            return self._parent  # type: ignore[return-value]
        self.connection = await self.get_connection()
        try:
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            # BEGIN failed (busy past the timeout): hand the connection back, or the next writer waits forever.
            self._release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    def _release(self) -> None:
        engine: FieldcrmSQLiteEngine = self.engine  # type: ignore[assignment]
        if self._lease == "reader":
            engine.release_reader(self.connection)
        else:
            engine.release_writer()

    async def __aexit__(self, exception_type: object, exception: object, traceback: object) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            if self.connection.in_transaction:  # a failed COMMIT leaves it open; never hand it on like that
                with contextlib.suppress(sqlite3.Error):
                    await self.connection.execute("ROLLBACK")
            self._release()
            self.engine.current_transaction.reset(self.context)
        return exception is None


class FieldcrmSQLiteEngine(SQLiteEngine):
    """SQLite in WAL mode with synchronous=FULL, a busy timeout and one serialised writer."""

    def __init__(self, path: str, *, readers: int = 4, busy_timeout_ms: int = 5000) -> None:
        super().__init__(path=path, check_same_thread=False)
        self.max_readers = readers
        self.busy_timeout_ms = busy_timeout_ms
        self._states: dict[int, _SQLiteState] = {}

    def _state(self) -> _SQLiteState:
        loop = asyncio.get_running_loop()
        state = self._states.get(id(loop))
        if state is None:
            state = self._states[id(loop)] = _SQLiteState()
        return state

    async def _open(self, cache_kib: int = 8_192) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # A daemon worker thread: a connection left open never keeps the process from exiting.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute(f"PRAGMA cache_size = {-int(cache_kib)}")
        return connection

    async def acquire_writer(self) -> aiosqlite.Connection:
        """Take the single writer connection; callers queue on the lock."""
        state = self._state()
        await state.write_lock.acquire()
        try:
            if state.writer is None:
                # A larger page cache on the writer: bulk updates touch many index pages.
                state.writer = await self._open(cache_kib=32_768)
        except BaseException:
            state.write_lock.release()
            raise
        return state.writer

    def release_writer(self) -> None:
        """Hand the writer to the next caller."""
        self._state().write_lock.release()

    async def acquire_reader(self) -> aiosqlite.Connection:
        """Borrow a reader connection, opening one while under the pool size."""
        state = self._state()
        if state.readers.empty():
            async with state.open_lock:
                if state.readers.empty() and state.reader_count < self.max_readers:
                    state.reader_count += 1
                    try:
                        return await self._open()
                    except BaseException:
                        state.reader_count -= 1
                        raise
        return await state.readers.get()

    def release_reader(self, connection: aiosqlite.Connection) -> None:
        """Return a reader to the pool."""
        self._state().readers.put_nowait(connection)

    async def get_connection(self) -> aiosqlite.Connection:
        """A fresh connection with the pragmas set (Piccolo calls this for batches)."""
        return await self._open()

    async def close(self) -> None:
        """Close every connection of the running loop."""
        state = self._states.pop(id(asyncio.get_running_loop()), None)
        if state is None:
            return
        if state.writer is not None:
            async with state.write_lock:
                await state.writer.close()
        while not state.readers.empty():
            await state.readers.get_nowait().close()

    async def settings_in_force(self) -> dict[str, Any]:
        """The pragmas of a live connection, to assert at start-up."""
        async with self.transaction(transaction_type=TransactionType.immediate) as txn:
            connection = txn.connection
            result: dict[str, Any] = {}
            for pragma in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"):
                async with connection.execute(f"PRAGMA {pragma}") as cursor:
                    row = await cursor.fetchone()
                    result[pragma] = next(iter(row.values()))
        return result

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        _record(query)
        async with connection.execute(query, args or []) as cursor:
            rows: list[dict[str, Any]] = list(await cursor.fetchall())  # type: ignore[arg-type]  # dict_factory rows
            return rows

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        if query_type == "select" or (query_type == "generic" and query.lstrip()[:6].upper() == "SELECT"):
            connection = await self.acquire_reader()
            try:
                return await self._run_in_existing_connection(connection, query, args)
            finally:
                self.release_reader(connection)
        connection = await self.acquire_writer()
        try:
            # isolation_level=None: each statement commits on its own.
            return await self._run_in_existing_connection(connection, query, args)
        finally:
            self.release_writer()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> FieldcrmSQLiteTransaction:
        """A write transaction by default: BEGIN IMMEDIATE on the shared writer."""
        return FieldcrmSQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class FieldcrmPostgresEngine(PostgresEngine):
    """PostgreSQL through an asyncpg pool, counting statements."""

    def __init__(self, dsn: str, *, pool_min: int = 2, pool_max: int = 20) -> None:
        super().__init__(config={"dsn": dsn})
        self.pool_min = pool_min
        self.pool_max = pool_max

    async def run_querystring(self, querystring: Any, in_pool: bool = True) -> Any:
        """Run a statement, counting it."""
        _record(str(querystring))
        return await super().run_querystring(querystring, in_pool=in_pool)

    async def open(self) -> None:
        """Start the pool (idempotent)."""
        if self.pool is None:
            await self.start_connection_pool(min_size=self.pool_min, max_size=self.pool_max)

    async def close(self) -> None:
        """Close the pool."""
        if self.pool is not None:
            await self.close_connection_pool()


Engine = FieldcrmSQLiteEngine | FieldcrmPostgresEngine


def make_engine(settings: Settings) -> Engine:
    """The engine for ``DATABASE_URL``: sqlite:///path (default) or postgresql://..."""
    url = settings.database_url
    if settings.is_sqlite:
        return FieldcrmSQLiteEngine(
            settings.sqlite_path, readers=settings.sqlite_readers, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
    if url.startswith(("postgresql://", "postgres://")):
        return FieldcrmPostgresEngine(url, pool_min=settings.pg_pool_min, pool_max=settings.pg_pool_max)
    msg = f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url.split(':', 1)[0]}:"
    raise ValueError(msg)


def engine() -> Engine:
    """The process's engine, as Piccolo's configuration defines it."""
    from fieldcrm.piccolo_conf import DB  # noqa: PLC0415 - piccolo_conf imports this module to build DB

    return DB


def write_transaction() -> Any:
    """A write transaction: BEGIN IMMEDIATE on SQLite (no upgrade deadlocks), a plain one on PostgreSQL."""
    db = engine()
    return db.transaction()


@contextlib.asynccontextmanager
async def read_transaction() -> AsyncIterator[None]:
    """Several reads that must see one snapshot (a reader on SQLite, REPEATABLE READ on PostgreSQL)."""
    db = engine()
    if isinstance(db, FieldcrmSQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.deferred):
            yield
        return
    async with db.transaction() as txn:
        await txn.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


async def open_engine() -> None:
    """Open the pool and, on SQLite, assert the durability settings took effect."""
    db = engine()
    if isinstance(db, FieldcrmPostgresEngine):
        await db.open()
        return
    pragmas = await db.settings_in_force()
    expected = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
    wrong = {k: pragmas[k] for k, v in expected.items() if pragmas[k] != v}
    if wrong or pragmas["busy_timeout"] <= 0:
        msg = f"SQLite did not accept the durability settings: {pragmas}"
        raise RuntimeError(msg)


async def close_engine() -> None:
    """Close every connection the engine holds for the running loop."""
    await engine().close()


def contains_text(sql_expression: str, needle: str) -> Any:
    """WHERE the SQL expression contains ``needle`` literally (no LIKE wildcards to escape; any script)."""
    function = "instr" if isinstance(engine(), FieldcrmSQLiteEngine) else "strpos"
    return WhereRaw(f"{function}({sql_expression}, {{}}) > 0", needle)


def required(row: dict[str, Any] | None) -> dict[str, Any]:
    """A row the caller just wrote or locked; its absence is a bug, not a user error."""
    if row is None:
        msg = "a row written in this transaction could not be read back"
        raise RuntimeError(msg)
    return row


def is_unique_violation(exc: BaseException) -> bool:
    """Whether a driver error is a unique-constraint violation (a race lost to a concurrent insert)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(exc)


def is_out_of_range(exc: BaseException) -> bool:
    """Whether a driver refused a bound value as too large for its column (a number the API should have bounded)."""
    if isinstance(exc, asyncpg.DataError) and isinstance(exc.__cause__, OverflowError):
        return True
    return isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc)


# ---------------------------------------------------------------- bulk statements
# Piccolo's multi-row INSERT costs about 0.1 ms a row to build; imports, segmentation and the demo
# write tens of thousands of rows through the driver's executemany instead.


def _numbered(sql: str) -> str:
    """Turn ``?`` placeholders into asyncpg's ``$1..$n`` (outside string literals)."""
    out: list[str] = []
    number = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
        else:
            out.append(char)
    return "".join(out)


def _sqlite_value(value: Any) -> Any:
    # Exactly what Piccolo writes: UUIDs as text, tz-aware datetimes as UTC text with +00:00, dates as ISO text.
    adapter = SQLITE_ADAPTERS.get(type(value))
    return adapter(value) if adapter is not None else value


async def executemany(sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """Run one statement for many parameter rows on the current write transaction's connection.

    Write the SQL with ``?`` placeholders; on PostgreSQL they become ``$1..$n``. Pass values as
    Python objects (uuid.UUID, datetime, date, int, str, None): on SQLite they are stored as
    Piccolo stores them. Must run inside ``write_transaction()``.

    Args:
        sql: One INSERT or UPDATE statement with ``?`` placeholders.
        rows: One parameter sequence per execution.

    Raises:
        RuntimeError: When called outside a transaction.
    """
    db = engine()
    txn = db.current_transaction.get()
    if txn is None:
        msg = "executemany must run inside write_transaction()"
        raise RuntimeError(msg)
    if isinstance(db, FieldcrmSQLiteEngine):
        params = [tuple(_sqlite_value(v) for v in row) for row in rows]
        if params:
            _record(sql)
            cursor = await txn.connection.executemany(sql, params)
            await cursor.close()
        return
    params = [tuple(row) for row in rows]
    if params:
        _record(sql)
        await txn.connection.executemany(_numbered(sql), params)


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID whether the driver returned one or its text."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_date(value: Any) -> datetime.date:
    """A date whether the driver returned one or its ISO text."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _column_value(column: Column, value: Any) -> Any:
    if isinstance(column, JSON | JSONB) and not isinstance(value, str) and value is not None:
        return dump_json(value)  # the text Piccolo itself would store
    if isinstance(value, Table):
        return getattr(value, value._meta.primary_key._meta.name)
    return value


async def insert_rows(table: type[Table], instances: Sequence[Table]) -> None:
    """Insert prepared Piccolo instances with one ``executemany`` (Piccolo's multi-row INSERT costs ~0.1 ms a row).

    Values are the instances' attributes, defaults included (Piccolo fills them when an instance is built).

    Args:
        table: The table class.
        instances: Rows built with ``table(...)`` (e.g. ``audit.entry_row``).
    """
    if not instances:
        return
    columns = table._meta.columns
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table._meta.tablename} ({names}) VALUES ({marks})"  # noqa: S608 - names come from the table class
    await executemany(sql, ([_column_value(c, getattr(i, c._meta.name)) for c in columns] for i in instances))
