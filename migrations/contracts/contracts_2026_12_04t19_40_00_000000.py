from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "account_arrears: the oldest unpaid due date and the unpaid amount per account, kept with the bills"


class AccountArrears(Table, tablename="account_arrears", schema=None):
    pass


SQLITE = (
    'CREATE TABLE "account_arrears" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "account" UUID UNIQUE REFERENCES "accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "oldest_due_on" DATE NOT NULL DEFAULT CURRENT_DATE, "outstanding_cents" INTEGER NOT NULL DEFAULT 0, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX account_arrears_oldest_due_on ON "account_arrears" ("oldest_due_on")',
    'CREATE INDEX account_arrears_updated_at ON "account_arrears" ("updated_at")',
    'CREATE INDEX bills_account_status ON bills (account, status)',
)

POSTGRES = (
    'CREATE TABLE "account_arrears" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID UNIQUE REFERENCES "accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "oldest_due_on" DATE NOT NULL DEFAULT CURRENT_DATE, "outstanding_cents" BIGINT NOT NULL DEFAULT 0, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX account_arrears_oldest_due_on ON "account_arrears" USING btree ("oldest_due_on")',
    'CREATE INDEX account_arrears_updated_at ON "account_arrears" USING btree ("updated_at")',
    'CREATE INDEX bills_account_status ON bills (account, status)',
)

# Accounts that already have unpaid bills get their row now.
FILL = (
    "INSERT INTO account_arrears (id, account, oldest_due_on, outstanding_cents, updated_at) "
    "SELECT {id}, account, MIN(due_on), SUM(amount_due_cents - paid_cents), CURRENT_TIMESTAMP FROM bills "
    "WHERE status IN ('open', 'partial') AND amount_due_cents > paid_cents GROUP BY account"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def create() -> None:
        db = AccountArrears._meta.db
        sqlite = db.engine_type == "sqlite"
        for sql in SQLITE if sqlite else POSTGRES:
            await db.run_ddl(sql)
        uuid_sql = "lower(hex(randomblob(16)))" if sqlite else "gen_random_uuid()"
        await db.run_ddl(FILL.replace("{id}", uuid_sql))

    async def drop() -> None:
        await AccountArrears._meta.db.run_ddl("DROP TABLE IF EXISTS account_arrears")
        await AccountArrears._meta.db.run_ddl("DROP INDEX IF EXISTS bills_account_status")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
