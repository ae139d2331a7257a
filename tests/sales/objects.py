"""Sales, case and project objects built through the services as HQ (for the authorization matrix and benches)."""

import itertools
import uuid

from fieldcrm.cases import services as cases
from fieldcrm.cases.schemas import CaseCreate, ProjectCreate
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import catalogue, opportunities, quotes
from fieldcrm.sales.schemas import OpportunityCreate, ProductCreate, QuoteCreate, QuoteLineIn
from fieldcrm.sales.tables import Product as ProductRow
from fieldcrm.sales.tables import Quote as QuoteRow

_codes = itertools.count(1)


async def product(hq: Actor, *, price: int = 10_000, limit_bp: int = 500) -> uuid.UUID:
    """A catalogue product."""
    code = f"OBJ{next(_codes):06d}-{uuid.uuid4().hex[:6]}"
    data = ProductCreate(code=code, name=f"产品 {code}", list_price_cents=price, max_discount_bp=limit_bp)
    return (await catalogue.create_product(actor=hq, data=data)).id


async def any_product(hq: Actor) -> uuid.UUID:
    """Some product (made once per database)."""
    row = await ProductRow.select(ProductRow.id).first()
    return row["id"] if row else await product(hq)


async def make(kind: str, hq: Actor, account_id: uuid.UUID, *, state: str | None = None) -> uuid.UUID:
    """An object of ``kind`` on the account: opportunity, won_opportunity, quote (with one line), case, project.

    ``state`` forces a quote into that state (for transitions that need one).
    """
    if kind in {"opportunity", "won_opportunity"}:
        stage = "won" if kind == "won_opportunity" else "proposal"
        data = OpportunityCreate(account_id=account_id, name=f"商机 {next(_codes)}", stage=stage, amount_cents=100_000)
        return (await opportunities.create_opportunity(actor=hq, data=data)).id
    if kind == "quote":
        line = QuoteLineIn(product_id=await any_product(hq), quantity=1)
        quote = await quotes.create_quote(actor=hq, data=QuoteCreate(account_id=account_id, lines=[line]))
        if state is not None:
            await QuoteRow.update({QuoteRow.state: state}).where(QuoteRow.id == quote.id)
        return quote.id
    if kind == "case":
        data_case = CaseCreate(account_id=account_id, type="complaint", title=f"投诉 {next(_codes)}")
        return (await cases.create_case(actor=hq, data=data_case)).id
    if kind == "project":
        won = await make("won_opportunity", hq, account_id)
        return (await cases.create_project(actor=hq, data=ProjectCreate(opportunity_id=won))).id
    msg = f"no such kind {kind}"
    raise ValueError(msg)
