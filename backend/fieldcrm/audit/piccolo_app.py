"""Piccolo app of the audit domain."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "audit"),
    table_classes=table_finder(modules=["fieldcrm.audit.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app"],
    commands=[],
)
