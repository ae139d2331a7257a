"""Org units, users, sessions and login attempts."""

from piccolo.columns import (
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fieldcrm.lib.tables import created_column, deleted_column, pk, updated_column


class OrgUnit(Table, tablename="org_units"):
    """A node of the org tree: HQ > province > city > team (any depth)."""

    id = pk()
    name = Varchar(length=120)
    kind = Varchar(length=16)  # hq | province | city | team
    parent: ForeignKey["OrgUnit"] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    # Materialised path "/<id>/<id>/": a subtree is one indexed prefix match.
    path = Varchar(length=1000, index=True)
    depth = Integer(default=0)
    latitude = DoublePrecision(null=True, default=None)  # the unit's centre, for maps
    longitude = DoublePrecision(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class User(Table, tablename="users"):
    """A person who logs in; role and org unit decide what they see."""

    id = pk()
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=120)
    password_hash = Varchar(length=255, secret=True)
    role = Varchar(length=16, index=True)  # rep | manager | director | hq_admin
    org_unit = ForeignKey(OrgUnit, on_delete=OnDelete.restrict, index=True)
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)
    locale = Varchar(length=8, default="zh-CN")
    is_active = Boolean(default=True)
    created_at = created_column()
    updated_at = updated_column()


class Session(Table, tablename="sessions"):
    """A login: the token is stored only as its SHA-256, so a copy of the database opens no session."""

    id = Varchar(length=64, primary_key=True)  # sha256 hex of the token
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    csrf_token = Varchar(length=64, secret=True)
    kind = Varchar(length=8)  # cookie | bearer
    user_agent = Varchar(length=300, default="")
    ip = Varchar(length=64, default="")
    created_at = created_column()
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class LoginAttempt(Table, tablename="login_attempts"):
    """A failed login, for throttling by account and by address."""

    id = pk()
    username = Varchar(length=64, index=True)
    ip = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
