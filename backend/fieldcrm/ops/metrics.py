"""Prometheus metrics: request latency, sync batches, and queue depths read from the database at scrape time.

Counters and histograms live in this module's registry (or, when ``PROMETHEUS_MULTIPROC_DIR`` is set
because uvicorn runs several worker processes, in prometheus-client's shared files, so any process
answers for all of them). Queue depths, push states, SLA breaches and pool use are read when
Prometheus scrapes, so the worker process needs no endpoint of its own. ``GET /metrics`` answers only
with ``Authorization: Bearer $FIELDCRM_METRICS_TOKEN``; without a configured token it does not exist.
"""

import asyncio
import datetime
import gzip
import hmac
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

import brotli  # type: ignore[import-untyped]
import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from piccolo.query.functions.aggregate import Count
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from fieldcrm.lib.db import FieldcrmPostgresEngine, FieldcrmSQLiteEngine, engine
from fieldcrm.notifications.tables import Notification, PushSend
from fieldcrm.settings import Settings
from fieldcrm.workflow.tables import WorkflowStep

log = logging.getLogger("fieldcrm.metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "fieldcrm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SYNC_BATCH_SIZE = Histogram(
    "fieldcrm_sync_push_batch_size",
    "Mutations in one sync push that the server answered.",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500),
    registry=REGISTRY,
)
SYNC_MUTATIONS = Counter(
    "fieldcrm_sync_mutations",
    "Mutations answered by sync push, by outcome (applied, skipped, rejected, ...).",
    ["outcome"],
    registry=REGISTRY,
)
SYNC_PUSHES = Counter(
    "fieldcrm_sync_pushes",
    "Sync push requests by HTTP status (503: transient, retried by the device).",
    ["status"],
    registry=REGISTRY,
)

PUSH_DELIVERY = Counter(
    "fieldcrm_push_deliveries",
    "Outbox rows the delivery loop settled, by outcome (sent, held, skipped, retrying, dead), and subscriptions gone.",
    ["outcome"],
    registry=REGISTRY,
)
PUSH_REQUESTS = Counter(
    "fieldcrm_push_requests_accepted", "Web Push requests a push service accepted (201).", registry=REGISTRY
)
_PUSH_OUTCOMES = ("sent", "held", "skipped", "retrying", "dead", "gone")

SYNC_PUSH_ROUTE = "/api/sync/push"
_OUTCOMES = frozenset({"applied", "skipped", "rejected", "conflict", "stopped"})


class _Result(msgspec.Struct):
    status: str = ""


