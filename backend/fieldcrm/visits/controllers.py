"""HTTP doors of field work: visit plans, check-ins, visits, reviews, photos and location proposals."""

import datetime
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import CacheControlHeader
from litestar.params import QueryParameter
from litestar.response import File

from fieldcrm.accounts import services as accounts
from fieldcrm.accounts.schemas import Account
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.visits import services
from fieldcrm.visits.photos import MEDIA_HEADERS, photo_name
from fieldcrm.visits.schemas import (
    CheckinCreate,
    CheckoutCreate,
    DayPlan,
    LocationProposal,
    LocationProposalPage,
    LocationSet,
    PlanStatus,
    ProposalDecision,
    ReviewDecision,
    Verdict,
    Visit,
    VisitLogPut,
    VisitPage,
    VisitPlan,
    VisitPlanCreate,
    VisitPlanPage,
    VisitPlanPatch,
)

Since = Annotated[datetime.date | None, QueryParameter(name="from", description="first day (YYYY-MM-DD)")]
Until = Annotated[datetime.date | None, QueryParameter(name="to", description="last day (YYYY-MM-DD)")]
OwnerId = Annotated[uuid.UUID | None, QueryParameter(name="ownerId")]
Lat = Annotated[float | None, QueryParameter(name="lat", ge=-90, le=90, description="your latitude")]
Lon = Annotated[float | None, QueryParameter(name="lon", ge=-180, le=180, description="your longitude")]


class CheckinController(Controller):
    """Checking in at a customer's site."""

    path = "/checkins"
    tags = ["visits"]

    @post(
        "/",
        description="Judged on arrival: verified, out_of_range, low_accuracy or unverified, plus flags for review. "
        "The same id again answers 200 with the visit already made.",
    )
    async def check_in(self, actor: Actor, data: CheckinCreate) -> Response[Visit]:
        """Check in at an account (201), or get back the visit this id already made (200)."""
        visit, created = await services.check_in(actor=actor, data=data)
        return Response(visit, status_code=201 if created else 200)


class VisitController(Controller):
    """Visits: history, check-out, the log, the photo and the review queue."""

    path = "/visits"
    tags = ["visits"]

    @get("/")
    async def list_visits(
        self,
        actor: Actor,
        page: PageParams,
        account_id: Annotated[uuid.UUID | None, QueryParameter(name="accountId")] = None,
        user_id: Annotated[uuid.UUID | None, QueryParameter(name="userId")] = None,
        since: Since = None,
        until: Until = None,
        verdict: Verdict | None = None,
    ) -> VisitPage:
        """Visits in the caller's scope, newest first."""
        return await services.list_visits(
            actor=actor, page=page, account_id=account_id, user_id=user_id, since=since, until=until, verdict=verdict
        )

    @get("/review")
    async def review_queue(self, actor: Actor, page: PageParams) -> VisitPage:
        """Check-ins waiting for a leader's review, oldest first."""
        return await services.list_visits(actor=actor, page=page, review="pending")

    @get("/{visit_id:uuid}")
    async def get_visit(self, actor: Actor, visit_id: uuid.UUID) -> Visit:
        """One visit."""
        return await services.get_visit(actor=actor, visit_id=visit_id)

    @post("/{visit_id:uuid}/checkout", status_code=200)
    async def check_out(self, actor: Actor, visit_id: uuid.UUID, data: CheckoutCreate) -> Visit:
        """Leave the site; the duration is recorded."""
        return await services.check_out(actor=actor, visit_id=visit_id, data=data)

    @put("/{visit_id:uuid}/log")
    async def put_log(self, actor: Actor, visit_id: uuid.UUID, data: VisitLogPut) -> Visit:
        """Write (or rewrite) what happened at the visit."""
        return await services.put_log(actor=actor, visit_id=visit_id, data=data)

    @put(
        "/{visit_id:uuid}/photo",
        request_max_body_size=services.PHOTO_MAX_BYTES + 1,
        description="The raw image as the body, Content-Type image/jpeg or image/png, at most 5 MB.",
    )
    async def put_photo(self, actor: Actor, visit_id: uuid.UUID, request: Request[Any, Any, Any]) -> Visit:
        """Attach a photo to the visit."""
        content = await request.body()
        kind = request.headers.get("content-type", "")
        return await services.put_photo(actor=actor, visit_id=visit_id, content=content, content_type=kind)

    @get("/{visit_id:uuid}/photo", cache_control=CacheControlHeader(private=True, max_age=86_400))
    async def get_photo(self, actor: Actor, visit_id: uuid.UUID) -> File:
        """The visit's photo."""
        path, kind = await services.photo(actor=actor, visit_id=visit_id)
        name = photo_name(visit_id, kind)
        return File(path, media_type=kind, filename=name, content_disposition_type="inline", headers=MEDIA_HEADERS)

    @post("/{visit_id:uuid}/review", status_code=200)
    async def review(self, actor: Actor, visit_id: uuid.UUID, data: ReviewDecision) -> Visit:
        """Accept (it counts for coverage) or reject a doubtful check-in."""
        return await services.review(actor=actor, visit_id=visit_id, data=data)


