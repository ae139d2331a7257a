"""HTTP doors of the offline protocol (docs/sync.md)."""

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import QueryParameter

from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.sync import services
from fieldcrm.sync.schemas import PullRequest, PullResponse, PushRequest, PushResponse, RejectionPage


class SyncController(Controller):
    """Push mutations, pull changes."""

    path = "/sync"
    tags = ["sync"]

    @post("/push", status_code=200)
    async def push(self, actor: Actor, data: PushRequest, request: Request[Any, Any, Any]) -> PushResponse:
        """Apply mutations in order, exactly once each; 503 with Retry-After when the batch must be resent."""
        return await services.push(actor=actor, data=data, user_agent=request.headers.get("user-agent", ""))

    @post("/pull", status_code=200)
    async def pull(self, actor: Actor, data: PullRequest) -> PullResponse:
        """Changes since the cursor, in the caller's current scope."""
        return await services.pull(actor=actor, data=data)

    @get("/rejections")
    async def rejections(
        self, actor: Actor, page: PageParams, client_id: Annotated[uuid.UUID, QueryParameter(name="clientId")]
    ) -> RejectionPage:
        """The mutations of this device the server rejected, with the reason."""
        return await services.rejections(actor=actor, client_id=client_id, page=page)
