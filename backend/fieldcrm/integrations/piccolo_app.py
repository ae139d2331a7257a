"""Piccolo app of the integrations domain: service accounts, billing batches, webhooks."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="integrations",
    migrations_folder_path=str(Path(__file__).resolve().parents[3] / "migrations" / "integrations"),
    table_classes=table_finder(modules=["fieldcrm.integrations.tables"], exclude_imported=True),
    migration_dependencies=["fieldcrm.org.piccolo_app"],
    commands=[],
)
