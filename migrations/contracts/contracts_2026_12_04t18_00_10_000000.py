from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T18:00:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "contracts, lines, agreed tariffs, documents, bills, payments, collection contacts"


class ContractCounter(Table, tablename="contract_counters", schema=None):
    pass


# The tables as they were at this migration, for each engine (written out, not derived from the code).
SQLITE = (
    'CREATE TABLE "contract_counters" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "year" INTEGER UNIQUE NOT NULL DEFAULT 0, "last" INTEGER NOT NULL DEFAULT 0)',
    'CREATE TABLE "contracts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "number" VARCHAR(32) UNIQUE NOT NULL DEFAULT \'\', "year" INTEGER NOT NULL DEFAULT 0, "seq" INTEGER NOT NULL DEFAULT 0, "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "title" VARCHAR(200) NOT NULL DEFAULT \'\', "status" VARCHAR(16) NOT NULL DEFAULT \'draft\', "start_on" DATE DEFAULT null, "end_on" DATE DEFAULT null, "auto_renew" BOOLEAN NOT NULL DEFAULT false, "notice_days" INTEGER NOT NULL DEFAULT 30, "signed_on" DATE DEFAULT null, "signatories" JSON NOT NULL DEFAULT \'[]\', "currency" VARCHAR(3) NOT NULL DEFAULT \'CNY\', "total_cents" INTEGER NOT NULL DEFAULT 0, "renewal_opened_at" TIMESTAMPTZ DEFAULT null, "renewed_by" UUID REFERENCES "contracts" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "created_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX contracts_account ON "contracts" ("account")',
    'CREATE INDEX contracts_status ON "contracts" ("status")',
    'CREATE INDEX contracts_end_on ON "contracts" ("end_on")',
    'CREATE INDEX contracts_updated_at ON "contracts" ("updated_at")',
    'CREATE TABLE "contract_quotes" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "quote" UUID REFERENCES "quotes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null)',
    'CREATE INDEX contract_quotes_contract ON "contract_quotes" ("contract")',
    'CREATE INDEX contract_quotes_quote ON "contract_quotes" ("quote")',
    'CREATE TABLE "contract_lines" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "position" INTEGER NOT NULL DEFAULT 0, "product" UUID REFERENCES "products" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "product_code" VARCHAR(64) NOT NULL DEFAULT \'\', "product_name" VARCHAR(200) NOT NULL DEFAULT \'\', "unit" VARCHAR(32) NOT NULL DEFAULT \'\', "quantity" INTEGER NOT NULL DEFAULT 1, "list_price_cents" INTEGER NOT NULL DEFAULT 0, "unit_price_cents" INTEGER NOT NULL DEFAULT 0, "discount_bp" INTEGER NOT NULL DEFAULT 0, "total_cents" INTEGER NOT NULL DEFAULT 0)',
    'CREATE INDEX contract_lines_contract ON "contract_lines" ("contract")',
    'CREATE TABLE "agreed_tariffs" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "account" UUID REFERENCES "accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "product" UUID REFERENCES "products" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "product_code" VARCHAR(64) NOT NULL DEFAULT \'\', "product_name" VARCHAR(200) NOT NULL DEFAULT \'\', "price_cents" INTEGER DEFAULT null, "discount_bp" INTEGER DEFAULT null, "valid_from" DATE DEFAULT null, "valid_to" DATE DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX agreed_tariffs_contract ON "agreed_tariffs" ("contract")',
    'CREATE INDEX agreed_tariffs_account ON "agreed_tariffs" ("account")',
    'CREATE INDEX agreed_tariffs_product ON "agreed_tariffs" ("product")',
    'CREATE TABLE "contract_documents" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "sha256" VARCHAR(64) NOT NULL DEFAULT \'\', "media_type" VARCHAR(64) NOT NULL DEFAULT \'\', "filename" VARCHAR(200) NOT NULL DEFAULT \'\', "size" INTEGER NOT NULL DEFAULT 0, "uploaded_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX contract_documents_contract ON "contract_documents" ("contract")',
    'CREATE TABLE "bills" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "bill_number" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "period" VARCHAR(7) NOT NULL DEFAULT \'\', "amount_due_cents" INTEGER NOT NULL DEFAULT 0, "paid_cents" INTEGER NOT NULL DEFAULT 0, "issued_on" DATE DEFAULT null, "due_on" DATE NOT NULL DEFAULT CURRENT_DATE, "status" VARCHAR(16) NOT NULL DEFAULT \'open\', "collection_task_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX bills_account ON "bills" ("account")',
    'CREATE INDEX bills_due_on ON "bills" ("due_on")',
    'CREATE INDEX bills_status ON "bills" ("status")',
    'CREATE INDEX bills_updated_at ON "bills" ("updated_at")',
    'CREATE TABLE "payments" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "payment_ref" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "bill" UUID REFERENCES "bills" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "amount_cents" INTEGER NOT NULL DEFAULT 0, "paid_on" DATE NOT NULL DEFAULT CURRENT_DATE, "method" VARCHAR(32) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX payments_account ON "payments" ("account")',
    'CREATE INDEX payments_bill ON "payments" ("bill")',
    'CREATE INDEX payments_paid_on ON "payments" ("paid_on")',
    'CREATE INDEX payments_updated_at ON "payments" ("updated_at")',
    'CREATE TABLE "collection_contacts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT None, "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "bill" UUID REFERENCES "bills" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "kind" VARCHAR(16) NOT NULL DEFAULT \'\', "promised_on" DATE DEFAULT null, "promised_cents" INTEGER DEFAULT null, "reason" TEXT NOT NULL DEFAULT \'\', "note" TEXT NOT NULL DEFAULT \'\', "status" VARCHAR(16) NOT NULL DEFAULT \'open\', "recorded_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "recorded_by_name" VARCHAR(120) NOT NULL DEFAULT \'\', "captured_at" TIMESTAMPTZ DEFAULT null, "followup_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX collection_contacts_account ON "collection_contacts" ("account")',
    'CREATE INDEX collection_contacts_bill ON "collection_contacts" ("bill")',
    'CREATE INDEX collection_contacts_promised_on ON "collection_contacts" ("promised_on")',
    'CREATE INDEX collection_contacts_status ON "collection_contacts" ("status")',
    'CREATE INDEX collection_contacts_updated_at ON "collection_contacts" ("updated_at")',
)

