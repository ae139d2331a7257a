from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T18:36:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tasks: one task per (source, source key), list and reminder indexes, sync version triggers"


class Task(Table, tablename="tasks", schema=None):
    pass


INDEXES = (
    # Other domains create "once per episode / bill / step": the key makes their call idempotent.
    ("tasks_source_key", "CREATE UNIQUE INDEX tasks_source_key ON tasks (source, source_key)"),
    ("tasks_assignee_state_due", "CREATE INDEX tasks_assignee_state_due ON tasks (assignee, state, due_date)"),
    ("tasks_assignee_due", "CREATE INDEX tasks_assignee_due ON tasks (assignee, due_date)"),
    ("tasks_account_due", "CREATE INDEX tasks_account_due ON tasks (account, due_date)"),
    ("tasks_account_created", "CREATE INDEX tasks_account_created ON tasks (account, created_at)"),
    ("tasks_state_remind", "CREATE INDEX tasks_state_remind ON tasks (state, remind_at)"),
    ("tasks_previous_assignee", "CREATE INDEX tasks_previous_assignee ON tasks (previous_assignee, sync_version)"),
)


def _sqlite() -> list[str]:
    # The same stamping as the accounts domain's tables (migrations/sync/sync_2026_11_24t08_16_50_000000.py).
    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1;"
    current = "(SELECT value FROM change_counter WHERE id = 1)"
    stamp = f"{bump} UPDATE tasks SET sync_version = {current} WHERE rowid = NEW.rowid;"
    return [
        f"CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN {stamp} END",
        "CREATE TRIGGER tasks_sync_update AFTER UPDATE ON tasks "
        f"WHEN NEW.sync_version = OLD.sync_version BEGIN {stamp} END",
    ]


def _postgres() -> list[str]:
    # fieldcrm_stamp() hands out one version per transaction (migrations/sync/..._09_00_00_000000.py).
    return ["CREATE TRIGGER tasks_sync BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION fieldcrm_stamp()"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tasks", description=DESCRIPTION)

    async def create() -> None:
        for _, sql in INDEXES:
            await Task.raw(sql)
        statements = _sqlite() if Task._meta.db.engine_type == "sqlite" else _postgres()
        for sql in statements:
            await Task.raw(sql)

    async def drop() -> None:
        if Task._meta.db.engine_type == "sqlite":
            await Task.raw("DROP TRIGGER IF EXISTS tasks_sync_insert")
            await Task.raw("DROP TRIGGER IF EXISTS tasks_sync_update")
        else:
            await Task.raw("DROP TRIGGER IF EXISTS tasks_sync ON tasks")
        for name, _ in INDEXES:
            await Task.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
