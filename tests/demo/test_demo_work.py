"""The demo company's daily work and scorecard: what a rep, a manager and HQ find (fieldcrm.demo_work)."""

import datetime
from collections import defaultdict
from typing import Any

from fieldcrm.analytics import kpis
from fieldcrm.analytics.kpis import Ask
from fieldcrm.analytics.tables import Target
from fieldcrm.demo import build_demo
from fieldcrm.demo_sales import _actors
from fieldcrm.lib.db import as_date
from fieldcrm.org.tables import User
from fieldcrm.tasks.services import business_today, due_moment
from fieldcrm.tasks.tables import Task


def _when(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


async def test_every_rep_has_tasks_of_each_kind_targets_and_kpis_that_differ() -> None:
    summary = await build_demo(accounts=200, seed=5)
    assert "tasks" in summary and "monthly targets" in summary
    today = business_today()
    reps = await _actors(User.role == "rep", User.is_active.eq(True))
    assert len(reps) == 40
    rows = await Task.select().where(Task.deleted_at.is_null())
    by_rep: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_rep[row["assignee"]].append(row)

    followed: set[Any] = set()
    for rep in reps.values():
        mine = by_rep[rep.id]
        assert 10 <= len(mine) <= 60, (rep.username, len(mine))
        due = {r["id"]: as_date(r["due_date"]) for r in mine}
        opened = [r for r in mine if r["state"] == "open"]
        assert any(due[r["id"]] < today for r in opened), f"{rep.username} has nothing overdue"
        assert any(due[r["id"]] == today for r in opened), f"{rep.username} has nothing due today"
        assert any(today < due[r["id"]] <= today + datetime.timedelta(days=7) for r in opened)
        assert {"weekly", "monthly"} <= {r["recurrence"] for r in mine}
        done = [r for r in mine if r["state"] == "done"]
        on_time = [
            r for r in done if _when(r["completed_at"]) < due_moment(due[r["id"]], None) + datetime.timedelta(days=1)
        ]
        assert on_time and len(on_time) < len(done), f"{rep.username}: done on time and late"
        skipped = [r for r in mine if r["state"] == "skipped"]
        assert skipped and all(r["skip_reason"].strip() for r in skipped)
        assert any(r["creator"] not in (None, rep.id) for r in mine), f"{rep.username} has no task from a manager"
        assert any(r["remind_at"] is not None for r in mine)
        if any(r["source"] == "visit_follow_up" for r in mine):
            followed.add(rep.id)
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r["title"]) for r in mine)  # written in Chinese
    assert len(followed) >= 36  # the follow-ups of their latest visits (a rep may have visited nobody lately)

    # Targets for this month and last, for every rep.
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    targets = await Target.select(Target.subject_id, Target.month).where(Target.level == "rep")
    months = defaultdict(set)
    for t in targets:
        months[t["subject_id"]].add(as_date(t["month"]))
    assert all(months[rep.id] >= {this_month, last_month} for rep in reps.values())

    # KPIs and trends are real figures for HQ, a director, a manager and a rep.
    people = {
        name: next(iter((await _actors(User.username == name)).values()))
        for name in ("hq", "director", "manager", "rep")
    }
    levels = {"hq": "hq", "director": "province", "manager": "team", "rep": "rep"}
    for name, actor in people.items():
        subject = None if name in {"hq", "rep"} else actor.org_unit_id
        report = await kpis.kpis(actor=actor, level=levels[name], subject_id=subject, ask=Ask(period="month"))
        assert report.previous.values.visits_done > 0, name  # this month may be only a day old
        for block in (report.current, report.previous):
            v = block.values
            assert v.quotes_sent > 0, (name, block.period)
            assert v.tasks_due and v.tasks_on_time is not None, (name, block.period)
            assert block.targets.won_revenue_cents and block.targets.tasks_on_time, (name, block.period)
        assert report.previous.values.won_revenue_cents > 0, name
        trend = await kpis.trend(actor=actor, level=levels[name], subject_id=subject, ask=Ask(period="month"))
        won = [p.won_revenue_cents for p in trend.points]
        visits = [p.visits_done for p in trend.points]
        assert len(set(won)) >= 4 and sum(visits) > 0, (name, won, visits)
        if name != "rep":  # one rep of a 200-account demo has only a handful of accounts to visit
            assert len(set(visits)) >= 4, (name, visits)
        assert sum(p.win_rate is not None for p in trend.points) >= 6, name

    # The reps differ from one another.
    board = await kpis.leaderboard(
        actor=people["hq"], group_by="rep", within=None, rep=None, ask=Ask(period="month", at=last_month)
    )
    assert len(board.rows) == 40
    assert len({row.won_revenue_cents for row in board.rows}) >= 10
    assert len({row.visits_done for row in board.rows}) >= 5
