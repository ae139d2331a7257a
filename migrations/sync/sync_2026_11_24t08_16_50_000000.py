from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:16:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "change counter and the triggers that stamp sync versions and log scope changes"

# Every synced table gets its sync_version from one counter, inside the writing transaction.
SYNCED = ("accounts", "contacts", "holdings", "revenue", "account_notes")


class ChangeCounter(Table, tablename="change_counter", schema=None):
    pass


def _sqlite() -> list[str]:
    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1;"
    current = "(SELECT value FROM change_counter WHERE id = 1)"
    statements = []
    # SQLite has one writer at a time, so a version per row is handed out in commit order.
    for table in SYNCED:
        stamp = f"{bump} UPDATE {table} SET sync_version = {current} WHERE rowid = NEW.rowid;"
        statements.append(f"CREATE TRIGGER {table}_sync_insert AFTER INSERT ON {table} BEGIN {stamp} END")
        statements.append(
            f"CREATE TRIGGER {table}_sync_update AFTER UPDATE ON {table} "
            f"WHEN NEW.sync_version = OLD.sync_version BEGIN {stamp} END"
        )
    statements += [
        "CREATE TRIGGER accounts_scope_owner AFTER UPDATE OF owner ON accounts WHEN NEW.owner IS NOT OLD.owner "
        f"BEGIN {bump} INSERT INTO scope_changes (account_id, version) VALUES (NEW.id, {current}); END",
        "CREATE TRIGGER users_scope_unit AFTER UPDATE OF org_unit ON users WHEN NEW.org_unit IS NOT OLD.org_unit "
        f"BEGIN {bump} INSERT INTO scope_changes (account_id, version) "
        f"SELECT id, {current} FROM accounts WHERE owner = NEW.id; END",
        "CREATE TRIGGER org_units_scope_path AFTER UPDATE OF path ON org_units WHEN NEW.path IS NOT OLD.path "
        f"BEGIN {bump} INSERT INTO scope_changes (account_id, version) "
        f"SELECT a.id, {current} FROM accounts a JOIN users u ON a.owner = u.id WHERE u.org_unit = NEW.id; END",
    ]
    return statements


def _postgres() -> list[str]:
    statements = [
        # One version per transaction. The counter row stays locked until commit, so versions
        # become visible in the order they were handed out and a pull never skips a commit.
        """CREATE OR REPLACE FUNCTION fieldcrm_version() RETURNS bigint AS $$
        DECLARE v bigint;
        BEGIN
          UPDATE change_counter
             SET value = CASE WHEN txid = txid_current() THEN value ELSE value + 1 END, txid = txid_current()
           WHERE id = 1 RETURNING value INTO v;
          RETURN v;
        END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION fieldcrm_stamp() RETURNS trigger AS $$
        BEGIN NEW.sync_version := fieldcrm_version(); RETURN NEW; END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION fieldcrm_account_owner_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO scope_changes (account_id, version) VALUES (NEW.id, fieldcrm_version());
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION fieldcrm_user_unit_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO scope_changes (account_id, version) SELECT id, fieldcrm_version() FROM accounts WHERE owner = NEW.id;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION fieldcrm_unit_path_moved() RETURNS trigger AS $$
        BEGIN
          INSERT INTO scope_changes (account_id, version)
            SELECT a.id, fieldcrm_version() FROM accounts a JOIN users u ON a.owner = u.id WHERE u.org_unit = NEW.id;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    ]
    for table in SYNCED:
        statements.append(
            f"CREATE TRIGGER {table}_sync BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION fieldcrm_stamp()"
        )
    statements += [
        "CREATE TRIGGER accounts_scope_owner AFTER UPDATE OF owner ON accounts FOR EACH ROW "
        "WHEN (NEW.owner IS DISTINCT FROM OLD.owner) EXECUTE FUNCTION fieldcrm_account_owner_moved()",
        "CREATE TRIGGER users_scope_unit AFTER UPDATE OF org_unit ON users FOR EACH ROW "
        "WHEN (NEW.org_unit IS DISTINCT FROM OLD.org_unit) EXECUTE FUNCTION fieldcrm_user_unit_moved()",
        "CREATE TRIGGER org_units_scope_path AFTER UPDATE OF path ON org_units FOR EACH ROW "
        "WHEN (NEW.path IS DISTINCT FROM OLD.path) EXECUTE FUNCTION fieldcrm_unit_path_moved()",
    ]
    return statements


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def create() -> None:
        await ChangeCounter.raw("INSERT INTO change_counter (id, value, txid) VALUES (1, 0, 0)")
        await ChangeCounter.raw("INSERT INTO sync_horizon (id, version) VALUES (1, 0)")
        statements = _sqlite() if ChangeCounter._meta.db.engine_type == "sqlite" else _postgres()
        for sql in statements:
            await ChangeCounter.raw(sql)

    manager.add_raw(create)
    return manager
