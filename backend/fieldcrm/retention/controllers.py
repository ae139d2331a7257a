"""HTTP doors of retention: the scoring configuration and the at-risk list."""

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import QueryParameter

from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.retention import scoring, services
from fieldcrm.retention.schemas import Band, ReasonCode, RiskConfig, RiskConfigBody, RiskPage, RiskSort


class RiskController(Controller):
    """Churn risk of the accounts the caller sees, and how it is scored."""

    path = "/retention"
    tags = ["retention"]

    @get("/risks")
    async def list_risks(
        self,
        actor: Actor,
        page: PageParams,
        band: Band | None = None,
        reason: ReasonCode | None = None,
        min_score: Annotated[int | None, QueryParameter(name="minScore", ge=0, le=100)] = None,
        sort: Annotated[RiskSort, QueryParameter(description="-score (default), score, -revenue, revenue")] = "-score",
    ) -> RiskPage:
        """Scored accounts in scope with their reasons, riskiest first."""
        return await services.list_risks(
            actor=actor, page=page, band=band, reason=reason, min_score=min_score, sort=sort
        )

    @get("/config")
    async def get_config(self, actor: Actor) -> RiskConfig:
        """The scoring configuration in force."""
        return await scoring.get_config(actor=actor)

    @put("/config")
    async def put_config(self, actor: Actor, data: RiskConfigBody) -> RiskConfig:
        """A new version of the weights, thresholds and parameters (HQ)."""
        return await scoring.put_config(actor=actor, data=data)


CONTROLLERS = [RiskController]
