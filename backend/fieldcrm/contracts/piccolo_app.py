"""Piccolo app of the contracts domain: contracts and agreed tariffs, bills, payments, collections."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="contracts",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "contracts"),
    table_classes=table_finder(modules=["fieldcrm.contracts.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app", "fieldcrm.accounts.piccolo_app", "fieldcrm.sales.piccolo_app"],
    commands=[],
)
