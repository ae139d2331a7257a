"""HTTP doors of coverage: shares by person and region, the neglected list, the map."""

import uuid
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import Parameter, QueryParameter

from fieldcrm.accounts.schemas import Tier
from fieldcrm.analytics import coverage
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.visits.schemas import CoverageMap, CoverageReport, CoverageStatus, NeglectedPage

OrgUnitId = Annotated[uuid.UUID | None, QueryParameter(name="orgUnitId", description="a team, city or province")]


class CoverageController(Controller):
    """Which key accounts are visited as often as their tier asks."""

    path = "/coverage"
    tags = ["coverage"]

    @get("/")
    async def coverage(
        self,
        actor: Actor,
        group_by: Annotated[Literal["rep", "team", "city", "province", "hq"], QueryParameter(name="groupBy")] = "rep",
    ) -> CoverageReport:
        """Coverage shares in the caller's scope, worst group first."""
        return await coverage.coverage(actor=actor, group_by=group_by)

    @get("/neglected")
    async def neglected(
        self,
        actor: Actor,
        page: PageParams,
        tier: Tier | None = None,
        owner_id: Annotated[uuid.UUID | None, QueryParameter(name="ownerId")] = None,
        org_unit_id: OrgUnitId = None,
    ) -> NeglectedPage:
        """Overdue and never-visited accounts, worst first."""
        return await coverage.neglected(actor=actor, page=page, tier=tier, owner_id=owner_id, org_unit_id=org_unit_id)

    @get("/map")
    async def coverage_map(
        self,
        actor: Actor,
        bbox: Annotated[str, Parameter(description="minLon,minLat,maxLon,maxLat", max_length=100)],
        zoom: Annotated[int, Parameter(ge=0, le=22)],
        tier: Tier | None = None,
        status: CoverageStatus | None = None,
        org_unit_id: OrgUnitId = None,
    ) -> CoverageMap:
        """H3 hexagons (zoom 12 and below) or points (13 and above) for a bounding box."""
        return await coverage.coverage_map(
            actor=actor, bbox=bbox, zoom=zoom, tier=tier, status=status, org_unit_id=org_unit_id
        )
