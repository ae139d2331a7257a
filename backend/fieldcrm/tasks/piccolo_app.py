"""Piccolo app of tasks and the personal calendar feeds."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="tasks",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "tasks"),
    table_classes=table_finder(modules=["fieldcrm.tasks.tables"], exclude_imported=True),
    migration_dependencies=[
        "fieldcrm.org.piccolo_app",
        "fieldcrm.accounts.piccolo_app",
        "fieldcrm.sync.piccolo_app",
        "fieldcrm.sales.piccolo_app",
        "fieldcrm.cases.piccolo_app",
    ],
    commands=[],
)
