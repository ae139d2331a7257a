"""Row locks for read-modify-write services whose audit trail diffs a "before" row against an "after" row.

On PostgreSQL a plain SELECT reads the last committed row while another transaction may hold an
uncommitted UPDATE of it; the UPDATE that follows then waits for that writer, and the diff of
before/after would attribute the other writer's change to this request's actor. Taking the row lock
first (``SELECT ... FOR UPDATE``) makes this request wait *before* it reads, so "before" is the row
it really changes. On SQLite every write transaction already holds the database's single write lock
(BEGIN IMMEDIATE), so there is nothing to do.
"""

from typing import Any

from piccolo.table import Table

from fieldcrm.lib.db import FieldcrmSQLiteEngine, engine


async def lock_row(table: type[Table], row_id: Any) -> None:
    """Inside a write transaction: wait for and hold the write lock of one row (PostgreSQL; no-op on SQLite)."""
    if isinstance(engine(), FieldcrmSQLiteEngine):
        return
    key = table._meta.primary_key
    await table.select(key).where(key == row_id).lock_rows("UPDATE")
