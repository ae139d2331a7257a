from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:20:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "tasks: triggers that log scope changes (a reassignment, an assignee or unit moved) for the pull"


class Task(Table, tablename="tasks", schema=None):
    pass


# The same shape as the accounts' scope triggers (migrations/sync/sync_2026_11_24t08_16_50_000000.py):
# each change is stamped with the sync version of its transaction.
def _sqlite() -> list[str]:
    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1;"
    current = "(SELECT value FROM change_counter WHERE id = 1)"
    insert = "INSERT INTO task_scope_changes (task_id, version, old_assignee)"
    return [
        "CREATE TRIGGER tasks_scope_assignee AFTER UPDATE OF assignee ON tasks "
        f"WHEN NEW.assignee IS NOT OLD.assignee BEGIN {bump} {insert} VALUES (NEW.id, {current}, OLD.assignee); END",
        "CREATE TRIGGER users_task_scope AFTER UPDATE OF org_unit ON users WHEN NEW.org_unit IS NOT OLD.org_unit "
        f"BEGIN {bump} {insert} SELECT id, {current}, NULL FROM tasks WHERE assignee = NEW.id; END",
        "CREATE TRIGGER org_units_task_scope AFTER UPDATE OF path ON org_units WHEN NEW.path IS NOT OLD.path "
        f"BEGIN {bump} {insert} SELECT t.id, {current}, NULL FROM tasks t JOIN users u ON t.assignee = u.id "
        "WHERE u.org_unit = NEW.id; END",
    ]


def _postgres() -> list[str]:
    return [
        """CREATE OR REPLACE FUNCTION fieldcrm_task_assignee_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO task_scope_changes (task_id, version, old_assignee) VALUES (NEW.id, fieldcrm_version(), OLD.assignee);
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION fieldcrm_task_user_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO task_scope_changes (task_id, version, old_assignee)
            SELECT id, fieldcrm_version(), NULL FROM tasks WHERE assignee = NEW.id;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION fieldcrm_task_unit_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO task_scope_changes (task_id, version, old_assignee)
            SELECT t.id, fieldcrm_version(), NULL FROM tasks t JOIN users u ON t.assignee = u.id WHERE u.org_unit = NEW.id;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        "CREATE TRIGGER tasks_scope_assignee AFTER UPDATE OF assignee ON tasks FOR EACH ROW "
        "WHEN (NEW.assignee IS DISTINCT FROM OLD.assignee) EXECUTE FUNCTION fieldcrm_task_assignee_moved()",
        "CREATE TRIGGER users_task_scope AFTER UPDATE OF org_unit ON users FOR EACH ROW "
        "WHEN (NEW.org_unit IS DISTINCT FROM OLD.org_unit) EXECUTE FUNCTION fieldcrm_task_user_moved()",
        "CREATE TRIGGER org_units_task_scope AFTER UPDATE OF path ON org_units FOR EACH ROW "
        "WHEN (NEW.path IS DISTINCT FROM OLD.path) EXECUTE FUNCTION fieldcrm_task_unit_moved()",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tasks", description=DESCRIPTION)

    async def create() -> None:
        statements = _sqlite() if Task._meta.db.engine_type == "sqlite" else _postgres()
        for sql in statements:
            await Task.raw(sql)

    async def drop() -> None:
        if Task._meta.db.engine_type == "sqlite":
            for name in ("tasks_scope_assignee", "users_task_scope", "org_units_task_scope"):
                await Task.raw(f"DROP TRIGGER IF EXISTS {name}")
            return
        for name, table in (
            ("tasks_scope_assignee", "tasks"),
            ("users_task_scope", "users"),
            ("org_units_task_scope", "org_units"),
        ):
            await Task.raw(f"DROP TRIGGER IF EXISTS {name} ON {table}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
