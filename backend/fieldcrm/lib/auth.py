"""Authentication: a session cookie for the PWA (with CSRF on unsafe methods) or a bearer token.

Every path under /api needs a session, except the routes that opt out with
``opt={"public": True}`` (login, the push public key). What the session may do is decided
in ``fieldcrm.org.scope``, not here.
"""

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from fieldcrm.integrations import service_accounts
from fieldcrm.lib.errors import Forbidden, NotAuthenticated
from fieldcrm.org import services as org_services
from fieldcrm.org.schemas import Actor
from fieldcrm.org.security import tokens_equal

SESSION_COOKIE = "fieldcrm_session"
CSRF_COOKIE = "fieldcrm_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Doors that only make sense for a person (a session, a device, a calendar): never a service account's.
PEOPLE_ONLY = ("/api/auth/", "/api/me", "/api/sync/", "/api/push/", "/api/calendar")


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an ``Authorization: Bearer`` header."""
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves the caller from the bearer token or the session cookie."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        """Find the session; unsafe cookie requests must echo the CSRF token."""
        token = bearer_token(connection)
        if token is not None and service_accounts.is_service_token(token):
            # Another system: its scopes are decided in fieldcrm.org.scope like people's roles.
            service = await service_accounts.authenticate(token)
            if service is None:
                msg = "this service-account token is unknown, revoked, or its account is disabled"
                raise NotAuthenticated(msg)
            if connection.scope.get("path", "").startswith(PEOPLE_ONLY):
                msg = "a service account cannot use this: sessions, devices and offline sync are for people"
                raise Forbidden(msg, extra={"code": "people_only"})
            await service_accounts.record_call(
                service, method=str(connection.scope.get("method", "GET")), path=connection.scope.get("path", "")
            )
            return AuthenticationResult(user=service, auth=token)
        via_cookie = token is None
        if token is None:
            token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            msg = "sign in first: no session cookie or bearer token"
            raise NotAuthenticated(msg)
        actor = await org_services.authenticate(token, via_cookie=via_cookie)
        if actor is None:
            msg = "your session has ended; sign in again"
            raise NotAuthenticated(msg)
        if via_cookie and connection.scope.get("method", "GET") not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER, "")
            if not sent or not tokens_equal(sent, actor.csrf_token):
                msg = f"missing or wrong {CSRF_HEADER} header (send the {CSRF_COOKIE} cookie's value)"
                raise Forbidden(msg, extra={"code": "csrf"})
        return AuthenticationResult(user=actor, auth=token)


def auth_middleware() -> DefineMiddleware:
    """The middleware; the app mounts it on the /api router only."""
    return DefineMiddleware(
        SessionAuthMiddleware,
        exclude_from_auth_key="public",
    )


def provide_actor(request: Any) -> Actor:
    """Dependency: the authenticated caller."""
    actor: Actor = request.user
    return actor
