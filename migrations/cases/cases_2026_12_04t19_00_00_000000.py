from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync versions on cases and projects; work-order steps touch their subject"

# The devices sync these tables (docs/sync.md): a sync_version from the one change counter of the sync
# app, stamped by triggers inside the writing transaction, as for accounts (migrations/sync).
SYNCED = ('cases', 'delivery_projects')
# Subjects whose workflow steps and decisions count as changes of the subject (kind, table).
TOUCHED: tuple[tuple[str, str], ...] = (('case', 'cases'), ('project', 'delivery_projects'))


class ChangeCounter(Table, tablename="change_counter", schema=None):
    pass


def _sqlite() -> list[str]:
    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1;"
    current = "(SELECT value FROM change_counter WHERE id = 1)"
    statements = []
    for table in SYNCED:
        stamp = f"{bump} UPDATE {table} SET sync_version = {current} WHERE rowid = NEW.rowid;"
        statements += [
            f"ALTER TABLE {table} ADD COLUMN sync_version INTEGER NOT NULL DEFAULT 0",
            f"CREATE INDEX {table}_sync_version ON {table} (sync_version)",
            f"CREATE TRIGGER {table}_sync_insert AFTER INSERT ON {table} BEGIN {stamp} END",
            f"CREATE TRIGGER {table}_sync_update AFTER UPDATE ON {table} "
            f"WHEN NEW.sync_version = OLD.sync_version BEGIN {stamp} END",
        ]
    for kind, table in TOUCHED:
        of_step = f"(SELECT subject_id FROM workflow_instances WHERE id = NEW.instance AND subject_kind = '{kind}')"
        of_decision = (
            "(SELECT i.subject_id FROM workflow_instances i JOIN workflow_steps s ON s.instance = i.id "
            f"WHERE s.id = NEW.step AND i.subject_kind = '{kind}')"
        )
        touch_step = f"UPDATE {table} SET sync_version = sync_version WHERE id = {of_step};"
        touch_decision = f"UPDATE {table} SET sync_version = sync_version WHERE id = {of_decision};"
        statements += [
            f"CREATE TRIGGER {table}_touch_step_insert AFTER INSERT ON workflow_steps BEGIN {touch_step} END",
            f"CREATE TRIGGER {table}_touch_step_update AFTER UPDATE OF {STEP_COLUMNS} ON workflow_steps "
            f"BEGIN {touch_step} END",
            f"CREATE TRIGGER {table}_touch_decision AFTER INSERT ON workflow_decisions BEGIN {touch_decision} END",
        ]
    return statements


def _postgres() -> list[str]:
    statements = [TOUCH_FUNCTION_STEP, TOUCH_FUNCTION_DECISION]
    for table in SYNCED:
        statements += [
            f"ALTER TABLE {table} ADD COLUMN sync_version BIGINT NOT NULL DEFAULT 0",
            f"CREATE INDEX {table}_sync_version ON {table} (sync_version)",
            f"CREATE TRIGGER {table}_sync BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fieldcrm_stamp()",
        ]
    for kind, table in TOUCHED:
        statements += [
            f"CREATE TRIGGER {table}_touch_step AFTER INSERT OR UPDATE OF {STEP_COLUMNS} ON workflow_steps "
            f"FOR EACH ROW EXECUTE FUNCTION fieldcrm_touch_subject_of_step('{kind}', '{table}')",
            f"CREATE TRIGGER {table}_touch_decision AFTER INSERT ON workflow_decisions "
            f"FOR EACH ROW EXECUTE FUNCTION fieldcrm_touch_subject_of_decision('{kind}', '{table}')",
        ]
    return statements


# A step's progress re-sends its subject: the subject's sync_version moves (the UPDATE stamps it).
STEP_COLUMNS = "status, approvals, due_at, completed_at"
TOUCH_FUNCTION_STEP = """CREATE OR REPLACE FUNCTION fieldcrm_touch_subject_of_step() RETURNS trigger AS $$
BEGIN
  EXECUTE format('UPDATE %I SET sync_version = sync_version WHERE id = '
                 '(SELECT subject_id FROM workflow_instances WHERE id = $1 AND subject_kind = %L)', TG_ARGV[1], TG_ARGV[0])
    USING NEW.instance;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""
TOUCH_FUNCTION_DECISION = """CREATE OR REPLACE FUNCTION fieldcrm_touch_subject_of_decision() RETURNS trigger AS $$
BEGIN
  EXECUTE format('UPDATE %I SET sync_version = sync_version WHERE id = '
                 '(SELECT i.subject_id FROM workflow_instances i JOIN workflow_steps s ON s.instance = i.id '
                 'WHERE s.id = $1 AND i.subject_kind = %L)', TG_ARGV[1], TG_ARGV[0])
    USING NEW.step;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def create() -> None:
        statements = _sqlite() if ChangeCounter._meta.db.engine_type == "sqlite" else _postgres()
        for sql in statements:
            await ChangeCounter.raw(sql)

    manager.add_raw(create)
    return manager