class VisitPlanController(Controller):
    """Planned visits."""

    path = "/visit-plans"
    tags = ["visits"]

    @get("/")
    async def list_plans(
        self,
        actor: Actor,
        page: PageParams,
        since: Since = None,
        until: Until = None,
        owner_id: OwnerId = None,
        status: PlanStatus | None = None,
    ) -> VisitPlanPage:
        """Plans in the caller's scope, by date."""
        return await services.list_plans(
            actor=actor, page=page, since=since, until=until, owner_id=owner_id, status=status
        )

    @get("/day")
    async def day_plan(
        self,
        actor: Actor,
        date: datetime.date | None = None,
        order: Literal["planned", "nearest", "route"] = "planned",
        lat: Lat = None,
        lon: Lon = None,
        owner_id: OwnerId = None,
    ) -> DayPlan:
        """A day's plan (today by default), as planned, nearest first, or as a short route from your position."""
        return await services.day_plan(
            actor=actor, on=date, order=order, latitude=lat, longitude=lon, owner_id=owner_id
        )

    @post("/")
    async def create_plan(self, actor: Actor, data: VisitPlanCreate) -> VisitPlan:
        """Plan a visit."""
        return await services.create_plan(actor=actor, data=data)

    @patch("/{plan_id:uuid}")
    async def update_plan(self, actor: Actor, plan_id: uuid.UUID, data: VisitPlanPatch) -> VisitPlan:
        """Move, re-purpose or cancel a plan."""
        return await services.update_plan(actor=actor, plan_id=plan_id, data=data)


class LocationController(Controller):
    """Account locations: proposals from check-ins, and a leader's correction."""

    path = "/"
    tags = ["visits"]

    @get("/location-proposals")
    async def list_proposals(
        self, actor: Actor, page: PageParams, status: Literal["pending", "confirmed", "rejected"] | None = "pending"
    ) -> LocationProposalPage:
        """Proposed account locations (leaders)."""
        return await services.list_proposals(actor=actor, page=page, status=status)

    @post("/location-proposals/{proposal_id:uuid}/decision", status_code=200)
    async def decide(self, actor: Actor, proposal_id: uuid.UUID, data: ProposalDecision) -> LocationProposal:
        """Confirm (the account is pinned there) or reject a proposed location."""
        return await services.decide_proposal(actor=actor, proposal_id=proposal_id, data=data)

    @post("/accounts/{account_id:uuid}/location", status_code=200)
    async def set_location(self, actor: Actor, account_id: uuid.UUID, data: LocationSet) -> Account:
        """Pin or correct where an account is (leaders; the reason is audited)."""
        return await accounts.set_location(
            actor=actor, account_id=account_id, latitude=data.latitude, longitude=data.longitude, reason=data.reason
        )


CONTROLLERS = [CheckinController, VisitController, VisitPlanController, LocationController]
