from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering indexes for the KPI aggregates: each reads a range of days from an index alone"


class Target(Table, tablename="targets", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def create() -> None:
        for sql in (
            # Replaced by the covering indexes below; a plain one on closed_at also made "closed_at IS NULL"
            # look selective to SQLite's planner.
            "DROP INDEX opportunities_created_at",
            "DROP INDEX opportunities_closed_at",
            "DROP INDEX quotes_decided_at",
            "DROP INDEX workflow_instances_ended_at",
            "CREATE INDEX opportunities_created_kpi ON opportunities (created_at, owner, deleted_at)",
            "CREATE INDEX opportunities_closed_kpi ON opportunities (closed_at, owner, stage, amount_cents, deleted_at) "
            "WHERE closed_at IS NOT NULL",
            "CREATE INDEX opportunities_open_kpi ON opportunities "
            "(expected_close, owner, stage, amount_cents, probability) WHERE closed_at IS NULL AND deleted_at IS NULL",
            'CREATE INDEX visits_day_kpi ON visits '
            '(checked_in_on, "user", review_status, verdict, counts_for_coverage, account)',
            "CREATE INDEX tasks_due_kpi ON tasks (assignee, due_date, state, deleted_at, completed_at)",
            "CREATE INDEX quotes_decided_kpi ON quotes (decided_at, state, owner, list_total_cents, total_cents)",
            "CREATE INDEX workflow_instances_ended_kpi ON workflow_instances "
            "(subject_kind, ended_at, status, owner, started_at)",
            "CREATE INDEX cases_due_kpi ON cases (due_at, state, owner, resolved_at)",
        ):
            await Target.raw(sql)

    manager.add_raw(create)
    return manager
