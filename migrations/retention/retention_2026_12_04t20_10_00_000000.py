from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "retention: versioned strategies and retention episodes (one open episode per account)"


class Episode(Table, tablename="retention_episodes", schema=None):
    pass


DDL = (
    'CREATE TABLE "retention_strategies" ("id" UUID PRIMARY KEY NOT NULL, "strategy_id" UUID NOT NULL, '
    '"version" INTEGER NOT NULL DEFAULT 1, "name" VARCHAR(200) NOT NULL, "advice" TEXT NOT NULL DEFAULT \'\', '
    '"conditions" TEXT NOT NULL DEFAULT \'{}\', "actions" TEXT NOT NULL DEFAULT \'[]\', '
    '"priority" INTEGER NOT NULL DEFAULT 0, "retired" INTEGER NOT NULL DEFAULT 0, '
    '"created_by" UUID NULL REFERENCES "users" ("id") ON DELETE SET NULL, "created_at" TIMESTAMPTZ NOT NULL, '
    'UNIQUE ("strategy_id", "version"))',
    'CREATE INDEX retention_strategies_strategy_id ON "retention_strategies" ("strategy_id")',
    'CREATE TABLE "retention_episodes" ("id" UUID PRIMARY KEY NOT NULL, '
    '"account" UUID NOT NULL REFERENCES "accounts" ("id") ON DELETE CASCADE, '
    '"state" VARCHAR(8) NOT NULL DEFAULT \'open\', '
    '"strategy" UUID NULL REFERENCES "retention_strategies" ("id") ON DELETE SET NULL, '
    '"opened_reason" VARCHAR(16) NOT NULL DEFAULT \'high_band\', '
    '"opened_by" UUID NULL REFERENCES "users" ("id") ON DELETE SET NULL, "opened_at" TIMESTAMPTZ NOT NULL, '
    '"score_at_open" INTEGER NOT NULL DEFAULT 0, "revenue_at_open_cents" BIGINT NOT NULL DEFAULT 0, '
    '"tasks_created" INTEGER NOT NULL DEFAULT 0, "proposed_outcome" VARCHAR(16) NULL, '
    '"proposed_revenue_kept_cents" BIGINT NULL, '
    '"proposed_by" UUID NULL REFERENCES "users" ("id") ON DELETE SET NULL, "outcome" VARCHAR(16) NULL, '
    '"revenue_kept_cents" BIGINT NOT NULL DEFAULT 0, "closed_at" TIMESTAMPTZ NULL, "closed_how" VARCHAR(16) NULL, '
    '"confirmed_by" UUID NULL REFERENCES "users" ("id") ON DELETE SET NULL)',
    'CREATE INDEX retention_episodes_account ON "retention_episodes" ("account")',
    'CREATE INDEX retention_episodes_state ON "retention_episodes" ("state")',
    'CREATE INDEX retention_episodes_strategy ON "retention_episodes" ("strategy")',
    'CREATE INDEX retention_episodes_outcome ON "retention_episodes" ("outcome")',
    # at most one episode not yet closed per account: concurrent runs cannot open two
    'CREATE UNIQUE INDEX retention_episodes_one_open ON "retention_episodes" ("account") WHERE state <> \'closed\'',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="retention", description=DESCRIPTION)

    async def create() -> None:
        for sql in DDL:
            await Episode._meta.db.run_ddl(sql)

    async def drop() -> None:
        for table in ("retention_episodes", "retention_strategies"):
            await Episode._meta.db.run_ddl(f"DROP TABLE IF EXISTS {table}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
