"""The audit trail."""

from piccolo.columns import JSON, UUID, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fieldcrm.lib.tables import pk
from fieldcrm.org.tables import User


class AuditEntry(Table, tablename="audit_entries"):
    """Who changed what, when: the before and after of each changed field."""

    id = pk()
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    actor_name = Varchar(length=120, default="")
    entity = Varchar(length=32)  # account | contact | holding | user | org_unit | revenue
    entity_id = UUID(index=True)
    account_id = UUID(null=True, default=None, index=True)  # the account it belongs to, for its trail
    action = Varchar(length=16)  # create | update | delete | import | override
    changes = JSON(default="{}")
