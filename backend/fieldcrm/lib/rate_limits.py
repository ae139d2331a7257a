"""Per-user rate limits on the expensive doors, with the IETF ``RateLimit-*`` headers (Litestar's middleware).

A full sync pull, a CSV export and a push subscription each cost the server far more than an ordinary
read: one person's scripted loop must not take the server from everybody else. Each person has a budget
per door (counted per user and handler, or per address before sign-in); past it the answer is 429 with
``Retry-After`` and ``RateLimit-Reset``. The counts live in the process's memory store, so with several
API processes each counts on its own (docs/security.md).
"""

import re
from typing import Any

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from fieldcrm.settings import Settings

SYNC_PULL = re.compile(r"^/api/sync/pull/?$")
EXPORTS = re.compile(r"^/api/(accounts/export|kpis/(leaderboard|[^/]+)/export|reports/[^/]+/export)/?$")
PUSH_SUBSCRIBE = re.compile(r"^/api/push/subscriptions/?$")


def _identifier(request: Request[Any, Any, Any]) -> str:
    """Who is counted: the signed-in user (or service account), else the address; and which door."""
    user = request.scope.get("user")
    who = str(getattr(user, "id", "")) or f"ip:{get_remote_address(request)}"
    handler = request.scope.get("route_handler")
    return f"{who}:{getattr(handler, 'handler_name', request.url.path)}"


def _pulls(request: Request[Any, Any, Any]) -> bool:
    return request.method == "POST" and bool(SYNC_PULL.match(request.url.path))


def _heavy(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return (request.method == "GET" and bool(EXPORTS.match(path))) or (
        request.method == "POST" and bool(PUSH_SUBSCRIBE.match(path))
    )


def middleware(settings: Settings) -> list[DefineMiddleware]:
    """The rate-limit middlewares for the API router (after authentication, so the user is known)."""
    pulls = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_pulls_per_minute),
        identifier_for_request=_identifier,
        check_throttle_handler=_pulls,
    )
    heavy = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_heavy_per_minute),
        identifier_for_request=_identifier,
        check_throttle_handler=_heavy,
    )
    return [pulls.middleware, heavy.middleware]
