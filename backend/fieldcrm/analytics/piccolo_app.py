"""Piccolo app of analytics: targets (KPIs, leaderboards and reports read the other domains' tables)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="analytics",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "analytics"),
    table_classes=table_finder(modules=["fieldcrm.analytics.tables"], exclude_imported=True),
    migration_dependencies=[
        "fieldcrm.org.piccolo_app",
        "fieldcrm.accounts.piccolo_app",
        "fieldcrm.audit.piccolo_app",
        "fieldcrm.visits.piccolo_app",
        "fieldcrm.sales.piccolo_app",
        "fieldcrm.cases.piccolo_app",
        "fieldcrm.workflow.piccolo_app",
        "fieldcrm.tasks.piccolo_app",
    ],
    commands=[],
)
