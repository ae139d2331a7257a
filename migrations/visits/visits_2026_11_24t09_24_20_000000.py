from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:24:20:000001"
VERSION = "1.38.0"
DESCRIPTION = "indexes for a person's previous check-in, repeated coordinates, an account's visits and day plans"


class Visit(Table, tablename="visits", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="visits", description=DESCRIPTION)

    async def create() -> None:
        for sql in (
            "CREATE INDEX visits_user_time ON visits (\"user\", checked_in_at)",
            "CREATE INDEX visits_coordinates ON visits (latitude, longitude)",
            "CREATE INDEX visits_account_counted ON visits (account, counts_for_coverage, checked_in_on)",
            "CREATE INDEX visit_plans_owner_date ON visit_plans (owner, date)",
        ):
            await Visit.raw(sql)

    manager.add_raw(create)
    return manager
