"""Schemathesis against the app's own OpenAPI document as a rep, a manager and HQ: no input is a server error.

Cases are generated from the schema (valid and invalid data, a few per operation and mode, so the run
stays bounded) and sent through the test's own client, on the test's database; every answer must be
below 500. Signing out is left out: it would end the session the rest of the run uses.
"""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from fieldcrm.notifications import subscriptions
from fieldcrm_push import VapidKeys
from tests.factories import Org, make_account

EXAMPLES = 2  # per operation and generation mode
SKIP = {("POST", "/api/auth/logout"), ("POST", "/api/auth/login")}


_GENERATED: list[Any] = []  # generated once per test process: the three personas send the same cases


def _cases(document: dict[str, Any]) -> list[Any]:
    if _GENERATED:
        return _GENERATED
    schema = schemathesis.openapi.from_dict(document)
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,  # the same cases on every run: a failure reproduces
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                cases.append(case)

            try:
                collect()
            except Exception as exc:
                if "Unsatisfiable" not in type(exc).__name__ and "Unsatisfied" not in str(exc):
                    raise
    _GENERATED.extend(cases)
    return cases


async def _send(client: httpx.AsyncClient, case: Any, headers: dict[str, str]) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["content"] = json.dumps(kwargs["json"]).encode()
        headers = {"content-type": "application/json", **headers}
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data if isinstance(data, bytes) else str(data).encode()
    sent_headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
    return await client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers={**sent_headers, **headers},
        **body,
    )


@pytest.fixture
def vapid() -> Iterator[None]:
    """The server has its VAPID key (as after `fieldcrm vapid`), so the push doors answer for real."""
    subscriptions.use_vapid_keys(VapidKeys.generate())
    yield
    subscriptions.use_vapid_keys(None)


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "hq"])
async def test_generated_requests_never_cause_a_server_error(
    client: httpx.AsyncClient, org: Org, vapid: None, persona: str
) -> None:
    await make_account(org, "rep_a", latitude=36.65, longitude=117.12)
    document = (await client.get("/schema/openapi.json")).json()
    cases = _cases(document)
    assert len(cases) > 100, len(cases)
    errors = []
    for case in cases:
        r = await _send(client, case, org.people[persona].headers)
        passing = r.status_code == 503 and "retry-after" in r.headers  # a busy database: try again, by design
        if r.status_code >= 500 and not passing:
            errors.append(f"{case.method} {case.formatted_path} -> {r.status_code}: {r.text[:200]}")
    assert not errors, "\n".join(errors[:20])
