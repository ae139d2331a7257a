from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:24:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "H3 cells of existing account locations; indexes for the coverage map and the neglected list"


class Account(Table, tablename="accounts", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def backfill() -> None:
        from fieldcrm.accounts import geo  # noqa: PLC0415 - migrations import the code they need lazily

        rows = await Account.raw(
            "SELECT id, latitude, longitude FROM accounts WHERE latitude IS NOT NULL AND longitude IS NOT NULL"
        )
        for row in rows:
            cells = geo.cells(row["latitude"], row["longitude"])
            await Account.raw(
                "UPDATE accounts SET h3_r3 = {}, h3_r5 = {}, h3_r7 = {} WHERE id = {}",
                cells["h3_r3"],
                cells["h3_r5"],
                cells["h3_r7"],
                row["id"],
            )
        for sql in (
            # The map: live accounts in a bounding box grouped by cell, counted from the index alone.
            "CREATE INDEX accounts_map ON accounts "
            "(deleted_at, latitude, longitude, tier, last_visited_on, owner, h3_r3, h3_r5, h3_r7)",
            # The neglected list: ordered and counted from the index; only the page's rows are read.
            "CREATE INDEX accounts_neglect ON accounts (deleted_at, tier, last_visited_on, owner, revenue_12m_cents, id)",
            # Coverage shares: status counts by owner from the index.
            "CREATE INDEX accounts_coverage ON accounts (deleted_at, owner, tier, last_visited_on)",
        ):
            await Account.raw(sql)

    manager.add_raw(backfill)
    return manager
