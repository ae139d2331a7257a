"""/metrics (Prometheus text, bearer token), the request id on every answer, and one JSON access line a request."""

import datetime
import json
import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fieldcrm.app import create_app
from fieldcrm.notifications import services as outbox
from fieldcrm.ops.logs import ACCESS_LOGGER, JsonFormatter
from fieldcrm.settings import load_settings
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.subjects import register_subject, unregister_subject
from fieldcrm.workflow.tables import WorkflowStep
from tests.factories import Org, make_account
from tests.sync.test_protocol import contact_create, note
from tests.workflow.memo import MemoSubject, memo_definition

TOKEN = "metrics-secret-1"


@pytest.fixture(scope="module")
def metrics_app() -> object:
    return create_app(load_settings(metrics_token=TOKEN))


@pytest.fixture
async def ops(metrics_app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=metrics_app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _scrape(ops: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await ops.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_exist_only_with_a_token_and_refuse_a_wrong_one(client: httpx.AsyncClient, ops) -> None:
    assert (await client.get("/metrics")).status_code == 404  # no FIELDCRM_METRICS_TOKEN: no endpoint
    assert (await ops.get("/metrics")).status_code == 401
    wrong = await ops.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert "FIELDCRM_METRICS_TOKEN" in wrong.json()["detail"]
    assert (await ops.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200
    assert all(op != "/metrics" for op in (await ops.get("/schema/openapi.json")).json()["paths"])


async def test_request_latency_is_counted_by_route_template_and_status(ops, org: Org) -> None:
    account = await make_account(org)
    before = await _scrape(ops)
    for _ in range(3):
        assert (await ops.get(f"/api/accounts/{account}", headers=org.rep_a.headers)).status_code == 200
    assert (await ops.get(f"/api/accounts/{uuid.uuid4()}", headers=org.rep_a.headers)).status_code == 404
    after = await _scrape(ops)
    name = "fieldcrm_http_request_duration_seconds_count"
    route = "/api/accounts/{account_id}"
    ok = {"method": "GET", "route": route, "status": "200"}
    missing = {"method": "GET", "route": route, "status": "404"}
    assert _value(after, name, **ok) - _value(before, name, **ok) == 3
    assert _value(after, name, **missing) - _value(before, name, **missing) == 1
    assert not any(str(account) in labels_text for (_, labels) in after for labels_text in map(str, labels))


async def test_sync_batches_and_their_outcomes_are_counted(ops, org: Org) -> None:
    account = await make_account(org)
    device = uuid.uuid4()
    before = await _scrape(ops)
    body = {"clientId": str(device), "mutations": [note(1, account), contact_create(2, account, "")]}
    r = await ops.post("/api/sync/push", json=body, headers=org.rep_a.headers)
    assert [m["status"] for m in r.json()["results"]] == ["applied", "rejected"]
    r = await ops.post("/api/sync/push", json=body, headers=org.rep_a.headers)  # the device sends it again
    assert [m["status"] for m in r.json()["results"]] == ["skipped", "skipped"]
    after = await _scrape(ops)
    for outcome, count in (("applied", 1), ("rejected", 1), ("skipped", 2)):
        name = "fieldcrm_sync_mutations_total"
        assert _value(after, name, outcome=outcome) - _value(before, name, outcome=outcome) == count, outcome
    batches = "fieldcrm_sync_push_batch_size_count"
    assert _value(after, batches) - _value(before, batches) == 2
    sizes = "fieldcrm_sync_push_batch_size_sum"
    assert _value(after, sizes) - _value(before, sizes) == 4
    pushes = "fieldcrm_sync_pushes_total"
    assert _value(after, pushes, status="200") - _value(before, pushes, status="200") == 2


@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_compressed_sync_answers_are_counted_too(ops, org: Org, encoding: str) -> None:
    account = await make_account(org)
    before = await _scrape(ops)
    batch = [contact_create(i, account, f"联系人{i}") for i in range(1, 41)]  # an answer well over 1 KB
    r = await ops.post(
        "/api/sync/push",
        json={"clientId": str(uuid.uuid4()), "mutations": batch},
        headers={**org.rep_a.headers, "Accept-Encoding": encoding},
    )
    assert r.status_code == 200
    assert r.headers["content-encoding"] == encoding  # what a phone's browser gets
    after = await _scrape(ops)
    name = "fieldcrm_sync_mutations_total"
    assert _value(after, name, outcome="applied") - _value(before, name, outcome="applied") == 40


async def test_queue_depths_sla_breaches_and_the_pool_are_read_when_scraped(ops, org: Org) -> None:
    subject = MemoSubject()
    register_subject(subject)
    try:
        await workflow.put_definition(actor=await org.actor("hq"), key="memo-approval", body=memo_definition())
        memo = subject.add(org.rep_a.id, discount_bp=2000)
        await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    finally:
        unregister_subject("memo")
    empty = await _scrape(ops)
    assert _value(empty, "fieldcrm_workflow_sla_breaches", escalation_level="0") == 0
    waiting = _value(empty, "fieldcrm_notification_outbox", state="pending")  # the approval request itself

    await outbox.enqueue(user_ids=[org.manager_a.id, org.director.id], kind="approval.requested", params={"title": "x"})
    past = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=1)
    await WorkflowStep.update({WorkflowStep.due_at: past}).where(WorkflowStep.status == "pending")
    samples = await _scrape(ops)
    assert _value(samples, "fieldcrm_notification_outbox", state="pending") == waiting + 2
    assert _value(samples, "fieldcrm_notification_outbox", state="dead") == 0
    assert _value(samples, "fieldcrm_workflow_sla_breaches", escalation_level="0") == 1
    assert _value(samples, "fieldcrm_db_connections_max") >= 1
    assert ("fieldcrm_db_connections", (("state", "idle"),)) in samples


async def test_every_answer_carries_a_request_id_and_problems_include_it(client: httpx.AsyncClient, org: Org) -> None:
    r = await client.get("/api/me", headers=org.rep_a.headers)
    generated = r.headers["x-request-id"]
    assert len(generated) >= 16
    assert (await client.get("/api/me", headers=org.rep_a.headers)).headers["x-request-id"] != generated

    mine = await client.get("/api/me", headers={**org.rep_a.headers, "X-Request-ID": "lb-7f3a.42"})
    assert mine.headers["x-request-id"] == "lb-7f3a.42"  # a proxy's id follows the request
    for insane in ("has space", "x" * 200, "<script>", ""):
        r = await client.get("/api/me", headers={**org.rep_a.headers, "X-Request-ID": insane})
        assert r.headers["x-request-id"] not in (insane, "")

    missing = await client.get("/api/nowhere", headers={"X-Request-ID": "trace-1"})
    assert missing.status_code == 404
    assert missing.json()["requestId"] == "trace-1"
    assert missing.json()["detail"]
    assert int(missing.headers["content-length"]) == len(missing.content)
    invalid = await client.post("/api/accounts", json={"code": ""}, headers=org.hq.headers)
    assert invalid.status_code == 400
    assert invalid.json()["requestId"] == invalid.headers["x-request-id"]


async def test_one_json_access_line_per_request(
    client: httpx.AsyncClient, org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    account = await make_account(org)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        r = await client.get(f"/api/accounts/{account}", headers={**org.rep_a.headers, "X-Request-ID": "req-123"})
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records if rec.name == ACCESS_LOGGER]
    assert len(lines) == 1
    line = lines[0]
    assert r.status_code == 200
    assert {k: line[k] for k in ("method", "route", "status", "userId", "requestId", "level", "logger")} == {
        "method": "GET",
        "route": "/api/accounts/{account_id}",
        "status": 200,
        "userId": str(org.rep_a.id),
        "requestId": "req-123",
        "level": "info",
        "logger": ACCESS_LOGGER,
    }
    assert line["durationMs"] >= 0
    assert line["path"] == f"/api/accounts/{account}"
