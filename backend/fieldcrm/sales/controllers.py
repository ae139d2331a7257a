"""HTTP doors of sales: products, opportunity stages, opportunities and the pipeline, quotes."""

import uuid
from typing import Annotated, Literal

from litestar import Controller, MediaType, Response, get, patch, post, put
from litestar.params import Parameter, QueryParameter

from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import services
from fieldcrm.sales.schemas import (
    Opportunity,
    OpportunityCreate,
    OpportunityPage,
    OpportunityPatch,
    Pipeline,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    Quote,
    QuoteCreate,
    QuotePage,
    QuotePatch,
    QuoteState,
    QuoteTransition,
    Stage,
    StagePut,
)

OwnerId = Annotated[uuid.UUID | None, QueryParameter(name="ownerId", description="Accounts owned by this rep")]
UnitId = Annotated[
    uuid.UUID | None, QueryParameter(name="orgUnitId", description="Accounts owned in this team or region")
]
AccountId = Annotated[uuid.UUID | None, QueryParameter(name="accountId")]


class ProductController(Controller):
    """The catalogue: everyone reads, HQ edits."""

    path = "/products"
    tags = ["sales"]

    @get("/")
    async def list_products(
        self,
        actor: Actor,
        page: PageParams,
        q: Annotated[str | None, Parameter(max_length=100)] = None,
        category: Annotated[str | None, Parameter(max_length=64)] = None,
        active: Annotated[bool | None, Parameter(description="false: retired products; omit: sold ones")] = True,
    ) -> ProductPage:
        """Products by code."""
        return await services.list_products(actor=actor, page=page, q=q, category=category, active=active)

    @post("/")
    async def create_product(self, actor: Actor, data: ProductCreate) -> Product:
        """Add a product (HQ)."""
        return await services.create_product(actor=actor, data=data)

    @get("/{product_id:uuid}")
    async def get_product(self, actor: Actor, product_id: uuid.UUID) -> Product:
        """One product."""
        return await services.get_product(actor=actor, product_id=product_id)

    @patch("/{product_id:uuid}")
    async def update_product(self, actor: Actor, product_id: uuid.UUID, data: ProductPatch) -> Product:
        """Change a product (HQ); existing quotes keep their prices."""
        return await services.update_product(actor=actor, product_id=product_id, data=data)


class OpportunityController(Controller):
    """Opportunities on the accounts the caller sees."""

    path = "/opportunities"
    tags = ["sales"]

    @get("/")
    async def list_opportunities(
        self,
        actor: Actor,
        page: PageParams,
        account_id: AccountId = None,
        stage: Annotated[str | None, Parameter(max_length=32)] = None,
        owner_id: OwnerId = None,
        org_unit_id: UnitId = None,
        open_only: Annotated[bool, QueryParameter(name="openOnly")] = False,
    ) -> OpportunityPage:
        """Opportunities, soonest expected close first."""
        return await services.list_opportunities(
            actor=actor,
            page=page,
            account_id=account_id,
            stage=stage,
            owner_id=owner_id,
            org_unit_id=org_unit_id,
            open_only=open_only,
        )

    @post("/")
    async def create_opportunity(self, actor: Actor, data: OpportunityCreate) -> Opportunity:
        """Open an opportunity."""
        return await services.create_opportunity(actor=actor, data=data)

    @get("/pipeline")
    async def pipeline(self, actor: Actor, owner_id: OwnerId = None, org_unit_id: UnitId = None) -> Pipeline:
        """Count, amount and weighted amount by stage: a rep's, a team's, a region's (within the caller's scope)."""
        return await services.pipeline(actor=actor, owner_id=owner_id, org_unit_id=org_unit_id)

    @get("/stages")
    async def list_stages(self, actor: Actor) -> list[Stage]:
        """The stages with their default probabilities."""
        return await services.list_stages(actor=actor)

    @put("/stages/{key:str}")
    async def put_stage(self, actor: Actor, key: str, data: StagePut) -> Stage:
        """Create or change a stage (HQ)."""
        return await services.put_stage(actor=actor, key=key, data=data)

    @get("/{opportunity_id:uuid}")
    async def get_opportunity(self, actor: Actor, opportunity_id: uuid.UUID) -> Opportunity:
        """One opportunity."""
        return await services.get_opportunity(actor=actor, opportunity_id=opportunity_id)

    @patch("/{opportunity_id:uuid}")
    async def update_opportunity(self, actor: Actor, opportunity_id: uuid.UUID, data: OpportunityPatch) -> Opportunity:
        """Change an opportunity; with a stale baseVersion, a changed stage, amount or close date answers 409."""
        return await services.update_opportunity(actor=actor, opportunity_id=opportunity_id, data=data)


class QuoteController(Controller):
    """Quotes on the accounts the caller sees."""

    path = "/quotes"
    tags = ["sales"]

    @get("/")
    async def list_quotes(
        self,
        actor: Actor,
        page: PageParams,
        account_id: AccountId = None,
        quote_state: Annotated[QuoteState | None, QueryParameter(name="state")] = None,
        owner_id: OwnerId = None,
        number: Annotated[str | None, Parameter(max_length=32, description="Q-2026-00001")] = None,
    ) -> QuotePage:
        """Quotes, newest first."""
        return await services.list_quotes(
            actor=actor, page=page, account_id=account_id, state=quote_state, owner_id=owner_id, number=number
        )

    @post("/")
    async def create_quote(self, actor: Actor, data: QuoteCreate) -> Quote:
        """Draft a quote; the server numbers it and computes the totals."""
        return await services.create_quote(actor=actor, data=data)

    @get("/{quote_id:uuid}")
    async def get_quote(self, actor: Actor, quote_id: uuid.UUID) -> Quote:
        """One quote with its lines."""
        return await services.get_quote(actor=actor, quote_id=quote_id)

    @patch("/{quote_id:uuid}")
    async def update_quote(self, actor: Actor, quote_id: uuid.UUID, data: QuotePatch) -> Quote:
        """Change a draft (409 in any other state)."""
        return await services.update_quote(actor=actor, quote_id=quote_id, data=data)

    @post("/{quote_id:uuid}/transitions", status_code=200)
    async def transition(self, actor: Actor, quote_id: uuid.UUID, data: QuoteTransition) -> Quote:
        """Submit, withdraw, reopen, send, accept or expire; an illegal move answers 409 with the reason."""
        return await services.transition(actor=actor, quote_id=quote_id, data=data)

    @post("/{quote_id:uuid}/revisions")
    async def revise(self, actor: Actor, quote_id: uuid.UUID) -> Quote:
        """Start a new draft revision (same number) of a quote that has left draft."""
        return await services.revise_quote(actor=actor, quote_id=quote_id)

    @get("/{quote_id:uuid}/print", media_type=MediaType.HTML)
    async def print_quote(
        self, actor: Actor, quote_id: uuid.UUID, lang: Literal["zh-CN", "en"] | None = None
    ) -> Response[str]:
        """The printable quote for the customer (HTML), in the caller's language unless ``lang`` says otherwise."""
        page = await services.print_quote(actor=actor, quote_id=quote_id, lang=lang)
        return Response(page, media_type=MediaType.HTML)


CONTROLLERS = [ProductController, OpportunityController, QuoteController]
