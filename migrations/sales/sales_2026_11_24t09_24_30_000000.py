from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:24:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "quote numbers unique per revision; list indexes"


class Quote(Table, tablename="quotes", schema=None):
    pass


INDEXES = (
    ("quotes_number_revision", "CREATE UNIQUE INDEX quotes_number_revision ON quotes (number, revision)"),
    ("quotes_year_seq_revision", "CREATE UNIQUE INDEX quotes_year_seq_revision ON quotes (year, seq, revision)"),
    ("quotes_account_created", "CREATE INDEX quotes_account_created ON quotes (account, created_at)"),
    ("opportunities_account_close", "CREATE INDEX opportunities_account_close ON opportunities (account, expected_close)"),
    ("quote_lines_quote_position", "CREATE INDEX quote_lines_quote_position ON quote_lines (quote, position)"),
)

async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def create() -> None:
        for _, sql in INDEXES:
            await Quote.raw(sql)

    async def drop() -> None:
        for name, _ in INDEXES:
            await Quote.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
