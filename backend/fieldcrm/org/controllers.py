"""HTTP doors of the org domain: login, me, org units and users."""

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import Parameter, QueryParameter

from fieldcrm.lib.auth import CSRF_COOKIE, SESSION_COOKIE
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org import services
from fieldcrm.org.schemas import (
    Actor,
    LoginRequest,
    LoginResponse,
    Me,
    OrgUnit,
    OrgUnitCreate,
    OrgUnitPage,
    OrgUnitPatch,
    Role,
    User,
    UserCreate,
    UserPage,
    UserPatch,
)
from fieldcrm.settings import get_settings


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The caller's address (the first X-Forwarded-For hop only behind a trusted proxy)."""
    if get_settings().trust_forwarded_for and (forwarded := request.headers.get("x-forwarded-for")):
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def _secure(request: Request[Any, Any, Any]) -> bool:
    mode = get_settings().cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


class AuthController(Controller):
    """Sessions."""

    path = "/auth"
    tags = ["auth"]

    @post("/login", opt={"public": True}, status_code=200)
    async def login(self, request: Request[Any, Any, Any], data: LoginRequest) -> Response[LoginResponse]:
        """Sign in: sets the session cookie (and a CSRF cookie) and returns a bearer token too."""
        result, token = await services.login(
            username=data.username,
            password=data.password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            old_token=request.cookies.get(SESSION_COOKIE),
        )
        secure = _secure(request)
        max_age = get_settings().session_days * 86400
        cookies = [
            Cookie(
                key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", secure=secure, max_age=max_age, path="/"
            ),
            Cookie(
                key=CSRF_COOKIE,
                value=result.csrf_token,
                httponly=False,
                samesite="lax",
                secure=secure,
                max_age=max_age,
                path="/",
            ),
        ]
        return Response(result, cookies=cookies, headers={"Cache-Control": "no-store"})

    @post("/logout", status_code=204)
    async def logout(self, actor: Actor) -> Response[None]:
        """Sign out: the session ends on the server and the cookies are cleared."""
        await services.logout(actor=actor)
        return Response(
            None,
            status_code=204,
            cookies=[
                Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/", httponly=True, samesite="lax"),
                Cookie(key=CSRF_COOKIE, value="", max_age=0, path="/", samesite="lax"),
            ],
        )


class MeController(Controller):
    """The caller."""

    path = "/me"
    tags = ["auth"]

    @get("/")
    async def me(self, actor: Actor) -> Me:
        """Who is signed in, and what they may do."""
        return await services.me(actor=actor)


class OrgUnitController(Controller):
    """The org tree (HQ edits it)."""

    path = "/org-units"
    tags = ["org"]

    @get("/")
    async def list_units(
        self,
        actor: Actor,
        page: PageParams,
        parent_id: Annotated[uuid.UUID | None, QueryParameter(name="parentId")] = None,
    ) -> OrgUnitPage:
        """Org units in tree order."""
        return await services.list_units(actor=actor, page=page, parent_id=parent_id)

    @post("/")
    async def create_unit(self, actor: Actor, data: OrgUnitCreate) -> OrgUnit:
        """Add an org unit."""
        return await services.create_unit(actor=actor, data=data)

    @get("/{unit_id:uuid}")
    async def get_unit(self, actor: Actor, unit_id: uuid.UUID) -> OrgUnit:
        """One org unit."""
        return await services.get_unit(actor=actor, unit_id=unit_id)

    @patch("/{unit_id:uuid}")
    async def update_unit(self, actor: Actor, unit_id: uuid.UUID, data: OrgUnitPatch) -> OrgUnit:
        """Rename or move an org unit (its subtree moves along)."""
        return await services.update_unit(actor=actor, unit_id=unit_id, data=data)

    @delete("/{unit_id:uuid}")
    async def delete_unit(self, actor: Actor, unit_id: uuid.UUID) -> None:
        """Remove an empty org unit."""
        await services.delete_unit(actor=actor, unit_id=unit_id)


class UserController(Controller):
    """People."""

    path = "/users"
    tags = ["org"]

    @get("/")
    async def list_users(
        self,
        actor: Actor,
        page: PageParams,
        q: Annotated[str | None, Parameter(max_length=100)] = None,
        role: Role | None = None,
        org_unit_id: Annotated[uuid.UUID | None, QueryParameter(name="orgUnitId")] = None,
        active: bool | None = None,
    ) -> UserPage:
        """People the caller may see."""
        return await services.list_users(actor=actor, page=page, q=q, role=role, org_unit_id=org_unit_id, active=active)

    @post("/")
    async def create_user(self, actor: Actor, data: UserCreate) -> User:
        """Add a person (HQ)."""
        return await services.create_user(actor=actor, data=data)

    @get("/{user_id:uuid}")
    async def get_user(self, actor: Actor, user_id: uuid.UUID) -> User:
        """One person."""
        return await services.get_user(actor=actor, user_id=user_id)

    @patch("/{user_id:uuid}")
    async def update_user(self, actor: Actor, user_id: uuid.UUID, data: UserPatch) -> User:
        """Change a person; isActive=false ends their sessions."""
        return await services.update_user(actor=actor, user_id=user_id, data=data)
