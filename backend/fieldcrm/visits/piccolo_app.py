"""Piccolo app of the visits domain."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="visits",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "visits"),
    table_classes=table_finder(modules=["fieldcrm.visits.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.accounts.piccolo_app"],
    commands=[],
)
