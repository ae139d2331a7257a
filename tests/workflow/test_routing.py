"""Rules pick the chain from the subject's facts; deciders are found relative to the owner; quorum modes."""

import json
import uuid
from typing import Any

import pytest

from fieldcrm.lib.errors import Conflict, Forbidden, InvalidInput
from fieldcrm.notifications.tables import Notification
from fieldcrm.workflow import services as workflow
from tests.factories import Org
from tests.workflow.memo import MemoSubject, memo_definition

# discount in basis points -> (stages of step names, deciders of each stage by username)
BOUNDARIES = [
    (0, [], []),
    (500, [], []),
    (501, [["manager"]], [[["manager_a"]]]),
    (1500, [["manager"]], [[["manager_a"]]]),
    (1501, [["manager"], ["director"]], [[["manager_a"]], [["director"]]]),
    (3000, [["manager"], ["director"]], [[["manager_a"]], [["director"]]]),
    (3001, [["manager"], ["director", "hq_pricing"]], [[["manager_a"]], [["director"], ["hq"]]]),
]


def _names(org: Org) -> dict[uuid.UUID, str]:
    return {p.id: name for name, p in org.people.items()}


async def _approve_stage(org: Org, step_ids: list[uuid.UUID], deciders: list[list[str]]) -> None:
    for step_id, people in zip(step_ids, deciders, strict=True):
        await workflow.decide(
            actor=await org.actor(people[0]),
            step_id=step_id,
            decision="approve",
            comment="",
            idempotency_key=f"k-{step_id}",
        )


@pytest.mark.parametrize(("discount_bp", "stages", "deciders"), BOUNDARIES, ids=[f"{b[0] / 100}%" for b in BOUNDARIES])
async def test_each_discount_boundary_routes_to_its_chain(
    org: Org, memos: MemoSubject, discount_bp: int, stages: list[list[str]], deciders: list[list[list[str]]]
) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=discount_bp, excess_bp=0)
    instance = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    assert instance.stages == stages
    names = _names(org)
    if not stages:
        assert instance.status == "approved"
        assert memo.outcomes == [("approved", None, "")]
        assert instance.steps == []
        return
    assert instance.status == "running"
    for stage_no, expected in enumerate(deciders):
        current = await workflow.running(kind="memo", subject_id=memo.id)
        assert current is not None
        open_steps = [s for s in current.steps if s.stage == stage_no and s.status == "pending"]
        assert [s.name for s in open_steps] == sorted(stages[stage_no]) or [s.name for s in open_steps] == stages[
            stage_no
        ]
        by_name = {s.name: s for s in open_steps}
        got = [[names[d.user_id] for d in by_name[name].deciders] for name in stages[stage_no]]
        assert got == expected
        assert memo.state == "submitted"
        await _approve_stage(org, [by_name[n].id for n in stages[stage_no]], expected)
    assert memo.state == "approved"
    assert memo.outcomes[-1][0] == "approved"
    assert memo.steps_done == [n for stage in stages for n in stage]


async def test_owner_manager_is_never_the_owner_and_falls_back_up_the_tree(org: Org, memos: MemoSubject) -> None:
    """A manager's own memo goes to the director above; in Hubei (no director) to HQ."""
    memo = memos.add(org.manager_a.id, discount_bp=1000)
    instance = await workflow.start(actor=await org.actor("manager_a"), kind="memo", subject_id=memo.id)
    assert [d.user_id for d in instance.steps[0].deciders] == [org.director.id]
    memo_c = memos.add(org.manager_c.id, discount_bp=1000)
    instance_c = await workflow.start(actor=await org.actor("manager_c"), kind="memo", subject_id=memo_c.id)
    assert [d.user_id for d in instance_c.steps[0].deciders] == [org.hq.id]