class _PushAnswer(msgspec.Struct):
    results: list[_Result] = []


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (called by the request middleware)."""
    REQUEST_SECONDS.labels(method=method, route=route or "unmatched", status=str(status)).observe(seconds)


def observe_sync_push(outcomes: Iterable[str]) -> None:
    """Count one answered sync push: its batch size and each mutation's outcome.

    Args:
        outcomes: The status of each mutation in the answer (``applied``, ``skipped``, ``rejected``...).
    """
    count = 0
    for outcome in outcomes:
        SYNC_MUTATIONS.labels(outcome=outcome if outcome in _OUTCOMES else "other").inc()
        count += 1
    SYNC_BATCH_SIZE.observe(count)


def _decompressed(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return bytes(brotli.decompress(body))
    return body


def observe_sync_push_answer(status: int, body: bytes, *, encoding: str = "") -> None:
    """Count a sync push from the answer the server sent (the middleware reads it; sync needs no hook).

    Args:
        status: The HTTP status of the answer.
        body: The answer's body as sent.
        encoding: Its Content-Encoding (``gzip``, ``br`` or none): answers over 1 KB are compressed.
    """
    SYNC_PUSHES.labels(status=str(status)).inc()
    if status != 200:
        return
    try:
        answer = msgspec.json.decode(_decompressed(body, encoding), type=_PushAnswer)
    except (msgspec.DecodeError, OSError, brotli.error):
        log.warning("sync push answer not understood for metrics")
        return
    observe_sync_push(r.status for r in answer.results)


def observe_push_delivery(result: object) -> None:
    """Count one drain of the notification outbox (a ``notifications.delivery.DeliveryResult``)."""
    for outcome in _PUSH_OUTCOMES:
        count = int(getattr(result, outcome, 0) or 0)
        if count:
            PUSH_DELIVERY.labels(outcome=outcome).inc(count)
    pushes = int(getattr(result, "pushes", 0) or 0)
    if pushes:
        PUSH_REQUESTS.inc(pushes)


def serve_worker_metrics(port: int) -> None:
    """Expose this process's counters (the worker's push outcomes) on an internal port, without a token."""
    start_http_server(port, registry=_process_registry())


# ---------------------------------------------------------------- read at scrape time


async def _table_exists(name: str) -> bool:
    db = engine()
    if isinstance(db, FieldcrmSQLiteEngine):
        sql = f"SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{name}'"  # noqa: S608
    else:
        sql = f"SELECT to_regclass('{name}') IS NOT NULL AS n"  # our constant names only
    rows = await db.run_ddl(sql)
    return bool(rows[0]["n"])


async def _depths() -> list[Metric]:
    now = datetime.datetime.now(tz=datetime.UTC)
    outbox = GaugeMetricFamily(
        "fieldcrm_notification_outbox",
        "Notifications waiting in the outbox by state (pending: not tried yet, retrying, dead: given up).",
        labels=["state"],
    )
    waiting = (Notification.sent_at.is_null(), Notification.dead_at.is_null())
    outbox.add_metric(["pending"], await Notification.count().where(*waiting, Notification.attempts == 0))
    outbox.add_metric(["retrying"], await Notification.count().where(*waiting, Notification.attempts > 0))
    outbox.add_metric(["dead"], await Notification.count().where(Notification.dead_at.is_not_null()))
    sent = GaugeMetricFamily("fieldcrm_push_sends_recorded", "Pushes a push service accepted, one per device.")
    sent.add_metric([], await PushSend.count())
    families: list[Metric] = [outbox, sent]

    if await _table_exists("webhook_deliveries"):  # the integrations domain's outbox, when installed
        hooks = GaugeMetricFamily(
            "fieldcrm_webhook_queue", "Outbound webhook deliveries by status (pending, dead...).", labels=["status"]
        )
        for row in await engine().run_ddl("SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status"):
            hooks.add_metric([str(row["status"])], int(row["n"]))
        families.append(hooks)

    breaches = GaugeMetricFamily(
        "fieldcrm_workflow_sla_breaches",
        "Open approval and work-order steps past their SLA, by escalation level.",
        labels=["escalation_level"],
    )
    rows = (
        await WorkflowStep.select(WorkflowStep.escalation_level, Count(WorkflowStep.id, alias="n"))
        .where(WorkflowStep.status == "pending", WorkflowStep.due_at.is_not_null(), WorkflowStep.due_at < now)
        .group_by(WorkflowStep.escalation_level)
    )
    for row in rows:
        breaches.add_metric([str(row["escalation_level"])], int(row["n"]))
    families.append(breaches)
    return families


def _pool() -> Iterator[Metric]:
    db = engine()
    size = GaugeMetricFamily(
        "fieldcrm_db_connections", "Database connections of this process by state.", labels=["state"]
    )
    limit = GaugeMetricFamily("fieldcrm_db_connections_max", "The most connections this process may open.")
    if isinstance(db, FieldcrmPostgresEngine):
        pool = db.pool
        if pool is not None:
            total, idle = pool.get_size(), pool.get_idle_size()
            size.add_metric(["in_use"], total - idle)
            size.add_metric(["idle"], idle)
            limit.add_metric([], pool.get_max_size())
    else:
        state = db._states.get(id(asyncio.get_running_loop()))
        readers_open = state.reader_count if state else 0
        readers_idle = state.readers.qsize() if state else 0
        writer_busy = 1 if state and state.write_lock.locked() else 0
        size.add_metric(["in_use"], readers_open - readers_idle + writer_busy)
        size.add_metric(["idle"], readers_idle + (1 if state and state.writer is not None and not writer_busy else 0))
        limit.add_metric([], db.max_readers + 1)
    return iter([size, limit])


class _Fixed:
    """A collector that yields metric families computed before the scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # every uvicorn worker's counters, summed
        return registry
    return REGISTRY


async def exposition() -> bytes:
    """The metrics text Prometheus scrapes: this process's counters, then what the database says now."""
    families: list[Metric] = []
    try:
        families.extend(await _depths())
    except Exception:  # a scrape must answer even when a depth query fails; the gap shows in Prometheus
        log.exception("metrics: reading queue depths failed")
    families.extend(_pool())
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Fixed(families))
    return generate_latest(_process_registry()) + generate_latest(snapshot)


def _authorized(request: Request[Any, Any, Any], token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def metrics_route(settings: Settings) -> HTTPRouteHandler:
    """``GET /metrics`` for these settings: 404 without a configured token, 401 with a wrong one."""
    token = settings.metrics_token

    @get("/metrics", include_in_schema=False, name="metrics")
    async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Prometheus metrics (bearer token from FIELDCRM_METRICS_TOKEN)."""
        if not token:
            raise NotFoundException(detail="no such path")
        if not _authorized(request, token):
            raise NotAuthorizedException(
                detail="send Authorization: Bearer <FIELDCRM_METRICS_TOKEN> to read the metrics",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(await exposition(), media_type=CONTENT_TYPE)

    return metrics
