from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:58:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "account_arrears in page order: (oldest_due_on, account)"


class AccountArrears(Table, tablename="account_arrears", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def create() -> None:
        await AccountArrears._meta.db.run_ddl(
            "CREATE INDEX account_arrears_page ON account_arrears (oldest_due_on, account)"
        )

    async def drop() -> None:
        await AccountArrears._meta.db.run_ddl("DROP INDEX IF EXISTS account_arrears_page")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
