from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:20:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "workflow: unique keys, one running instance per subject, due-time and inbox indexes"


class WorkflowStep(Table, tablename="workflow_steps", schema=None):
    pass


STATEMENTS = [
    "CREATE UNIQUE INDEX workflow_definitions_key_version ON workflow_definitions (key, version)",
    # At most one running instance per subject, whatever races the callers run.
    "CREATE UNIQUE INDEX workflow_instances_one_running ON workflow_instances (subject_kind, subject_id) "
    "WHERE status = 'running'",
    "CREATE INDEX workflow_instances_subject ON workflow_instances (subject_kind, subject_id, started_at)",
    # The SLA scan reads only what is due: pending steps keep their next warning/escalation time here.
    "CREATE INDEX workflow_steps_next_timer ON workflow_steps (next_timer_at) WHERE next_timer_at IS NOT NULL",
    # The inbox: a person's open steps, soonest due first, from one index.
    'CREATE INDEX workflow_step_deciders_inbox ON workflow_step_deciders ("user", is_open, sort_at)',
    'CREATE UNIQUE INDEX workflow_idempotency_user_key ON workflow_idempotency_keys ("user", key)',
    "CREATE INDEX workflow_idempotency_created ON workflow_idempotency_keys (created_at)",
    "CREATE INDEX workflow_delegations_active ON workflow_delegations (delegate, ends_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workflow", description=DESCRIPTION)

    async def create() -> None:
        for sql in STATEMENTS:
            await WorkflowStep.raw(sql)

    manager.add_raw(create)
    return manager
