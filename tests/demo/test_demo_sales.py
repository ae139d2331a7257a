"""The demo company's selling: what a person signing in to `make demo` finds (fieldcrm.demo_sales)."""

from collections import Counter

from fieldcrm.cases.tables import Case
from fieldcrm.demo import build_demo
from fieldcrm.demo_sales import _actors
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.tables import User
from fieldcrm.sales import services as sales
from fieldcrm.sales.tables import Opportunity, Product, Quote
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.tables import WorkflowInstance


async def test_the_demo_has_a_catalogue_a_pipeline_quotes_waiting_for_the_manager_and_cases() -> None:
    summary = await build_demo(accounts=300, seed=3)
    assert "products" in summary and "opportunities" in summary

    assert 20 <= await Product.count() <= 30
    stages = Counter(r["stage"] for r in await Opportunity.select(Opportunity.stage))
    assert set(stages) >= {"lead", "qualified", "proposal", "negotiation", "won", "lost"}, stages

    # Submitted quotes run on the workflow engine: the demo manager's inbox lists them.
    submitted = await Quote.select(Quote.id).where(Quote.state == "submitted")
    assert submitted
    running = await WorkflowInstance.count().where(
        WorkflowInstance.status == "running", WorkflowInstance.subject_kind == "quote"
    )
    assert running == len(submitted)
    manager = next(iter((await _actors(User.username == "manager")).values()))
    inbox = await workflow.inbox(actor=manager, page=PageParams(limit=100), kind="quote")
    assert {i.subject_id for i in inbox.items} == {r["id"] for r in submitted}

    # The "rep" login has a draft, a quote waiting and an approved one, and a pipeline.
    rep = next(iter((await _actors(User.username == "rep")).values()))
    quotes = await sales.list_quotes(
        actor=rep, page=PageParams(limit=50), account_id=None, state=None, owner_id=rep.id, number=None
    )
    assert {q.state for q in quotes.items} >= {"draft", "submitted", "approved"}
    pipeline = await sales.pipeline(actor=rep, owner_id=rep.id, org_unit_id=None)
    assert pipeline.open_count > 0

    # Cases with their work orders under way.
    assert await Case.count() > 0
    assert await WorkflowInstance.count().where(WorkflowInstance.subject_kind == "case") == await Case.count()
