from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T09:20:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications: the delivery worker reads only undelivered rows, oldest available first"


class Notification(Table, tablename="notifications", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def create() -> None:
        await Notification.raw(
            "CREATE INDEX notifications_due ON notifications (available_at) WHERE sent_at IS NULL AND dead_at IS NULL"
        )

    manager.add_raw(create)
    return manager
