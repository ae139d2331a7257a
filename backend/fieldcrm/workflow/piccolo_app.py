"""Piccolo app of the workflow domain."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="workflow",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "workflow"),
    table_classes=table_finder(modules=["fieldcrm.workflow.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app"],
    commands=[],
)