POSTGRES = (
    'CREATE TABLE "contract_counters" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "year" INTEGER UNIQUE NOT NULL DEFAULT 0, "last" INTEGER NOT NULL DEFAULT 0)',
    'CREATE TABLE "contracts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "number" VARCHAR(32) UNIQUE NOT NULL DEFAULT \'\', "year" INTEGER NOT NULL DEFAULT 0, "seq" INTEGER NOT NULL DEFAULT 0, "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "title" VARCHAR(200) NOT NULL DEFAULT \'\', "status" VARCHAR(16) NOT NULL DEFAULT \'draft\', "start_on" DATE DEFAULT null, "end_on" DATE DEFAULT null, "auto_renew" BOOLEAN NOT NULL DEFAULT false, "notice_days" INTEGER NOT NULL DEFAULT 30, "signed_on" DATE DEFAULT null, "signatories" JSON NOT NULL DEFAULT \'[]\', "currency" VARCHAR(3) NOT NULL DEFAULT \'CNY\', "total_cents" BIGINT NOT NULL DEFAULT 0, "renewal_opened_at" TIMESTAMPTZ DEFAULT null, "renewed_by" UUID REFERENCES "contracts" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "created_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX contracts_account ON "contracts" USING btree ("account")',
    'CREATE INDEX contracts_status ON "contracts" USING btree ("status")',
    'CREATE INDEX contracts_end_on ON "contracts" USING btree ("end_on")',
    'CREATE INDEX contracts_updated_at ON "contracts" USING btree ("updated_at")',
    'CREATE TABLE "contract_quotes" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "quote" UUID REFERENCES "quotes" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null)',
    'CREATE INDEX contract_quotes_contract ON "contract_quotes" USING btree ("contract")',
    'CREATE INDEX contract_quotes_quote ON "contract_quotes" USING btree ("quote")',
    'CREATE TABLE "contract_lines" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "position" INTEGER NOT NULL DEFAULT 0, "product" UUID REFERENCES "products" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "product_code" VARCHAR(64) NOT NULL DEFAULT \'\', "product_name" VARCHAR(200) NOT NULL DEFAULT \'\', "unit" VARCHAR(32) NOT NULL DEFAULT \'\', "quantity" BIGINT NOT NULL DEFAULT 1, "list_price_cents" BIGINT NOT NULL DEFAULT 0, "unit_price_cents" BIGINT NOT NULL DEFAULT 0, "discount_bp" INTEGER NOT NULL DEFAULT 0, "total_cents" BIGINT NOT NULL DEFAULT 0)',
    'CREATE INDEX contract_lines_contract ON "contract_lines" USING btree ("contract")',
    'CREATE TABLE "agreed_tariffs" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "account" UUID REFERENCES "accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "product" UUID REFERENCES "products" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "product_code" VARCHAR(64) NOT NULL DEFAULT \'\', "product_name" VARCHAR(200) NOT NULL DEFAULT \'\', "price_cents" BIGINT DEFAULT null, "discount_bp" INTEGER DEFAULT null, "valid_from" DATE DEFAULT null, "valid_to" DATE DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX agreed_tariffs_contract ON "agreed_tariffs" USING btree ("contract")',
    'CREATE INDEX agreed_tariffs_account ON "agreed_tariffs" USING btree ("account")',
    'CREATE INDEX agreed_tariffs_product ON "agreed_tariffs" USING btree ("product")',
    'CREATE TABLE "contract_documents" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "contract" UUID REFERENCES "contracts" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "sha256" VARCHAR(64) NOT NULL DEFAULT \'\', "media_type" VARCHAR(64) NOT NULL DEFAULT \'\', "filename" VARCHAR(200) NOT NULL DEFAULT \'\', "size" BIGINT NOT NULL DEFAULT 0, "uploaded_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX contract_documents_contract ON "contract_documents" USING btree ("contract")',
    'CREATE TABLE "bills" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "bill_number" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "period" VARCHAR(7) NOT NULL DEFAULT \'\', "amount_due_cents" BIGINT NOT NULL DEFAULT 0, "paid_cents" BIGINT NOT NULL DEFAULT 0, "issued_on" DATE DEFAULT null, "due_on" DATE NOT NULL DEFAULT CURRENT_DATE, "status" VARCHAR(16) NOT NULL DEFAULT \'open\', "collection_task_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX bills_account ON "bills" USING btree ("account")',
    'CREATE INDEX bills_due_on ON "bills" USING btree ("due_on")',
    'CREATE INDEX bills_status ON "bills" USING btree ("status")',
    'CREATE INDEX bills_updated_at ON "bills" USING btree ("updated_at")',
    'CREATE TABLE "payments" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "payment_ref" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "bill" UUID REFERENCES "bills" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "amount_cents" BIGINT NOT NULL DEFAULT 0, "paid_on" DATE NOT NULL DEFAULT CURRENT_DATE, "method" VARCHAR(32) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX payments_account ON "payments" USING btree ("account")',
    'CREATE INDEX payments_bill ON "payments" USING btree ("bill")',
    'CREATE INDEX payments_paid_on ON "payments" USING btree ("paid_on")',
    'CREATE INDEX payments_updated_at ON "payments" USING btree ("updated_at")',
    'CREATE TABLE "collection_contacts" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID REFERENCES "accounts" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, "bill" UUID REFERENCES "bills" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "kind" VARCHAR(16) NOT NULL DEFAULT \'\', "promised_on" DATE DEFAULT null, "promised_cents" BIGINT DEFAULT null, "reason" TEXT NOT NULL DEFAULT \'\', "note" TEXT NOT NULL DEFAULT \'\', "status" VARCHAR(16) NOT NULL DEFAULT \'open\', "recorded_by" UUID REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "recorded_by_name" VARCHAR(120) NOT NULL DEFAULT \'\', "captured_at" TIMESTAMPTZ DEFAULT null, "followup_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX collection_contacts_account ON "collection_contacts" USING btree ("account")',
    'CREATE INDEX collection_contacts_bill ON "collection_contacts" USING btree ("bill")',
    'CREATE INDEX collection_contacts_promised_on ON "collection_contacts" USING btree ("promised_on")',
    'CREATE INDEX collection_contacts_status ON "collection_contacts" USING btree ("status")',
    'CREATE INDEX collection_contacts_updated_at ON "collection_contacts" USING btree ("updated_at")',
)

TABLES = ('collection_contacts', 'payments', 'bills', 'contract_documents', 'agreed_tariffs', 'contract_lines', 'contract_quotes', 'contracts', 'contract_counters')


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def create() -> None:
        statements = SQLITE if ContractCounter._meta.db.engine_type == "sqlite" else POSTGRES
        for sql in statements:
            await ContractCounter._meta.db.run_ddl(sql)  # not raw(): it reads the braces of JSON defaults as placeholders

    async def drop() -> None:
        for name in TABLES:
            await ContractCounter.raw(f"DROP TABLE IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
