"""Listing and searching products, with the price range a buyer sees in one market.

The text search is ``lower(column) LIKE lower(:q)`` so it behaves the same on SQLite and
PostgreSQL (SQLite's ``lower`` folds ASCII letters only). Pages are ordered newest first by
id, which is unique, so an item never shows on two pages of one walk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.models import Product, ProductStatus, Sku, SkuPrice
from liveshop.markets.models import Market
from liveshop.markets.service import display_price, require_market


@dataclass(frozen=True, slots=True)
class ProductQuery:
    statuses: tuple[ProductStatus, ...] = (ProductStatus.PUBLISHED,)
    shop_id: int | None = None
    market: str | None = None
    q: str | None = None
    category: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True)
class PriceRange:
    """Cheapest and dearest available price of a product's active SKUs in one market."""

    market: str
    currency: str
    min_minor: int
    max_minor: int
    display: str


@dataclass(slots=True)
class ProductListing:
    items: Sequence[Product]
    total: int
    market: Market | None = None
    ranges: dict[int, PriceRange] = field(default_factory=dict)


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sold_in(market_code: str) -> Select[int]:
    return (
        select(Sku.product_id)
        .join(SkuPrice, SkuPrice.sku_id == Sku.id)
        .where(
            Sku.is_active.is_(True),
            SkuPrice.market_code == market_code,
            SkuPrice.is_available.is_(True),
        )
    )


def _range_display(market: Market, low: int, high: int) -> str:
    if low == high:
        return display_price(market, low)
    return f"{display_price(market, low)} – {display_price(market, high)}"


def make_range(market: Market, low: int, high: int) -> PriceRange:
    return PriceRange(
        market=market.code,
        currency=market.currency,
        min_minor=low,
        max_minor=high,
        display=_range_display(market, low, high),
    )


def price_range_of(product: Product, market: Market) -> PriceRange | None:
    """The range from a loaded product (for one product; listings aggregate in SQL)."""
    amounts = [
        p.amount_minor
        for sku in product.skus
        if sku.is_active
        for p in sku.prices
        if p.market_code == market.code and p.is_available
    ]
    return make_range(market, min(amounts), max(amounts)) if amounts else None


async def search_products(session: AsyncSession, query: ProductQuery) -> ProductListing:
    """One page of products matching every given filter, and the total across pages.

    With a market, only products that can be bought there (an active SKU with an available
    price) are listed, each with its price range in the market's currency.
    """
    market = await require_market(session, query.market) if query.market else None
    stmt = select(Product).where(Product.status.in_([str(s) for s in query.statuses]))
    if query.shop_id is not None:
        stmt = stmt.where(Product.shop_id == query.shop_id)
    if query.category is not None:
        stmt = stmt.where(Product.category == query.category)
    text = (query.q or "").strip()
    if text:
        pattern = _like_pattern(text)
        stmt = stmt.where(
            or_(
                func.lower(Product.title).like(pattern, escape="\\"),
                func.lower(Product.description).like(pattern, escape="\\"),
            )
        )
    if market is not None:
        stmt = stmt.where(exists(_sold_in(market.code).where(Sku.product_id == Product.id)))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = await session.scalars(
        stmt.order_by(Product.id.desc()).limit(query.limit).offset(query.offset)
    )
    items = page.all()
    listing = ProductListing(items=items, total=total, market=market)
    if market is not None and items:
        listing.ranges = await _price_ranges(session, market, [p.id for p in items])
    return listing


async def _price_ranges(
    session: AsyncSession, market: Market, product_ids: list[int]
) -> dict[int, PriceRange]:
    rows = await session.execute(
        select(Sku.product_id, func.min(SkuPrice.amount_minor), func.max(SkuPrice.amount_minor))
        .join(SkuPrice, SkuPrice.sku_id == Sku.id)
        .where(
            Sku.product_id.in_(product_ids),
            Sku.is_active.is_(True),
            SkuPrice.market_code == market.code,
            SkuPrice.is_available.is_(True),
        )
        .group_by(Sku.product_id)
    )
    return {pid: make_range(market, int(low), int(high)) for pid, low, high in rows.all()}
