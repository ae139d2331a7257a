from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T07:36:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes"


class Revenue(Table, tablename="revenue", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create_indexes() -> None:
        # Piccolo's table DSL has no composite index that its SQLite migrations can create.
        for sql in (
            "CREATE UNIQUE INDEX revenue_account_month ON revenue (account, month)",
            "CREATE INDEX accounts_owner_name ON accounts (owner, name)",
            "CREATE INDEX accounts_org_unit_name ON accounts (org_unit, name)",
        ):
            await Revenue.raw(sql)

    async def drop_indexes() -> None:
        for name in ("revenue_account_month", "accounts_owner_name", "accounts_org_unit_name"):
            await Revenue.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
