"""HTTP doors of the integration surface: service accounts and tokens (HQ), billing batches, webhooks."""

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter

from fieldcrm.integrations import batches, service_accounts, webhooks
from fieldcrm.integrations.config import integration_settings
from fieldcrm.integrations.schemas import (
    BatchResult,
    DeliveryPage,
    NewToken,
    ServiceAccount,
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountPage,
    ServiceAccountPatch,
    TokenCreate,
    Webhook,
    WebhookCreate,
    WebhookPage,
    WebhookPatch,
)
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor

BATCH_EXAMPLE = {
    "bills": [
        {
            "billNumber": "B-202611-000123",
            "accountCode": "SD-JN-0001",
            "period": "2026-11",
            "amountDueCents": 1250000,
            "paidCents": 0,
            "issuedOn": "2026-12-01",
            "dueOn": "2026-12-20",
        }
    ],
    "payments": [
        {
            "paymentRef": "P-7781",
            "accountCode": "SD-JN-0001",
            "billNumber": "B-202611-000123",
            "amountCents": 500000,
            "paidOn": "2026-12-03",
            "method": "transfer",
        }
    ],
    "holdings": [
        {
            "accountCode": "SD-JN-0001",
            "productCode": "DL-100M",
            "product": "专线 100M",
            "quantity": 4,
            "monthlyFeeCents": 300000,
        }
    ],
    "revenue": [{"accountCode": "SD-JN-0001", "month": "2026-11", "amountCents": 1250000}],
}

BatchId = Annotated[str, Parameter(description="The billing system's id of the batch (1-100 of A-Z a-z 0-9 . _ : -)")]


class ServiceAccountController(Controller):
    """Service accounts (HQ): other systems that call fieldcrm with scoped tokens."""

    path = "/integrations/service-accounts"
    tags = ["integrations"]

    @post("/")
    async def create_service_account(
        self,
        actor: Actor,
        data: Annotated[
            ServiceAccountCreate,
            Body(
                examples=[
                    Example(
                        summary="the billing system",
                        value={"name": "BOSS", "scopes": ["billing:write", "accounts:read"], "tokenLabel": "prod"},
                    )
                ]
            ),
        ],
    ) -> ServiceAccountCreated:
        """Create a service account; its first token is in the answer, shown this once."""
        return await service_accounts.create_service_account(actor=actor, data=data)

    @get("/")
    async def list_service_accounts(self, actor: Actor, page: PageParams) -> ServiceAccountPage:
        """Every service account, by name."""
        return await service_accounts.list_service_accounts(actor=actor, page=page)

    @get("/{account_id:uuid}")
    async def get_service_account(self, actor: Actor, account_id: uuid.UUID) -> ServiceAccount:
        """One service account, its scopes and tokens (never the tokens themselves)."""
        return await service_accounts.get_service_account(actor=actor, account_id=account_id)

    @patch("/{account_id:uuid}")
    async def update_service_account(
        self, actor: Actor, account_id: uuid.UUID, data: ServiceAccountPatch
    ) -> ServiceAccount:
        """Change the scopes, or disable every token at once."""
        return await service_accounts.update_service_account(actor=actor, account_id=account_id, data=data)

    @post("/{account_id:uuid}/tokens")
    async def issue_token(self, actor: Actor, account_id: uuid.UUID, data: TokenCreate) -> NewToken:
        """Another token (to rotate: issue, switch, revoke the old); shown this once."""
        return await service_accounts.issue_token(actor=actor, account_id=account_id, data=data)

    @delete("/{account_id:uuid}/tokens/{token_id:uuid}", status_code=204)
    async def revoke_token(self, actor: Actor, account_id: uuid.UUID, token_id: uuid.UUID) -> None:
        """Revoke a token: calls with it answer 401 from now on."""
        await service_accounts.revoke_token(actor=actor, account_id=account_id, token_id=token_id)


class BillingBatchController(Controller):
    """Inbound batches from the billing system (scope billing:write)."""

    path = "/integrations/billing/batches"
    tags = ["integrations"]

    @put(
        "/{batch_id:str}",
        request_max_body_size=integration_settings().batch_max_body_bytes,
        status_code=200,
        responses=None,
    )
    async def put_batch(
        self,
        actor: Actor,
        batch_id: BatchId,
        data: Annotated[
            dict[str, object],
            Body(
                description=(
                    "bills, payments, holdings and revenue; at most 10,000 rows in all (413 beyond); "
                    "applied all or nothing; the same body under the same id answers the first result, "
                    "another body 409"
                ),
                examples=[Example(summary="one of each", value=BATCH_EXAMPLE)],
            ),
        ],
    ) -> BatchResult:
        """Apply a billing batch once, all or nothing."""
        return await batches.apply_batch(actor=actor, batch_id=batch_id, body=data)

    @get("/{batch_id:str}")
    async def get_batch(self, actor: Actor, batch_id: BatchId) -> BatchResult:
        """What an applied batch did."""
        return await batches.get_batch(actor=actor, batch_id=batch_id)


class WebhookController(Controller):
    """Outbound webhooks (HQ): HTTPS endpoints that receive signed events."""

    path = "/webhooks"
    tags = ["integrations"]

    @post("/")
    async def create_webhook(
        self,
        actor: Actor,
        data: Annotated[
            WebhookCreate,
            Body(
                examples=[
                    Example(
                        summary="contract and quote events to the billing system",
                        value={
                            "url": "https://boss.example.com/fieldcrm/events",
                            "secret": "a-long-random-secret-value",
                            "events": ["contract.signed", "contract.amended", "quote.accepted"],
                        },
                    )
                ]
            ),
        ],
    ) -> Webhook:
        """Register an HTTPS endpoint for some events."""
        return await webhooks.create_webhook(actor=actor, data=data)

    @get("/")
    async def list_webhooks(self, actor: Actor, page: PageParams) -> WebhookPage:
        """Every webhook."""
        return await webhooks.list_webhooks(actor=actor, page=page)

    @get("/{webhook_id:uuid}")
    async def get_webhook(self, actor: Actor, webhook_id: uuid.UUID) -> Webhook:
        """One webhook (never its secret)."""
        return await webhooks.get_webhook(actor=actor, webhook_id=webhook_id)

    @patch("/{webhook_id:uuid}")
    async def update_webhook(self, actor: Actor, webhook_id: uuid.UUID, data: WebhookPatch) -> Webhook:
        """Change the URL, secret, events, or pause it."""
        return await webhooks.update_webhook(actor=actor, webhook_id=webhook_id, data=data)

    @delete("/{webhook_id:uuid}", status_code=204)
    async def delete_webhook(self, actor: Actor, webhook_id: uuid.UUID) -> None:
        """Remove a webhook and its deliveries."""
        await webhooks.delete_webhook(actor=actor, webhook_id=webhook_id)

    @get("/{webhook_id:uuid}/deliveries")
    async def list_deliveries(
        self,
        actor: Actor,
        webhook_id: uuid.UUID,
        page: PageParams,
        status: Annotated[str | None, Parameter(description="pending, delivered or dead")] = None,
    ) -> DeliveryPage:
        """Deliveries of this webhook with their attempts, newest first."""
        return await webhooks.list_deliveries(actor=actor, webhook_id=webhook_id, page=page, status=status)


CONTROLLERS = [ServiceAccountController, BillingBatchController, WebhookController]
