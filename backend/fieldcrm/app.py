"""The Litestar application: controllers, error mapping, lifespan."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from fieldcrm import __version__
from fieldcrm.accounts.controllers import CONTROLLERS as ACCOUNT_CONTROLLERS
from fieldcrm.analytics.controllers import CoverageController
from fieldcrm.analytics.kpi_controllers import CONTROLLERS as KPI_CONTROLLERS
from fieldcrm.cases.controllers import CONTROLLERS as CASE_CONTROLLERS
from fieldcrm.contracts.controllers import CONTROLLERS as CONTRACT_CONTROLLERS
from fieldcrm.integrations.controllers import CONTROLLERS as INTEGRATION_CONTROLLERS
from fieldcrm.lib import rate_limits, security_headers
from fieldcrm.lib.auth import auth_middleware, provide_actor
from fieldcrm.lib.db import close_engine, engine, is_out_of_range, is_unique_violation, open_engine
from fieldcrm.lib.errors import DomainError, TooManyRequests, Unavailable
from fieldcrm.lib.pagination import provide_page
from fieldcrm.lib.pwa import app_file, app_shell
from fieldcrm.lib.requests import FieldcrmRequest
from fieldcrm.lib.structs import BaseStruct
from fieldcrm.notifications.controllers import CONTROLLERS as PUSH_CONTROLLERS
from fieldcrm.ops import middleware as request_middleware
from fieldcrm.ops.metrics import metrics_route
from fieldcrm.org.controllers import AuthController, MeController, OrgUnitController, UserController
from fieldcrm.retention.controllers import CONTROLLERS as RETENTION_CONTROLLERS
from fieldcrm.sales.controllers import CONTROLLERS as SALES_CONTROLLERS
from fieldcrm.settings import Settings, get_settings
from fieldcrm.sync.controllers import SyncController
from fieldcrm.tasks.controllers import CONTROLLERS as TASK_CONTROLLERS
from fieldcrm.visits.controllers import CONTROLLERS as VISIT_CONTROLLERS
from fieldcrm.worker import default_jobs, run_jobs
from fieldcrm.workflow.controllers import CONTROLLERS as WORKFLOW_CONTROLLERS
from fieldcrm.workflow.services import load_definition_files

log = logging.getLogger("fieldcrm")
PROBLEM = "application/problem+json"


class Health(BaseStruct):
    """Liveness and database reachability."""

    status: str
    database: str
    engine: str
    version: str


@get("/health", tags=["health"])
async def health() -> Response[Health]:
    """The database answers, and which version runs."""
    db = engine()
    try:
        await db.run_ddl("SELECT 1")
        database = "ok"
    except Exception:  # any failure means unreachable: reported, not raised
        log.exception("health check: database unreachable")
        database = "unreachable"
    body = Health(
        status="ok" if database == "ok" else "degraded",
        database=database,
        engine=db.engine_type,
        version=__version__,
    )
    return Response(body, status_code=200 if database == "ok" else 503)


def _problem(status: int, title: str, detail: str, **extra: Any) -> Response[Any]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
        body.pop("retry_after", None)
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    extra: dict[str, Any] = dict(exc.extra)
    if exc.field:
        extra["field"] = exc.field
    if isinstance(exc, TooManyRequests | Unavailable):
        extra["retry_after"] = exc.retry_after
    return _problem(exc.status_code, exc.title, exc.message, **extra)


_MISSING = re.compile(r"missing required field `([^`]+)`")


def _describe(item: dict[str, Any]) -> tuple[str, str]:
    """(field, message) from one of Litestar's validation items, in the API's camelCase names."""
    message = str(item.get("message", "invalid value"))
    key = str(item.get("key") or "")
    field = "" if key == "data" else key.removeprefix("data.")
    if item.get("source") != "body":  # query and path parameters are named in Python; the API speaks camelCase
        head, *rest = field.split("_")
        field = head + "".join(part.title() for part in rest)
    if match := _MISSING.search(message):  # the key names the object, the message the field
        field = f"{field}.{match.group(1)}" if field else match.group(1)
    return field, message


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field, message = _describe(item)
            errors.append({"field": field, "source": item.get("source", "body"), "message": message})
    if errors:
        first = errors[0]
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    else:
        detail = str(exc.detail)
    return _problem(400, "Invalid request", detail, errors=errors)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large", 401: "Not authenticated"}
    detail = str(exc.detail)
    if exc.status_code == 413:
        detail = "the request body is larger than this endpoint accepts"
    elif exc.status_code == 404 and detail == "Not Found":
        detail = "no such path"
    elif exc.status_code == 429:  # a rate limit (fieldcrm.lib.rate_limits): say when to come back
        titles[429] = "Too many requests"
        wait = (exc.headers or {}).get("RateLimit-Reset", "a few")
        detail = f"too many requests of this kind in a short time; try again in {wait} seconds"
        response = _problem(429, titles[429], detail, retry_after=wait)
        response.headers.update(exc.headers or {})
        return response
    return _problem(exc.status_code, titles.get(exc.status_code, "Error"), detail)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unique_violation(exc):
        return _problem(
            409, "Conflict", "this conflicts with a record that already exists (it may have just been created)"
        )
    if is_out_of_range(exc):
        # Defence in depth: every number the API takes should carry its own bound; one that slipped is still
        # the caller's mistake, logged so the missing bound gets added.
        log.warning("a request value overflowed its column", exc_info=exc)
        return _problem(400, "Invalid request", "a number in the request is too large")
    log.exception("unhandled error", exc_info=exc)
    return _problem(500, "Internal error", "something went wrong on the server; it has been logged")


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application for these settings (the process's own by default)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await open_engine()
        stop, jobs = asyncio.Event(), None
        try:
            await load_definition_files()  # workflow definitions shipped as files: new or changed become versions
            if settings.embedded_worker:
                jobs = asyncio.create_task(run_jobs(default_jobs(), stop))
            yield
        finally:
            stop.set()
            if jobs is not None:
                await jobs
            await close_engine()

    api = Router(
        path="/api",
        route_handlers=[
            AuthController,
            MeController,
            OrgUnitController,
            UserController,
            *ACCOUNT_CONTROLLERS,
            *SALES_CONTROLLERS,
            *CASE_CONTROLLERS,
            *VISIT_CONTROLLERS,
            CoverageController,
            *KPI_CONTROLLERS,
            *WORKFLOW_CONTROLLERS,
            *PUSH_CONTROLLERS,
            *INTEGRATION_CONTROLLERS,
            *CONTRACT_CONTROLLERS,
            *TASK_CONTROLLERS,
            *RETENTION_CONTROLLERS,
            SyncController,
        ],
        middleware=[auth_middleware(), *rate_limits.middleware(settings)],  # limits count per signed-in user
    )
    openapi = OpenAPIConfig(
        title="fieldcrm API",
        version=__version__,
        description="Field-sales CRM for key-account teams. Errors are RFC 9457 problem details.",
        path="/schema",
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="token from POST /api/auth/login"),
                "cookie": SecurityScheme(type="apiKey", name="fieldcrm_session", security_scheme_in="cookie"),
            }
        ),
        security=[{"bearer": []}, {"cookie": []}],
    )
    app = Litestar(
        route_handlers=[health, metrics_route(settings), api, app_shell, app_file],
        dependencies={
            "actor": Provide(provide_actor, sync_to_thread=False),
            "page": Provide(provide_page, sync_to_thread=False),
        },
        exception_handlers={
            DomainError: _domain_error,
            ValidationException: _validation_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        lifespan=[lifespan],
        openapi_config=openapi,
        request_max_body_size=settings.max_body_bytes,
        request_class=FieldcrmRequest,  # JSON bodies are checked (UTF-8, nesting) before decoding
        # Brotli where the client accepts it, else gzip: a rep's full sync pull shrinks about tenfold on the wire.
        # Only the API: Chromium's service worker fails to install (precache rejected) when the PWA's
        # static files come compressed by this middleware, and the app would no longer open offline.
        compression_config=CompressionConfig(
            # Fast levels: brotli 3 takes ~20 ms for a 1.5 MB pull (5, the default, ~60 ms for 10% less).
            backend="brotli",
            brotli_quality=3,
            gzip_compress_level=4,
            brotli_gzip_fallback=True,
            minimum_size=1024,
            # Not the PWA's files (a path with an extension outside /api/): a pattern matching "/" too
            # would make Litestar warn that it bypasses every route.
            exclude=r"^/(?!api/)[^?]*\.[A-Za-z0-9]+$",
        ),
        debug=settings.debug,
        logging_config=None,  # `fieldcrm serve` sets up JSON logs (fieldcrm.ops.logs); Litestar's would replace them
    )
    # Outside routing and the exception handlers: every answer (404s too) gets a request id and an access line.
    request_middleware.install(app)
    security_headers.install(app)  # nosniff, framing, referrer and CSP on every answer
    return app
