from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:00:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes that let scoped lists count live accounts without reading the table"


class Account(Table, tablename="accounts", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create() -> None:
        # Every list filters on deleted_at IS NULL; with the owner first, a rep's or a team's
        # count and first page come from the index alone.
        for sql in (
            "DROP INDEX IF EXISTS accounts_owner_name",
            "CREATE INDEX accounts_owner_live_name ON accounts (owner, deleted_at, name)",
            "CREATE INDEX accounts_live_name ON accounts (deleted_at, name)",
        ):
            await Account.raw(sql)

    manager.add_raw(create)
    return manager
