"""Catalog operations. Other domains read the catalog only through these functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.catalog.models import Product, ProductStatus, Shop, ShopStaff, Sku, SkuPrice
from liveshop.core.errors import Forbidden, NotFound, Unprocessable


@dataclass(frozen=True, slots=True)
class SkuOffer:
    """What a buyer is offered for one SKU in one market (price snapshot source)."""

    sku_id: int
    sku_code: str
    product_id: int
    shop_id: int
    title: str
    category: str
    attributes: dict[str, Any]
    image_url: str | None
    market_code: str
    currency: str
    price_minor: int


async def get_sku_offer(session: AsyncSession, sku_id: int, market_code: str) -> SkuOffer:
    """The sellable offer, or a 4xx: unknown SKU (422), not published/active or no price here."""
    row = (
        await session.execute(
            select(Sku, Product, SkuPrice)
            .join(Product, Product.id == Sku.product_id)
            .outerjoin(
                SkuPrice,
                (SkuPrice.sku_id == Sku.id) & (SkuPrice.market_code == market_code.upper()),
            )
            .where(Sku.id == sku_id)
        )
    ).one_or_none()
    if row is None:
        raise Unprocessable(f"SKU {sku_id} does not exist", code="unknown-sku", sku_id=sku_id)
    sku, product, price = row
    if product.status != ProductStatus.PUBLISHED or not sku.is_active:
        raise Unprocessable(f"SKU {sku_id} is not for sale", code="sku-not-for-sale", sku_id=sku_id)
    if price is None or not price.is_available:
        raise Unprocessable(
            f"SKU {sku_id} is not sold in {market_code.upper()}",
            code="sku-not-in-market",
            sku_id=sku_id,
            market=market_code.upper(),
        )
    return SkuOffer(
        sku_id=sku.id,
        sku_code=sku.code,
        product_id=product.id,
        shop_id=product.shop_id,
        title=product.title,
        category=product.category,
        attributes=dict(sku.attributes or {}),
        image_url=product.images[0] if product.images else None,
        market_code=price.market_code,
        currency=price.currency,
        price_minor=price.amount_minor,
    )


async def get_shop(session: AsyncSession, shop_id: int) -> Shop:
    shop = await session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(f"shop {shop_id} does not exist", code="shop-not-found")
    return shop


async def is_shop_staff(session: AsyncSession, user_id: int, shop_id: int) -> bool:
    found = await session.scalar(
        select(ShopStaff.id).where(ShopStaff.shop_id == shop_id, ShopStaff.user_id == user_id)
    )
    return found is not None


async def shop_ids_of(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(select(ShopStaff.shop_id).where(ShopStaff.user_id == user_id))
    return list(rows.all())


async def ensure_shop_staff(session: AsyncSession, principal: Principal, shop_id: int) -> Shop:
    """The shop, if the caller works there (or is an admin); 403 for anyone else's shop."""
    shop = await get_shop(session, shop_id)
    if principal.is_admin or await is_shop_staff(session, principal.user_id, shop_id):
        return shop
    raise Forbidden("you are not staff of this shop", code="not-shop-staff", shop_id=shop_id)


async def sku_shop_id(session: AsyncSession, sku_id: int) -> int:
    """The shop that owns a SKU (404 if there is no such SKU)."""
    shop_id = await session.scalar(select(Sku.shop_id).where(Sku.id == sku_id))
    if shop_id is None:
        raise NotFound(f"SKU {sku_id} does not exist", code="unknown-sku", sku_id=sku_id)
    return int(shop_id)
