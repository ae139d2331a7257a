"""Piccolo app of the org domain."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="org",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "org"),
    table_classes=table_finder(modules=["fieldcrm.org.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
