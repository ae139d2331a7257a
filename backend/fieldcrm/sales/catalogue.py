"""The catalogue: products and tariffs. Everyone reads it; HQ edits it."""

import uuid
from collections.abc import Mapping
from typing import Any

from fieldcrm.accounts.services import fold
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import contains_text, is_unique_violation, required, write_transaction
from fieldcrm.lib.errors import Conflict, NotFound
from fieldcrm.lib.locking import lock_row
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.sales.schemas import Product, ProductCreate, ProductPage, ProductPatch
from fieldcrm.sales.tables import Product as ProductRow


def product_out(row: Mapping[str, Any]) -> Product:
    """A product row as its API shape."""
    return Product(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        unit=row["unit"],
        category=row["category"],
        list_price_cents=row["list_price_cents"],
        max_discount_bp=row["max_discount_bp"],
        active=row["active"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _row(product_id: uuid.UUID) -> dict[str, Any]:
    row = await ProductRow.select().where(ProductRow.id == product_id).first()
    if row is None:
        msg = f"product {product_id} not found"
        raise NotFound(msg)
    return row


async def list_products(
    *,
    actor: Actor,
    page: PageParams,
    q: str | None = None,
    category: str | None = None,
    active: bool | None = True,
) -> ProductPage:
    """The catalogue, by code; ``q`` searches code and name, ``active`` None lists retired products too."""
    scope.require(actor, "sales.read")
    where: list[Any] = []
    if q and q.strip():
        # Codes and names are short: a case-insensitive contains over both is cheap enough for a catalogue.
        where.append(contains_text("lower(products.code || ' ' || products.name)", fold(q.strip())))
    if category:
        where.append(ProductRow.category == category)
    if active is not None:
        where.append(ProductRow.active == active)
    rows = await ProductRow.select().where(*where).order_by(ProductRow.code).limit(page.limit).offset(page.offset)
    total = await ProductRow.count().where(*where)
    return ProductPage(items=[product_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def get_product(*, actor: Actor, product_id: uuid.UUID) -> Product:
    """One product."""
    scope.require(actor, "sales.read")
    return product_out(await _row(product_id))


async def _code_free(code: str, except_id: uuid.UUID | None = None) -> None:
    row = await ProductRow.select(ProductRow.id).where(ProductRow.code == code).first()
    if row is not None and row["id"] != except_id:
        msg = f"a product with code {code} already exists"
        raise Conflict(msg, field="code")


async def create_product(*, actor: Actor, data: ProductCreate) -> Product:
    """Add a product to the catalogue (HQ)."""
    scope.require(actor, "catalogue.manage")
    product_id = data.id or new_id()
    async with write_transaction():
        await _code_free(data.code)
        try:
            await ProductRow.insert(
                ProductRow(
                    id=product_id,
                    code=data.code,
                    name=data.name,
                    unit=data.unit,
                    category=data.category,
                    list_price_cents=data.list_price_cents,
                    max_discount_bp=data.max_discount_bp,
                    active=data.active,
                )
            )
        except Exception as exc:
            if is_unique_violation(exc):
                msg = f"a product with code {data.code} (or id {product_id}) already exists"
                raise Conflict(msg, field="code") from exc
            raise
        row = required(await ProductRow.select().where(ProductRow.id == product_id).first())
        await audit.record(actor=actor, entity="product", entity_id=product_id, action="create", after=row)
    return product_out(row)


async def update_product(*, actor: Actor, product_id: uuid.UUID, data: ProductPatch) -> Product:
    """Change a product (HQ). Quotes already written keep the prices and names they copied."""
    scope.require(actor, "catalogue.manage")
    async with write_transaction():
        await lock_row(ProductRow, product_id)
        before = await _row(product_id)
        changes = {k: v for k, v in changed_fields(data).items() if before[k] != v}
        if not changes:
            return product_out(before)
        if "code" in changes:
            await _code_free(changes["code"], except_id=product_id)
        values: dict[Any, Any] = {getattr(ProductRow, k): v for k, v in changes.items()}
        values[ProductRow.updated_at] = utcnow()
        values[ProductRow.version] = ProductRow.version + 1
        await ProductRow.update(values).where(ProductRow.id == product_id)
        after = await _row(product_id)
        await audit.record(
            actor=actor, entity="product", entity_id=product_id, action="update", before=before, after=after
        )
    return product_out(after)


async def products_by_id(product_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Products by id (for quote lines), any state."""
    if not product_ids:
        return {}
    rows = await ProductRow.select().where(ProductRow.id.is_in(list(product_ids)))
    return {uuid.UUID(str(r["id"])): r for r in rows}
