from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service accounts, tokens, billing batches, webhooks and their outbox"


class ServiceAccount(Table, tablename="service_accounts", schema=None):
    pass


# The tables as they were at this migration, for each engine (written out, not derived from the code).
SQLITE = (
    'CREATE TABLE "service_accounts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "name" VARCHAR(120) UNIQUE NOT NULL DEFAULT \'\', "scopes" JSON NOT NULL DEFAULT \'[]\', "created_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "disabled_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX service_accounts_updated_at ON "service_accounts" ("updated_at")',
    'CREATE TABLE "service_tokens" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "service_account" UUID REFERENCES "service_accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "digest" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "prefix" VARCHAR(16) NOT NULL DEFAULT \'\', "label" VARCHAR(120) NOT NULL DEFAULT \'\', "last_used_at" TIMESTAMPTZ DEFAULT null, "revoked_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX service_tokens_service_account ON "service_tokens" ("service_account")',
    'CREATE TABLE "billing_batches" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "batch_key" VARCHAR(100) UNIQUE NOT NULL DEFAULT \'\', "body_sha256" VARCHAR(64) NOT NULL DEFAULT \'\', "service_account" UUID REFERENCES "service_accounts" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "submitted_by" VARCHAR(120) NOT NULL DEFAULT \'\', "rows" INTEGER NOT NULL DEFAULT 0, "result" JSON NOT NULL DEFAULT \'{}\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "webhooks" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "url" VARCHAR(2000) NOT NULL DEFAULT \'\', "secret" VARCHAR(200) NOT NULL DEFAULT \'\', "events" JSON NOT NULL DEFAULT \'[]\', "description" VARCHAR(200) NOT NULL DEFAULT \'\', "active" BOOLEAN NOT NULL DEFAULT true, "created_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX webhooks_updated_at ON "webhooks" ("updated_at")',
    'CREATE TABLE "webhook_deliveries" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "webhook" UUID REFERENCES "webhooks" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "event" VARCHAR(40) NOT NULL DEFAULT \'\', "event_id" VARCHAR(64) NOT NULL DEFAULT \'\', "body" TEXT NOT NULL DEFAULT \'\', "status" VARCHAR(16) NOT NULL DEFAULT \'pending\', "attempts" INTEGER NOT NULL DEFAULT 0, "available_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "locked_until" TIMESTAMPTZ DEFAULT null, "last_status" INTEGER DEFAULT null, "last_error" TEXT NOT NULL DEFAULT \'\', "delivered_at" TIMESTAMPTZ DEFAULT null, "dead_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX webhook_deliveries_webhook ON "webhook_deliveries" ("webhook")',
    'CREATE INDEX webhook_deliveries_event_id ON "webhook_deliveries" ("event_id")',
    'CREATE INDEX webhook_deliveries_status ON "webhook_deliveries" ("status")',
    'CREATE INDEX webhook_deliveries_available_at ON "webhook_deliveries" ("available_at")',
    'CREATE TABLE "webhook_attempts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "delivery" UUID REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "number" INTEGER NOT NULL DEFAULT 1, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "status_code" INTEGER DEFAULT null, "error" TEXT NOT NULL DEFAULT \'\', "duration_ms" INTEGER NOT NULL DEFAULT 0)',
    'CREATE INDEX webhook_attempts_delivery ON "webhook_attempts" ("delivery")',
)

POSTGRES = (
    'CREATE TABLE "service_accounts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "name" VARCHAR(120) UNIQUE NOT NULL DEFAULT \'\', "scopes" JSON NOT NULL DEFAULT \'[]\', "created_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "disabled_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX service_accounts_updated_at ON "service_accounts" USING btree ("updated_at")',
    'CREATE TABLE "service_tokens" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "service_account" UUID REFERENCES "service_accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "digest" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "prefix" VARCHAR(16) NOT NULL DEFAULT \'\', "label" VARCHAR(120) NOT NULL DEFAULT \'\', "last_used_at" TIMESTAMPTZ DEFAULT null, "revoked_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX service_tokens_service_account ON "service_tokens" USING btree ("service_account")',
    'CREATE TABLE "billing_batches" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "batch_key" VARCHAR(100) UNIQUE NOT NULL DEFAULT \'\', "body_sha256" VARCHAR(64) NOT NULL DEFAULT \'\', "service_account" UUID REFERENCES "service_accounts" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "submitted_by" VARCHAR(120) NOT NULL DEFAULT \'\', "rows" INTEGER NOT NULL DEFAULT 0, "result" JSON NOT NULL DEFAULT \'{}\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "webhooks" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "url" VARCHAR(2000) NOT NULL DEFAULT \'\', "secret" VARCHAR(200) NOT NULL DEFAULT \'\', "events" JSON NOT NULL DEFAULT \'[]\', "description" VARCHAR(200) NOT NULL DEFAULT \'\', "active" BOOLEAN NOT NULL DEFAULT true, "created_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX webhooks_updated_at ON "webhooks" USING btree ("updated_at")',
    'CREATE TABLE "webhook_deliveries" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "webhook" UUID REFERENCES "webhooks" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "event" VARCHAR(40) NOT NULL DEFAULT \'\', "event_id" VARCHAR(64) NOT NULL DEFAULT \'\', "body" TEXT NOT NULL DEFAULT \'\', "status" VARCHAR(16) NOT NULL DEFAULT \'pending\', "attempts" INTEGER NOT NULL DEFAULT 0, "available_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "locked_until" TIMESTAMPTZ DEFAULT null, "last_status" INTEGER DEFAULT null, "last_error" TEXT NOT NULL DEFAULT \'\', "delivered_at" TIMESTAMPTZ DEFAULT null, "dead_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX webhook_deliveries_webhook ON "webhook_deliveries" USING btree ("webhook")',
    'CREATE INDEX webhook_deliveries_event_id ON "webhook_deliveries" USING btree ("event_id")',
    'CREATE INDEX webhook_deliveries_status ON "webhook_deliveries" USING btree ("status")',
    'CREATE INDEX webhook_deliveries_available_at ON "webhook_deliveries" USING btree ("available_at")',
    'CREATE TABLE "webhook_attempts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "delivery" UUID REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "number" INTEGER NOT NULL DEFAULT 1, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "status_code" INTEGER DEFAULT null, "error" TEXT NOT NULL DEFAULT \'\', "duration_ms" BIGINT NOT NULL DEFAULT 0)',
    'CREATE INDEX webhook_attempts_delivery ON "webhook_attempts" USING btree ("delivery")',
)

TABLES = ('webhook_attempts', 'webhook_deliveries', 'webhooks', 'billing_batches', 'service_tokens', 'service_accounts')


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="integrations", description=DESCRIPTION)

    async def create() -> None:
        statements = SQLITE if ServiceAccount._meta.db.engine_type == "sqlite" else POSTGRES
        for sql in statements:
            await ServiceAccount._meta.db.run_ddl(sql)  # not raw(): it reads the braces of JSON defaults as placeholders

    async def drop() -> None:
        for name in TABLES:
            await ServiceAccount.raw(f"DROP TABLE IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