async def test_start_notifies_the_deciders_in_the_same_transaction(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    instance = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    rows = await Notification.select().where(Notification.kind == "approval.requested")
    assert [r["user"] for r in rows] == [org.manager_a.id]
    assert rows[0]["topic"] == f"memo-{memo.id}"
    assert rows[0]["url"] == f"#/memos/{memo.id}"
    assert rows[0]["urgency"] == "high" and rows[0]["ttl_s"] > 0
    params = rows[0]["params"] if isinstance(rows[0]["params"], dict) else json.loads(rows[0]["params"])
    # enough for a notification's Approve action: the step, and the version it is about
    assert params["stepId"] == str(instance.steps[0].id) and params["subjectVersion"] == 1
    assert params["title"] == memo.title and params["ownerName"] == "Rep A" and params["dueAt"]


async def test_a_subject_runs_one_instance_at_a_time(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    rep = await org.actor("rep_a")
    await workflow.start(actor=rep, kind="memo", subject_id=memo.id)
    with pytest.raises(Conflict):
        await workflow.start(actor=rep, kind="memo", subject_id=memo.id)
    cancelled = await workflow.cancel(actor=rep, kind="memo", subject_id=memo.id, reason="edited")
    assert cancelled is not None and cancelled.status == "cancelled"
    assert all(s.status == "cancelled" for s in cancelled.steps)
    assert await workflow.cancel(actor=rep, kind="memo", subject_id=memo.id, reason="again") is None
    again = await workflow.start(actor=rep, kind="memo", subject_id=memo.id)
    assert again.status == "running"


async def test_no_rule_matching_is_a_clear_error(org: Org, memos: MemoSubject) -> None:
    hq = await org.actor("hq")
    body = memo_definition(rules=[{"when": {"discount_bp": {"lte": 500}}, "chain": []}])
    await workflow.put_definition(actor=hq, key="memo-approval", body=body)
    memo = memos.add(org.rep_a.id, discount_bp=900)
    with pytest.raises(InvalidInput, match="no rule"):
        await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    missing = memos.add(org.rep_a.id)  # no discount_bp at all: the condition fails, no rule matches
    with pytest.raises(InvalidInput, match="no rule"):
        await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=missing.id)


# ---------------------------------------------------------------- quorum


def _quorum_definition(quorum: Any) -> dict[str, Any]:
    return {
        "key": "memo-quorum",
        "subject": "memo",
        "rules": [{"when": {}, "chain": [["panel"]]}],
        "steps": {"panel": {"deciders": "hq:manager", "quorum": quorum, "sla_hours": 8}},
    }


@pytest.mark.parametrize(
    ("quorum", "approvals_needed"),
    [("any", 1), ("all", 3), ({"n": 2}, 2), ({"n": 5}, 3)],
    ids=["any", "all", "2 of 3", "5 of 3 asks all 3"],
)
async def test_quorum_modes(org: Org, memos: MemoSubject, quorum: Any, approvals_needed: int) -> None:
    hq = await org.actor("hq")
    await workflow.put_definition(actor=hq, key="memo-quorum", body=_quorum_definition(quorum))
    memo = memos.add(org.rep_a.id)
    instance = await workflow.start(
        actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id, definition="memo-quorum"
    )
    step = instance.steps[0]
    assert {d.user_id for d in step.deciders} == {org.manager_a.id, org.manager_b.id, org.manager_c.id}
    assert step.needed == approvals_needed
    panel = ["manager_a", "manager_b", "manager_c"]
    for n, who in enumerate(panel[:approvals_needed], start=1):
        result = await workflow.decide(
            actor=await org.actor(who), step_id=step.id, decision="approve", comment="ok", idempotency_key=who
        )
        assert result.step_status == ("approved" if n == approvals_needed else "pending")
        if n < approvals_needed:
            with pytest.raises(Conflict, match="already decided"):  # the same person cannot vote twice
                await workflow.decide(
                    actor=await org.actor(who), step_id=step.id, decision="approve", comment="", idempotency_key="x"
                )
    assert memo.state == "approved"
    for late in panel[approvals_needed:]:
        with pytest.raises(Conflict, match="already approved"):
            await workflow.decide(
                actor=await org.actor(late), step_id=step.id, decision="approve", comment="", idempotency_key=late
            )


async def test_any_reject_rejects_the_instance_and_return_sends_it_back(org: Org, memos: MemoSubject) -> None:
    hq = await org.actor("hq")
    await workflow.put_definition(actor=hq, key="memo-quorum", body=_quorum_definition("all"))
    rejected = memos.add(org.rep_a.id)
    step = (await workflow.start(actor=hq, kind="memo", subject_id=rejected.id, definition="memo-quorum")).steps[0]
    await workflow.decide(
        actor=await org.actor("manager_a"), step_id=step.id, decision="approve", comment="", idempotency_key="a"
    )
    result = await workflow.decide(
        actor=await org.actor("manager_b"), step_id=step.id, decision="reject", comment="价格太低", idempotency_key="b"
    )
    assert (result.step_status, result.instance_status) == ("rejected", "rejected")
    assert rejected.outcomes == [("rejected", "manager_b", "价格太低")]

    returned = memos.add(org.rep_a.id)
    step = (await workflow.start(actor=hq, kind="memo", subject_id=returned.id, definition="memo-quorum")).steps[0]
    with pytest.raises(InvalidInput, match="comment"):
        await workflow.decide(
            actor=await org.actor("manager_c"), step_id=step.id, decision="return", comment=" ", idempotency_key="c"
        )
    result = await workflow.decide(
        actor=await org.actor("manager_c"), step_id=step.id, decision="return", comment="补充合同", idempotency_key="c"
    )
    assert result.instance_status == "returned"
    assert returned.outcomes == [("returned", "manager_c", "补充合同")]
    rows = await Notification.select(Notification.user, Notification.kind, Notification.params).where(
        Notification.kind.is_in(["approval.decided", "approval.returned"])
    )
    assert sorted((r["user"], r["kind"]) for r in rows) == sorted(
        [(org.rep_a.id, "approval.decided"), (org.rep_a.id, "approval.returned")]
    )


async def test_only_deciders_decide(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    step = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)).steps[0]
    # the director sees the memo (it is in his province) but is not the manager step's decider
    with pytest.raises(Forbidden):
        await workflow.decide(
            actor=await org.actor("director"), step_id=step.id, decision="approve", comment="", idempotency_key="d"
        )
    with pytest.raises(Forbidden):  # the owner sees it too, and may not approve it
        await workflow.decide(
            actor=await org.actor("rep_a"), step_id=step.id, decision="approve", comment="", idempotency_key="r"
        )
    from fieldcrm.lib.errors import NotFound

    with pytest.raises(NotFound):  # another team's manager does not even see it
        await workflow.decide(
            actor=await org.actor("manager_b"), step_id=step.id, decision="approve", comment="", idempotency_key="b"
        )


async def test_a_small_discount_beyond_a_products_own_limit_needs_the_manager(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=300, excess_bp=100)
    instance = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    assert instance.stages == [["manager"]] and instance.status == "running"
