"""Backups and restores of the SQLite database (docs/backup.md; PostgreSQL uses pg_dump, see there).

A backup is SQLite's online backup API run from a connection that first pins a read snapshot: in
WAL mode writers carry on while it copies, and the copy is exactly the database as of that
snapshot (a backup that copied in steps would restart on every write and might never finish under
load). The copy is written beside the target, checked with ``PRAGMA integrity_check``, switched out
of WAL mode so it is one self-contained file, and only then renamed into place.

A restore checks the file first (a SQLite database, intact, with fieldcrm's migration table), refuses
a target that holds data unless forced, and copies with the same backup API, so a process that still
has the target open sees the old database or the new one, never a mix.
"""

import contextlib
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATION_TABLE = "migration"  # Piccolo's record of applied migrations: every fieldcrm database has it


class BackupError(Exception):
    """A backup or restore that could not be made or was refused; the message says why and what to do."""


@dataclass(frozen=True)
class TableDigest:
    """A table's row count and a SHA-256 over its rows in rowid order."""

    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore wrote."""

    path: Path
    bytes: int
    pages: int
    seconds: float
    tables: dict[str, TableDigest]

    @property
    def total_rows(self) -> int:
        """Rows in every table together."""
        return sum(t.rows for t in self.tables.values())


@contextlib.contextmanager
def _connect(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def _integrity(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    return [] if [r[0] for r in rows] == ["ok"] else [str(r[0]) for r in rows]


def user_tables(connection: sqlite3.Connection) -> list[str]:
    """The database's own tables (not SQLite's internal ones), by name."""
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def digest(connection: sqlite3.Connection, tables: list[str] | None = None) -> dict[str, TableDigest]:
    """Row counts and checksums of ``tables`` (default: all of them), as this connection sees them."""
    result: dict[str, TableDigest] = {}
    for table in tables if tables is not None else user_tables(connection):
        sha = hashlib.sha256()
        count = 0
        # Table names come from sqlite_master or the caller's own list, quoted as identifiers.
        quoted = '"' + table.replace('"', '""') + '"'
        for row in connection.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):  # noqa: S608
            sha.update(repr(row).encode())
            count += 1
        result[table] = TableDigest(rows=count, sha256=sha.hexdigest())
    return result


def check_backup_file(path: Path) -> dict[str, TableDigest]:
    """Check that ``path`` is an intact fieldcrm SQLite database; return its tables' digests.

    Raises:
        BackupError: When it is missing, not SQLite, damaged, or not a fieldcrm database.
    """
    if not path.is_file():
        msg = f"{path}: no such file"
        raise BackupError(msg)
    with path.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            msg = f"{path} is not a SQLite database (a PostgreSQL dump is restored with pg_restore: docs/backup.md)"
            raise BackupError(msg)
    try:
        with _connect(path, readonly=True) as connection:
            problems = _integrity(connection)
            tables = [] if problems else user_tables(connection)
            digests = digest(connection, tables) if MIGRATION_TABLE in tables else {}
    except sqlite3.DatabaseError as exc:  # so damaged that even the check cannot read it
        problems = [str(exc)]
    if problems:
        msg = f"{path} is damaged (integrity_check: {'; '.join(problems[:5])}); use an older backup"
        raise BackupError(msg)
    if MIGRATION_TABLE not in tables:
        msg = f"{path} is a SQLite database but not a fieldcrm one (it has no {MIGRATION_TABLE} table)"
        raise BackupError(msg)
    return digests


def backup_sqlite(
    source: Path,
    destination: Path,
    *,
    overwrite: bool = False,
    on_snapshot: Callable[[sqlite3.Connection], None] | None = None,
) -> BackupResult:
    """Copy the live database ``source`` into ``destination`` as one consistent, checked file.

    Args:
        source: The database file the API uses (it may be written to meanwhile).
        destination: The backup file to create.
        overwrite: Replace an existing ``destination``.
        on_snapshot: Called with the source connection once its snapshot is pinned and before the copy
            (the copy holds exactly what this connection sees); tests use it to compare.

    Raises:
        BackupError: When the source is missing, the destination exists, or the copy fails its check.
    """
    if not source.is_file():
        msg = f"{source}: no database there (is DATABASE_URL right?)"
        raise BackupError(msg)
    if destination.exists() and not overwrite:
        msg = f"{destination} already exists; choose another name or pass --force to replace it"
        raise BackupError(msg)
    if destination.resolve() == source.resolve():
        msg = "the backup file must not be the database itself"
        raise BackupError(msg)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        with _connect(source) as src, _connect(partial) as dst:
            src.execute("BEGIN")  # pin one snapshot: the copy is the database as of this moment
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if on_snapshot is not None:
                on_snapshot(src)
            src.backup(dst)
            src.execute("COMMIT")
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            problems = _integrity(dst)
            if problems:
                msg = f"the copy failed its integrity check ({'; '.join(problems[:5])}); the database may be damaged"
                raise BackupError(msg)
            tables = digest(dst)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        os.replace(partial, destination)
    except sqlite3.Error as exc:
        msg = f"backup failed: {exc}"
        raise BackupError(msg) from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(
        path=destination,
        bytes=destination.stat().st_size,
        pages=pages,
        seconds=time.perf_counter() - started,
        tables=tables,
    )


def _holds_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _connect(path, readonly=True) as connection:
        for table in user_tables(connection):
            if table == MIGRATION_TABLE:
                continue  # a migrated but empty database holds nothing to lose
            quoted = '"' + table.replace('"', '""') + '"'
            if connection.execute(f"SELECT 1 FROM {quoted} LIMIT 1").fetchone():  # noqa: S608
                return True
    return False


def restore_sqlite(backup: Path, target: Path, *, force: bool = False) -> BackupResult:
    """Replace the database ``target`` with the backup file ``backup``, after checking it.

    Args:
        backup: A file made by ``backup_sqlite`` (or any intact fieldcrm SQLite database).
        target: The database file to replace.
        force: Replace a target that holds data (stop the API and workers first).

    Raises:
        BackupError: When the backup fails its checks, the target holds data and ``force`` is not set,
            or the restored copy differs from the backup.
    """
    expected = check_backup_file(backup)
    if backup.resolve() == target.resolve():
        msg = "the backup file is the database itself"
        raise BackupError(msg)
    if _holds_data(target) and not force:
        msg = (
            f"{target} holds data; stop the API and the workers, take a backup of it, "
            "then run restore again with --force to replace it"
        )
        raise BackupError(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        with _connect(backup, readonly=True) as src, _connect(target) as dst:
            src.backup(dst)  # one locked copy: a connection still open on target sees old or new, never a mix
            dst.execute("PRAGMA journal_mode = WAL")  # what the API asserts at start-up
            problems = _integrity(dst)
            tables = digest(dst)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.Error as exc:
        msg = f"restore failed: {exc}"
        raise BackupError(msg) from exc
    if problems or tables != expected:
        msg = f"the restored database differs from the backup ({'; '.join(problems[:5]) or 'row checksums'})"
        raise BackupError(msg)
    _reset_device_cursors(target)
    return BackupResult(
        path=target,
        bytes=target.stat().st_size,
        pages=pages,
        seconds=time.perf_counter() - started,
        tables=tables,
    )


CURSOR_JUMP = 1_000_000_000  # far past any version a device could have seen from the lost future


def _reset_device_cursors(target: Path) -> None:
    """Make every device's next pull a full snapshot (docs/backup.md: devices may be ahead of a backup).

    A device that pulled after the backup holds a cursor past the restored change counter; once the
    counter grew past it again, its pull would skip what changed in between. Moving the counter far
    ahead and the tombstone horizon up to it makes every existing cursor older than the horizon.
    """
    with _connect(target) as connection:
        tables = set(user_tables(connection))
        if {"change_counter", "sync_horizon"} <= tables:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE change_counter SET value = value + ? WHERE id = 1", (CURSOR_JUMP,))
            connection.execute("UPDATE sync_horizon SET version = (SELECT value FROM change_counter WHERE id = 1)")
            connection.execute("COMMIT")


def postgres_advice(database_url: str) -> str:
    """What to run instead on PostgreSQL (the password stays out of the text)."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - only this message needs it

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "fieldcrm"
    host = f" -h {parts.hostname}" if parts.hostname else ""
    port = f" -p {parts.port}" if parts.port else ""
    user = f" -U {parts.username}" if parts.username else ""
    return (
        "the database is PostgreSQL: back it up with pg_dump and restore with pg_restore, e.g.\n"
        f"  pg_dump{host}{port}{user} -Fc -f fieldcrm.dump {name}\n"
        f"  pg_restore{host}{port}{user} --clean --if-exists -d {name} fieldcrm.dump\n"
        "and for point-in-time recovery keep base backups and archived WAL (docs/backup.md)"
    )
