"""HTTP doors of Web Push: the server's public key, my devices, my notification preferences."""

import uuid

from litestar import Controller, delete, get, post, put

from fieldcrm.lib.pagination import PageParams
from fieldcrm.notifications import subscriptions as services
from fieldcrm.notifications.schemas import (
    PublicKey,
    PushDevice,
    PushDevicePage,
    PushPreferences,
    PushSubscriptionCreate,
)
from fieldcrm.org.schemas import Actor


class PushController(Controller):
    """Web Push set-up for the PWA."""

    path = "/push"
    tags = ["push"]

    @get("/public-key", opt={"public": True}, security=[])
    async def public_key(self) -> PublicKey:
        """The VAPID application server key to subscribe with (public: it is a public key)."""
        return await services.public_key()

    @get("/subscriptions")
    async def list_subscriptions(self, actor: Actor, page: PageParams) -> PushDevicePage:
        """My devices that receive notifications."""
        return await services.list_devices(actor=actor, page=page)

    @post("/subscriptions")
    async def register(self, actor: Actor, data: PushSubscriptionCreate) -> PushDevice:
        """Register this browser's ``PushSubscription.toJSON()`` (again is fine: it is updated)."""
        return await services.register(actor=actor, data=data)

    @delete("/subscriptions/{subscription_id:uuid}")
    async def unsubscribe(self, actor: Actor, subscription_id: uuid.UUID) -> None:
        """Stop notifications to one of my devices."""
        await services.remove(actor=actor, subscription_id=subscription_id)

    @get("/preferences")
    async def get_preferences(self, actor: Actor) -> PushPreferences:
        """Which notifications I get, and my quiet hours."""
        return await services.get_preferences(actor=actor)

    @put("/preferences")
    async def put_preferences(self, actor: Actor, data: PushPreferences) -> PushPreferences:
        """Replace my notification preferences."""
        return await services.put_preferences(actor=actor, data=data)


CONTROLLERS = [PushController]
