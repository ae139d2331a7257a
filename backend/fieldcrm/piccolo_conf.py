"""Piccolo's configuration: the engine from DATABASE_URL and the domain apps."""

from piccolo.conf.apps import AppRegistry

from fieldcrm.lib.db import make_engine
from fieldcrm.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "fieldcrm.org.piccolo_app",
        "fieldcrm.accounts.piccolo_app",
        "fieldcrm.audit.piccolo_app",
        "fieldcrm.sync.piccolo_app",
        "fieldcrm.visits.piccolo_app",
        "fieldcrm.sales.piccolo_app",
        "fieldcrm.cases.piccolo_app",
        "fieldcrm.workflow.piccolo_app",
        "fieldcrm.notifications.piccolo_app",
        "fieldcrm.tasks.piccolo_app",
        "fieldcrm.analytics.piccolo_app",
        "fieldcrm.integrations.piccolo_app",
        "fieldcrm.contracts.piccolo_app",
        "fieldcrm.retention.piccolo_app",
    ]
)
