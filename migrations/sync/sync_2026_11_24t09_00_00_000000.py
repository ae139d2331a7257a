from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: take the sync version once per transaction, not once per row"


class ChangeCounter(Table, tablename="change_counter", schema=None):
    pass


# The first version updated the counter row for every row written; inside one transaction each
# such update costs more than the last (a 10,000-row load took minutes). The version now lives in
# a transaction-local setting after the first row; the counter row stays locked until commit, so
# versions still become visible in the order they were handed out.
VERSION_FUNCTION = """CREATE OR REPLACE FUNCTION fieldcrm_version() RETURNS bigint AS $$
DECLARE v text;
BEGIN
  v := current_setting('fieldcrm.version', true);
  IF v IS NULL OR v = '' THEN
    UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value::text INTO v;
    PERFORM set_config('fieldcrm.version', v, true);
  END IF;
  RETURN v::bigint;
END $$ LANGUAGE plpgsql"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def replace() -> None:
        if ChangeCounter._meta.db.engine_type != "sqlite":
            await ChangeCounter.raw(VERSION_FUNCTION)

    manager.add_raw(replace)
    return manager
