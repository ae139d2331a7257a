from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scope changes remember the account's previous owner, so a pull follows only the moves it is concerned by"


class ScopeChange(Table, tablename="scope_changes", schema=None):
    pass


def _sqlite() -> list[str]:
    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1;"
    current = "(SELECT value FROM change_counter WHERE id = 1)"
    return [
        "ALTER TABLE scope_changes ADD COLUMN old_owner UUID NULL DEFAULT NULL",
        "DROP TRIGGER accounts_scope_owner",
        "CREATE TRIGGER accounts_scope_owner AFTER UPDATE OF owner ON accounts WHEN NEW.owner IS NOT OLD.owner "
        f"BEGIN {bump} INSERT INTO scope_changes (account_id, version, old_owner) VALUES (NEW.id, {current}, OLD.owner); END",
    ]


def _postgres() -> list[str]:
    return [
        "ALTER TABLE scope_changes ADD COLUMN old_owner UUID NULL DEFAULT NULL",
        """CREATE OR REPLACE FUNCTION fieldcrm_account_owner_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO scope_changes (account_id, version, old_owner) VALUES (NEW.id, fieldcrm_version(), OLD.owner);
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def alter() -> None:
        statements = _sqlite() if ScopeChange._meta.db.engine_type == "sqlite" else _postgres()
        for sql in statements:
            await ScopeChange.raw(sql)

    manager.add_raw(alter)
    return manager
