"""Piccolo app of cases (complaints, faults, service requests) and delivery projects."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "cases"),
    table_classes=table_finder(modules=["fieldcrm.cases.tables"], exclude_imported=True),
    migration_dependencies=[
        "fieldcrm.org.piccolo_app",
        "fieldcrm.accounts.piccolo_app",
        "fieldcrm.sales.piccolo_app",
    ],
    commands=[],
)
