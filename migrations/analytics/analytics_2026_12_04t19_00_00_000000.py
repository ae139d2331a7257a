from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "targets per (level, subject, month); indexes the KPI aggregates read by time"


class Target(Table, tablename="targets", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def create() -> None:
        for sql in (
            """CREATE TABLE targets (
                id UUID PRIMARY KEY NOT NULL,
                level VARCHAR(16) NOT NULL DEFAULT '',
                subject_id UUID NOT NULL,
                month DATE NOT NULL,
                visits_a INTEGER NULL DEFAULT NULL,
                visits_b INTEGER NULL DEFAULT NULL,
                visits_c INTEGER NULL DEFAULT NULL,
                new_opportunities INTEGER NULL DEFAULT NULL,
                won_revenue_cents BIGINT NULL DEFAULT NULL,
                quotes_sent INTEGER NULL DEFAULT NULL,
                tasks_on_time INTEGER NULL DEFAULT NULL,
                set_by UUID NULL DEFAULT NULL REFERENCES users (id) ON DELETE SET NULL,
                set_by_name VARCHAR(120) NOT NULL DEFAULT '',
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL
            )""",
            "CREATE UNIQUE INDEX targets_subject_month ON targets (level, subject_id, month)",
            "CREATE INDEX targets_month ON targets (month, level)",
            "CREATE INDEX targets_updated_at ON targets (updated_at)",
            # The KPI aggregates select facts by time; these were full scans before.
            "CREATE INDEX opportunities_created_at ON opportunities (created_at)",
            "CREATE INDEX opportunities_closed_at ON opportunities (closed_at)",
            "CREATE INDEX quotes_decided_at ON quotes (decided_at)",
            "CREATE INDEX workflow_instances_ended_at ON workflow_instances (subject_kind, ended_at)",
            "CREATE INDEX audit_entries_entity_action_at ON audit_entries (entity, action, at)",
            "CREATE INDEX revenue_month ON revenue (month)",
        ):
            await Target.raw(sql)

    manager.add_raw(create)
    return manager
