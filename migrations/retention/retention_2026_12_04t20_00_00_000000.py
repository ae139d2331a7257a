from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "retention: versioned scoring configurations, one risk score per account with its evidence, band changes"


class RiskScore(Table, tablename="risk_scores", schema=None):
    pass


# The same statements on both engines (the declared types are the ones Piccolo reads values back by).
DDL = (
    'CREATE TABLE "retention_configs" ("id" UUID PRIMARY KEY NOT NULL, "version" INTEGER NOT NULL UNIQUE, '
    '"body" TEXT NOT NULL, "created_by" UUID NULL REFERENCES "users" ("id") ON DELETE SET NULL, '
    '"created_at" TIMESTAMPTZ NOT NULL)',
    'CREATE TABLE "risk_scores" ("id" UUID PRIMARY KEY NOT NULL, '
    '"account" UUID NOT NULL UNIQUE REFERENCES "accounts" ("id") ON DELETE CASCADE, '
    '"score" INTEGER NOT NULL DEFAULT 0, "band" VARCHAR(8) NOT NULL DEFAULT \'low\', "prev_band" VARCHAR(8) NULL, '
    '"reasons" VARCHAR(400) NOT NULL DEFAULT \'\', "config_version" INTEGER NOT NULL DEFAULT 0, '
    '"scored_at" TIMESTAMPTZ NOT NULL, "band_since" TIMESTAMPTZ NOT NULL, "tier" VARCHAR(1) NULL, '
    '"rev_last3_cents" BIGINT NOT NULL DEFAULT 0, "rev_prev3_cents" BIGINT NOT NULL DEFAULT 0, '
    '"rev_year3_cents" BIGINT NOT NULL DEFAULT 0, "holding_end_on" DATE NULL, "contract_end_on" DATE NULL, '
    '"lines_now" INTEGER NOT NULL DEFAULT 0, "lines_peak" INTEGER NOT NULL DEFAULT 0, '
    '"open_complaints" INTEGER NOT NULL DEFAULT 0, "complaints_recent" INTEGER NOT NULL DEFAULT 0, '
    '"sla_breaches" INTEGER NOT NULL DEFAULT 0, "last_visited_on" DATE NULL, '
    '"visit_overdue" INTEGER NOT NULL DEFAULT 0, "lost_opportunities" INTEGER NOT NULL DEFAULT 0, '
    '"arrears_cents" BIGINT NOT NULL DEFAULT 0, "arrears_since" DATE NULL)',
    'CREATE INDEX risk_scores_score ON "risk_scores" ("score")',
    'CREATE INDEX risk_scores_band ON "risk_scores" ("band", "score")',
    'CREATE TABLE "risk_band_changes" ("id" UUID PRIMARY KEY NOT NULL, '
    '"account" UUID NOT NULL REFERENCES "accounts" ("id") ON DELETE CASCADE, "from_band" VARCHAR(8) NULL, '
    '"to_band" VARCHAR(8) NOT NULL, "score" INTEGER NOT NULL DEFAULT 0, "config_version" INTEGER NOT NULL DEFAULT 0, '
    '"at" TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX risk_band_changes_account ON "risk_band_changes" ("account", "at")',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="retention", description=DESCRIPTION)

    async def create() -> None:
        for sql in DDL:
            await RiskScore._meta.db.run_ddl(sql)

    async def drop() -> None:
        for table in ("risk_band_changes", "risk_scores", "retention_configs"):
            await RiskScore._meta.db.run_ddl(f"DROP TABLE IF EXISTS {table}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
