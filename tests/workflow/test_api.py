"""The approvals API: inbox, decisions with Idempotency-Key (100 at once), offline decisions through sync,
out-of-office deputies, definitions for HQ, history."""

import asyncio
import datetime
import uuid
from typing import Any

import httpx

from fieldcrm.audit.tables import AuditEntry
from fieldcrm.lib.tables import utcnow
from fieldcrm.notifications.tables import Notification
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.tables import WorkflowDecision, WorkflowIdempotencyKey
from tests.factories import Org
from tests.workflow.memo import MemoSubject, memo_definition


async def _submitted(org: Org, memos: MemoSubject, discount_bp: int = 1000, owner: str = "rep_a") -> uuid.UUID:
    """A memo waiting for its first step; returns that step's id."""
    memo = memos.add(org.people[owner].id, discount_bp=discount_bp)
    instance = await workflow.start(actor=await org.actor(owner), kind="memo", subject_id=memo.id)
    return instance.steps[0].id


def _decision(client: httpx.AsyncClient, step_id: uuid.UUID, who: Any, key: str | None, **body: Any) -> Any:
    headers = {**who.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return client.post(f"/api/approvals/{step_id}/decision", json={"decision": "approve", **body}, headers=headers)


async def test_inbox_lists_my_open_steps_with_what_i_need(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    step_id = await _submitted(org, memos, discount_bp=1200)
    r = await client.get("/api/approvals", headers=org.manager_a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["nextCursor"] is None
    item = body["items"][0]
    assert item["stepId"] == str(step_id)
    assert item["title"].startswith("备忘") and item["facts"] == {"discount_bp": 1200}
    assert item["subjectKind"] == "memo" and item["url"].startswith("#/memos/")
    assert item["ownerName"] == "Rep A" and item["waitingSince"] and item["dueAt"]
    assert (item["warned"], item["overdue"], item["onBehalfOfId"]) == (False, False, None)
    for other in (org.manager_b, org.rep_a, org.director):
        r = await client.get("/api/approvals", headers=other.headers)
        assert r.json()["total"] == 0
    r = await client.get(f"/api/approvals/{step_id}", headers=org.manager_a.headers)
    assert r.status_code == 200 and r.json()["canDecide"] is True
    r = await client.get(f"/api/approvals/{step_id}", headers=org.rep_a.headers)
    assert r.status_code == 200 and r.json()["canDecide"] is False  # the owner follows it
    assert (await client.get(f"/api/approvals/{step_id}", headers=org.manager_b.headers)).status_code == 404


async def test_inbox_pages_soonest_due_first(client: httpx.AsyncClient, org: Org, memos: MemoSubject) -> None:
    hq = await org.actor("hq")
    await workflow.put_definition(
        actor=hq,
        key="memo-approval",
        body=memo_definition(
            rules=[
                {"when": {"urgent": True}, "chain": [["fast"]]},
                {"when": {"urgent": False}, "chain": [["slow"]]},
                {"when": {}, "chain": [["open"]]},
            ],
            steps={
                "fast": {"deciders": "owner_manager", "sla_hours": 1},
                "slow": {"deciders": "owner_manager", "sla_hours": 10},
                "open": {"deciders": "owner_manager"},
            },
        ),
    )
    made = {}
    for label, facts in (("open", {}), ("slow", {"urgent": False}), ("fast", {"urgent": True})):
        memo = memos.add(org.rep_a.id, **facts)
        made[label] = (await workflow.start(actor=hq, kind="memo", subject_id=memo.id)).steps[0].id
    r = await client.get("/api/approvals", params={"limit": 2}, headers=org.manager_a.headers)
    first = r.json()
    assert [i["stepName"] for i in first["items"]] == ["fast", "slow"] and first["total"] == 3
    r = await client.get("/api/approvals", params={"cursor": first["nextCursor"]}, headers=org.manager_a.headers)
    assert [i["stepName"] for i in r.json()["items"]] == ["open"] and r.json()["items"][0]["dueAt"] is None


async def test_one_hundred_identical_decisions_change_state_once(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    step_id = await _submitted(org, memos)
    responses = await asyncio.gather(
        *(_decision(client, step_id, org.manager_a, "tap-1", comment="同意") for _ in range(100))
    )
    assert {r.status_code for r in responses} == {200}, {r.status_code: r.text for r in responses}
    assert len({r.content for r in responses}) == 1, "the answers differ"
    body = responses[0].json()
    assert (body["stepStatus"], body["instanceStatus"]) == ("approved", "approved")
    assert await WorkflowDecision.count() == 1
    assert await WorkflowIdempotencyKey.count() == 1
    memo = next(iter(memos.memos.values()))
    assert memo.outcomes == [("approved", "manager_a", "同意")]
    decided = await Notification.select(Notification.user).where(Notification.kind == "approval.decided")
    assert [r["user"] for r in decided] == [org.rep_a.id]  # one outbox row per recipient
    # a new key on the decided step: 409 with the reason; the same key with another body: 422
    r = await _decision(client, step_id, org.manager_a, "tap-2")
    assert r.status_code == 409 and "already approved" in r.json()["detail"], r.text
    r = await _decision(client, step_id, org.manager_a, "tap-1", decision="reject")
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key", r.text
    r = await _decision(client, step_id, org.manager_a, "tap-1", comment="同意")
    assert r.status_code == 200 and r.content == responses[0].content


async def test_decision_needs_an_idempotency_key_and_valid_body(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    step_id = await _submitted(org, memos)
    r = await _decision(client, step_id, org.manager_a, None)
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]
    r = await _decision(client, step_id, org.manager_a, "k", decision="maybe")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "decision"
    r = await _decision(client, step_id, org.manager_a, "k", decision="return")
    assert r.status_code == 422 and r.json()["field"] == "comment"
    r = await _decision(client, uuid.uuid4(), org.manager_a, "k2")
    assert r.status_code == 404


async def _push(client: httpx.AsyncClient, who: Any, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = await client.post(
        "/api/sync/push",
        json={"clientId": str(uuid.uuid5(uuid.NAMESPACE_DNS, str(who.id))), "mutations": mutations},
        headers=who.headers,
    )
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def _offline(n: int, step_id: uuid.UUID, version: int, decision: str = "approve") -> dict[str, Any]:
    return {
        "id": n,
        "name": "approval.decide",
        "args": {"stepId": str(step_id), "decision": decision, "subjectVersion": version, "comment": "路上批的"},
        "capturedAt": utcnow().isoformat(),
    }


async def test_offline_decisions_apply_only_to_what_was_seen(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    """Still pending on the version seen: applied. Decided meanwhile, or the memo changed: rejected, with why."""
    pending = await _submitted(org, memos)
    decided = await _submitted(org, memos)
    changed = await _submitted(org, memos)
    await workflow.decide(
        actor=await org.actor("manager_a"), step_id=decided, decision="reject", comment="不行", idempotency_key="web"
    )
    changed_memo = list(memos.memos.values())[2]
    changed_memo.version = 2
    results = await _push(
        client, org.manager_a, [_offline(1, pending, 1), _offline(2, decided, 1), _offline(3, changed, 1)]
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"], results
    assert results[1]["code"] == "conflict" and "already rejected" in results[1]["message"]
    assert results[2]["code"] == "conflict" and "version 1, it is now version 2" in results[2]["message"]
    assert next(iter(memos.memos.values())).state == "approved"
    assert changed_memo.state == "submitted"
    r = await client.get("/api/approvals", headers=org.manager_a.headers)
    assert [i["stepId"] for i in r.json()["items"]] == [str(changed)]
    # the same offline decision arriving again from a second device applies once (no 409 either)
    r = await client.post(
        "/api/sync/push",
        json={"clientId": str(uuid.uuid4()), "mutations": [_offline(1, pending, 1)]},
        headers=org.manager_a.headers,
    )
    assert r.json()["results"][0]["status"] == "applied"
    assert await WorkflowDecision.count().where(WorkflowDecision.step == pending) == 1


async def test_a_deputy_sees_and_decides_while_the_decider_is_away(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    step_id = await _submitted(org, memos)
    now = utcnow()
    away = {
        "delegateId": str(org.director.id),
        "startsAt": (now - datetime.timedelta(hours=1)).isoformat(),
        "endsAt": (now + datetime.timedelta(days=3)).isoformat(),
    }
    r = await client.post("/api/delegations", json=away, headers=org.manager_a.headers)
    assert r.status_code == 201, r.text
    delegation = r.json()
    assert delegation["delegateName"] == "Director"
    r = await client.get("/api/delegations", headers=org.director.headers)
    assert [d["id"] for d in r.json()["items"]] == [delegation["id"]]
    r = await client.get("/api/approvals", headers=org.director.headers)
    assert r.json()["items"][0]["onBehalfOfId"] == str(org.manager_a.id)
    r = await _decision(client, step_id, org.director, "deputy", comment="代批")
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert (decision["actorName"], decision["onBehalfOfName"]) == ("Director", "Manager A")
    trail = await AuditEntry.select(AuditEntry.actor_name).where(AuditEntry.action == "wf.approve")
    assert [t["actor_name"] for t in trail] == ["Director for Manager A"]
    # bad periods and deputies are refused with a reason; only the owner ends a delegation
    for bad, field in (
        ({**away, "endsAt": away["startsAt"]}, "endsAt"),
        ({**away, "delegateId": str(org.manager_a.id)}, "delegateId"),
        ({**away, "delegateId": str(uuid.uuid4())}, "delegateId"),
        ({**away, "delegateId": str(org.rep_a2.id)}, "delegateId"),  # a rep never decides for anybody
        ({**away, "delegateId": str(org.manager_b.id)}, "delegateId"),  # a peer outside the delegator's scope
    ):
        r = await client.post("/api/delegations", json=bad, headers=org.manager_a.headers)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert (
        await client.delete(f"/api/delegations/{delegation['id']}", headers=org.director.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/api/delegations/{delegation['id']}", headers=org.manager_a.headers)
    ).status_code == 204


async def test_definitions_are_versioned_and_validated(client: httpx.AsyncClient, org: Org, memos: MemoSubject) -> None:
    r = await client.get("/api/workflow-definitions", headers=org.hq.headers)
    assert r.status_code == 200
    keys = {d["key"]: d for d in r.json()["items"]}
    assert keys["quote-approval"]["source"] == "file" and keys["memo-approval"]["version"] == 1
    assert (await client.get("/api/workflow-definitions", headers=org.manager_a.headers)).status_code == 403

    running_step = await _submitted(org, memos, discount_bp=2000)  # manager, then director (v1)
    stricter = memo_definition(rules=[{"when": {}, "chain": [["hq_pricing"]]}])
    r = await client.put("/api/workflow-definitions/memo-approval", json=stricter, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["source"] == "api"
    r = await client.get("/api/workflow-definitions/memo-approval", params={"version": 1}, headers=org.hq.headers)
    assert r.json()["version"] == 1
    # the running instance keeps version 1: after the manager, its director step comes, not HQ pricing
    await workflow.decide(
        actor=await org.actor("manager_a"), step_id=running_step, decision="approve", comment="", idempotency_key="m"
    )
    running = await workflow.running(kind="memo", subject_id=next(iter(memos.memos)))
    assert running is not None and running.definition_version == 1
    assert [s.name for s in running.steps] == ["manager", "director"]
    new = memos.add(org.rep_a.id, discount_bp=2000)
    started = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=new.id)
    assert (started.definition_version, started.stages) == (2, [["hq_pricing"]])

    problems = [
        ({"subject": "memo"}, "rules"),
        (memo_definition(rules=[{"when": {}, "chain": [["nobody"]]}]), "rules[0].chain[0]"),
        (
            memo_definition(rules=[{"when": {"discount_bp": {"about": 3}}, "chain": []}]),
            "rules[0].when.discount_bp.about",
        ),
        (memo_definition(steps={"manager": {"deciders": "the boss"}}), "steps.manager.deciders"),
        (memo_definition(steps={"manager": {"deciders": "owner_manager", "quorum": "most"}}), "steps.manager.quorum"),
        (
            memo_definition(steps={"manager": {"deciders": "owner_manager", "sla_hours": 2, "warn_before_hours": 3}}),
            "steps.manager.warn_before_hours",
        ),
        (memo_definition(key="other-key"), "key"),
        (memo_definition(subject="quote"), "subject"),
    ]
    for body, field in problems:
        r = await client.put("/api/workflow-definitions/memo-approval", json=body, headers=org.hq.headers)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["field"] == field, (field, r.json())
        assert r.json()["detail"], r.text
    r = await client.put("/api/workflow-definitions/memo-approval", json=stricter, headers=org.manager_a.headers)
    assert r.status_code == 403


async def test_history_shows_steps_and_decisions_to_whom_it_concerns(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    step_id = await _submitted(org, memos)
    memo_id = next(iter(memos.memos))
    await workflow.decide(
        actor=await org.actor("manager_a"), step_id=step_id, decision="return", comment="补充", idempotency_key="r"
    )
    params = {"subjectKind": "memo", "subjectId": str(memo_id)}
    for who, status in (
        (org.rep_a, 200),
        (org.manager_a, 200),
        (org.director, 200),
        (org.hq, 200),
        (org.rep_b, 404),
        (org.manager_b, 404),
    ):
        r = await client.get("/api/workflow-instances", params=params, headers=who.headers)
        assert r.status_code == status, (who.username, r.text)
    body = (await client.get("/api/workflow-instances", params=params, headers=org.rep_a.headers)).json()
    instance = body["items"][0]
    assert instance["status"] == "returned"
    assert instance["steps"][0]["decisions"][0]["comment"] == "补充"
