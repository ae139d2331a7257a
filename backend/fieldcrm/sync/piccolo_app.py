"""Piccolo app of the sync layer."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="sync",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "sync"),
    table_classes=table_finder(modules=["fieldcrm.sync.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app", "fieldcrm.accounts.piccolo_app"],
    commands=[],
)
