"""Piccolo app of the notifications domain."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "notifications"),
    table_classes=table_finder(modules=["fieldcrm.notifications.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app"],
    commands=[],
)
