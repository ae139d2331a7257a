from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "person-first covering indexes: a rep's or a team's KPIs read their own rows, not the company's range"


class Target(Table, tablename="targets", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def create() -> None:
        for sql in (
            'CREATE INDEX visits_user_day_kpi ON visits ("user", checked_in_on, review_status, verdict, account)',
            "CREATE INDEX opportunities_owner_created_kpi ON opportunities (owner, created_at, deleted_at)",
            "CREATE INDEX opportunities_owner_closed_kpi ON opportunities "
            "(owner, closed_at, stage, amount_cents, deleted_at) WHERE closed_at IS NOT NULL",
            "CREATE INDEX opportunities_owner_open_kpi ON opportunities "
            "(owner, expected_close, stage, amount_cents, probability) WHERE closed_at IS NULL AND deleted_at IS NULL",
        ):
            await Target.raw(sql)

    manager.add_raw(create)
    return manager
