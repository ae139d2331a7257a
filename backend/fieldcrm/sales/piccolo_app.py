"""Piccolo app of the sales domain: catalogue, opportunities, quotes."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="sales",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "sales"),
    table_classes=table_finder(modules=["fieldcrm.sales.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app", "fieldcrm.accounts.piccolo_app"],
    commands=[],
)
