"""Sync bookkeeping: the change counter, client devices, rejections and scope changes.

The counter and the triggers that stamp ``sync_version`` on synced rows are created by this
app's migration, so every writer — services, imports, segmentation, raw SQL — stamps versions
without knowing about sync.
"""

from piccolo.columns import JSON, UUID, BigInt, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fieldcrm.lib.tables import pk
from fieldcrm.org.tables import User


class ChangeCounter(Table, tablename="change_counter"):
    """One row: the last version handed out (and, on PostgreSQL, the transaction that took it)."""

    id = Integer(primary_key=True)
    value = BigInt(default=0)
    txid = BigInt(default=0)


class SyncClient(Table, tablename="sync_clients"):
    """A PWA install, bound to its user at first sync."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    last_mutation_id = BigInt(default=0)
    last_pull_version = BigInt(default=0)
    user_agent = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class SyncRejection(Table, tablename="sync_rejections"):
    """A mutation that can never apply, kept so the device can show why."""

    id = pk()
    client = ForeignKey(SyncClient, on_delete=OnDelete.cascade, index=True)
    mutation_id = BigInt()
    name = Varchar(length=64)
    code = Varchar(length=32)
    message = Text()
    args = JSON(default="{}")
    at = Timestamptz(default=TimestamptzNow())


class ScopeChange(Table, tablename="scope_changes"):
    """An account whose visibility may have changed (owner reassigned, owner or unit moved)."""

    account_id = UUID(index=True)
    version = BigInt(index=True)
    # Who owned it before (an owner reassigned); NULL when the owner stayed and their unit moved: concerns everyone.
    old_owner = UUID(null=True, default=None)


class SyncHorizon(Table, tablename="sync_horizon"):
    """One row: cursors at or below this version were purged of tombstones and must reset."""

    id = Integer(primary_key=True)
    version = BigInt(default=0)
