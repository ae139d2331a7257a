"""API shapes of the org domain."""

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct

Role = Literal["rep", "manager", "director", "hq_admin"]
UnitKind = Literal["hq", "province", "city", "team"]
Locale = Literal["zh-CN", "en"]
Username = Annotated[str, Meta(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-@]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=256)]
Name = Annotated[str, Meta(min_length=1, max_length=120)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, Meta(min_length=3, max_length=32, pattern=r"^[0-9+\-() ]+$")]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller, as every service sees them."""

    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    org_unit_id: uuid.UUID
    org_path: str
    locale: str = "zh-CN"
    session_id: str = ""
    via_cookie: bool = False
    csrf_token: str = ""
    # A service account's scopes (decided in org/scope.py); None for a person. A service account is never a user.
    service_scopes: frozenset[str] | None = None


class OrgUnit(BaseStruct):
    """A node of the org tree."""

    id: uuid.UUID
    name: str
    kind: UnitKind
    parent_id: uuid.UUID | None
    path: str
    depth: int
    latitude: float | None
    longitude: float | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class OrgUnitCreate(BaseStruct):
    """A new org unit under a parent (only the HQ root has none)."""

    name: Name
    kind: UnitKind
    parent_id: uuid.UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    id: uuid.UUID | None = None


class OrgUnitPatch(BaseStruct):
    """Changes to an org unit; moving it moves its whole subtree."""

    name: Name | UnsetType = UNSET
    kind: UnitKind | UnsetType = UNSET
    parent_id: uuid.UUID | UnsetType = UNSET
    latitude: Latitude | None | UnsetType = UNSET
    longitude: Longitude | None | UnsetType = UNSET


class OrgUnitPage(BaseStruct):
    """A page of org units."""

    items: list[OrgUnit]
    total: int
    next_cursor: str | None


class User(BaseStruct):
    """A person (never with their password hash)."""

    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    org_unit_id: uuid.UUID
    org_unit_name: str
    email: str | None
    phone: str | None
    locale: str
    is_active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class UserCreate(BaseStruct):
    """A new user."""

    username: Username
    display_name: Name
    password: Password
    role: Role
    org_unit_id: uuid.UUID
    email: Email | None = None
    phone: Phone | None = None
    locale: Locale = "zh-CN"
    id: uuid.UUID | None = None


class UserPatch(BaseStruct):
    """Changes to a user; ``isActive: false`` ends all their sessions at once."""

    display_name: Name | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    org_unit_id: uuid.UUID | UnsetType = UNSET
    email: Email | None | UnsetType = UNSET
    phone: Phone | None | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET


class UserPage(BaseStruct):
    """A page of users."""

    items: list[User]
    total: int
    next_cursor: str | None


class Me(BaseStruct):
    """The caller, with what the PWA needs to shape its screens."""

    user: User
    permissions: list[str]


class LoginRequest(BaseStruct):
    """Username and password."""

    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=256)]


class LoginResponse(BaseStruct):
    """The session token (for bearer use), the CSRF token (for cookie use) and the user."""

    token: str
    csrf_token: str
    expires_at: datetime.datetime
    user: User
