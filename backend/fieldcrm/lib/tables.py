"""Column helpers shared by every domain's tables."""

import datetime
import uuid

from piccolo.columns import UUID, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow


def utcnow() -> datetime.datetime:
    """The current time, tz-aware UTC."""
    return datetime.datetime.now(tz=datetime.UTC)


def new_id() -> uuid.UUID:
    """A new primary key (clients create ids offline, so keys are UUIDs)."""
    return uuid.uuid4()


def pk() -> UUID:
    """A UUID primary key."""
    return UUID(primary_key=True)


def created_column() -> Timestamptz:
    """When the row was created (UTC)."""
    return Timestamptz(default=TimestamptzNow(), index=False)


def updated_column() -> Timestamptz:
    """When the row last changed (UTC)."""
    return Timestamptz(default=TimestamptzNow(), index=True)


def deleted_column() -> Timestamptz:
    """Soft-delete marker for tables the PWA syncs."""
    return Timestamptz(null=True, default=None)
