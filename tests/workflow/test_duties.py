"""Separation of duties: nobody decides an approval of what they own or submitted, by delegation or otherwise;
a deputy is a leader who sees, through a delegation, only subjects within their own scope."""

import datetime
import uuid
from typing import Any

import httpx

from fieldcrm.lib.tables import utcnow
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.tables import WorkflowDecision, WorkflowDelegation
from tests.factories import Org
from tests.workflow.memo import MemoSubject


async def _away(org: Org, who: str, deputy: str) -> None:
    """A delegation written as older versions allowed it (no check on the deputy)."""
    now = utcnow()
    await WorkflowDelegation.insert(
        WorkflowDelegation(
            id=uuid.uuid4(),
            user=org.people[who].id,
            delegate=org.people[deputy].id,
            starts_at=now - datetime.timedelta(hours=1),
            ends_at=now + datetime.timedelta(days=2),
        )
    )


def _approve(client: httpx.AsyncClient, step_id: uuid.UUID, who: Any) -> Any:
    headers = {**who.headers, "Idempotency-Key": str(uuid.uuid4())}
    return client.post(f"/api/approvals/{step_id}/decision", json={"decision": "approve"}, headers=headers)


async def test_a_rep_deputy_cannot_approve_their_own_memo(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    step_id = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)).steps[0].id
    now = utcnow()
    away = {
        "delegateId": str(org.rep_a.id),
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(days=1)).isoformat(),
    }
    r = await client.post("/api/delegations", json=away, headers=org.manager_a.headers)
    assert r.status_code == 422 and r.json()["field"] == "delegateId", r.text
    await _away(org, "manager_a", "rep_a")  # such a delegation exists anyway (made before the rule)
    assert (await client.get("/api/approvals", headers=org.rep_a.headers)).json()["total"] == 0
    r = await client.get(f"/api/approvals/{step_id}", headers=org.rep_a.headers)
    assert r.status_code == 200 and r.json()["canDecide"] is False
    r = await _approve(client, step_id, org.rep_a)
    assert r.status_code == 403, r.text
    assert await WorkflowDecision.count() == 0
    assert memo.state == "submitted"


async def test_a_leader_deputy_cannot_approve_what_they_own_or_submitted(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    # manager A's own memo goes to the director (no other manager above them); the director is away
    # and names manager A as deputy: manager A must not approve their own memo on the director's behalf
    own = memos.add(org.manager_a.id, discount_bp=1000)
    own_step = (await workflow.start(actor=await org.actor("manager_a"), kind="memo", subject_id=own.id)).steps[0].id
    # manager A submits a memo owned by rep A: its first step is manager A's own
    submitted = memos.add(org.rep_a.id, discount_bp=1000)
    instance = await workflow.start(actor=await org.actor("manager_a"), kind="memo", subject_id=submitted.id)
    submitted_step = instance.steps[0].id
    assert [d.user_id for d in instance.steps[0].deciders] == [org.manager_a.id]
    now = utcnow()
    away = {
        "delegateId": str(org.manager_a.id),
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(days=1)).isoformat(),
    }
    r = await client.post("/api/delegations", json=away, headers=org.director.headers)
    assert r.status_code == 201, r.text  # a leader in the director's scope may deputise
    assert (await client.get("/api/approvals", headers=org.manager_a.headers)).json()["total"] == 0
    for step_id in (own_step, submitted_step):
        r = await client.get(f"/api/approvals/{step_id}", headers=org.manager_a.headers)
        assert r.status_code == 200 and r.json()["canDecide"] is False
        r = await _approve(client, step_id, org.manager_a)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "separation_of_duties"
    assert await WorkflowDecision.count() == 0
    # the director, back, decides manager A's memo as usual
    r = await _approve(client, own_step, org.director)
    assert r.status_code == 200, r.text


async def test_a_deputy_sees_no_subject_outside_their_own_scope(
    client: httpx.AsyncClient, org: Org, memos: MemoSubject
) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    step_id = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)).steps[0].id
    await _away(org, "manager_a", "manager_c")  # Wuhan's manager, who does not see Jinan's accounts
    assert (await client.get("/api/approvals", headers=org.manager_c.headers)).json()["total"] == 0
    assert (await client.get(f"/api/approvals/{step_id}", headers=org.manager_c.headers)).status_code == 404
    assert (await _approve(client, step_id, org.manager_c)).status_code == 404
    r = await client.get(
        "/api/workflow-instances",
        params={"subjectKind": "memo", "subjectId": str(memo.id)},
        headers=org.manager_c.headers,
    )
    assert r.status_code == 404
    # a deputy whose scope covers the subject sees and decides it
    await _away(org, "manager_a", "director")
    r = await client.get("/api/approvals", headers=org.director.headers)
    assert [i["stepId"] for i in r.json()["items"]] == [str(step_id)]
    assert r.json()["items"][0]["onBehalfOfId"] == str(org.manager_a.id)
    r = await _approve(client, step_id, org.director)
    assert r.status_code == 200 and r.json()["decision"]["onBehalfOfId"] == str(org.manager_a.id)
