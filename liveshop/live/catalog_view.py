"""What the live room needs to know about a product, and its stock.

TEMPORARY: ``product_summary`` reads the catalog's tables because the catalog has no
"product in a market" service function yet. Replace its body with a catalog service call
when one exists (the rest of ``liveshop.live`` only uses this module, so it is one edit).
Stock comes from the inventory domain's ``stock_summaries`` (its service function).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.models import Product, ProductStatus, Shop, Sku, SkuPrice
from liveshop.inventory.service import stock_summaries
from liveshop.markets.service import display_price, get_market


@dataclass(frozen=True, slots=True)
class SkuInRoom:
    sku_id: int
    code: str
    attributes: dict[str, Any]
    price_minor: int
    price_display: str
    available: int | None = None  # units left (inventory); None when unknown

    def to_event(self) -> dict[str, Any]:
        return {
            "sku_id": self.sku_id,
            "code": self.code,
            "attributes": self.attributes,
            "price_minor": self.price_minor,
            "price_display": self.price_display,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class ProductSummary:
    """A product as shown in one market: only active SKUs with an available price there."""

    product_id: int
    shop_id: int
    title: str
    image_url: str | None
    published: bool
    shop_allows_creators: bool
    market_code: str
    currency: str
    skus: list[SkuInRoom] = field(default_factory=list)

    @property
    def sellable_here(self) -> bool:
        return self.published and bool(self.skus)

    @property
    def price_minor(self) -> int | None:
        return min((s.price_minor for s in self.skus), default=None)

    def to_event(self) -> dict[str, Any]:
        """The pinned-product payload of ``pin`` events and snapshots."""
        return {
            "product_id": self.product_id,
            "shop_id": self.shop_id,
            "title": self.title,
            "image_url": self.image_url,
            "currency": self.currency,
            "price_minor": self.price_minor,
            "skus": [s.to_event() for s in self.skus],
        }


async def product_summary(
    session: AsyncSession, product_id: int, market_code: str
) -> ProductSummary | None:
    """The product with its prices in ``market_code`` (None if there is no such product)."""
    row = (
        await session.execute(
            select(Product, Shop.allow_creators)
            .join(Shop, Shop.id == Product.shop_id)
            .where(Product.id == product_id)
        )
    ).one_or_none()
    if row is None:
        return None
    product, allow_creators = row
    market = await get_market(session, market_code)
    prices = await session.execute(
        select(Sku, SkuPrice)
        .join(SkuPrice, SkuPrice.sku_id == Sku.id)
        .where(
            Sku.product_id == product_id,
            Sku.is_active.is_(True),
            SkuPrice.market_code == market.code,
            SkuPrice.is_available.is_(True),
        )
        .order_by(Sku.id)
    )
    skus = [
        SkuInRoom(
            sku_id=sku.id,
            code=sku.code,
            attributes=dict(sku.attributes or {}),
            price_minor=price.amount_minor,
            price_display=display_price(market, price.amount_minor),
        )
        for sku, price in prices.all()
    ]
    return ProductSummary(
        product_id=product.id,
        shop_id=product.shop_id,
        title=product.title,
        image_url=product.images[0] if product.images else None,
        published=product.status == ProductStatus.PUBLISHED,
        shop_allows_creators=bool(allow_creators),
        market_code=market.code,
        currency=market.currency,
        skus=skus,
    )


async def units_available(session: AsyncSession, sku_ids: Sequence[int]) -> dict[int, int | None]:
    """Units left per SKU, from the inventory domain (expired holds released first).

    The only place the room asks about stock: were inventory unavailable, this would be
    the one function to make return None ("unknown") rather than a made-up number.
    """
    if not sku_ids:
        return {}
    summaries = await stock_summaries(session, list(sku_ids))
    return {sku_id: summaries[sku_id].available for sku_id in sku_ids}


async def product_with_stock(
    session: AsyncSession, product_id: int, market_code: str
) -> ProductSummary | None:
    """``product_summary`` with live stock filled in (for pins and snapshots)."""
    summary = await product_summary(session, product_id, market_code)
    if summary is None or not summary.skus:
        return summary
    stock = await units_available(session, [s.sku_id for s in summary.skus])
    skus = [replace(s, available=stock.get(s.sku_id)) for s in summary.skus]
    return replace(summary, skus=skus)
