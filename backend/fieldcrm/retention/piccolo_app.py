"""Piccolo app of retention: the scoring configuration, risk scores and their band changes."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="retention",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "retention"),
    table_classes=table_finder(modules=["fieldcrm.retention.tables"], exclude_imported=True),
    migration_dependencies=[
        "fieldcrm.org.piccolo_app",
        "fieldcrm.accounts.piccolo_app",
        "fieldcrm.sales.piccolo_app",
        "fieldcrm.cases.piccolo_app",
        "fieldcrm.contracts.piccolo_app",
    ],
    commands=[],
)
