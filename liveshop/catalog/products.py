"""Products, SKUs and per-market prices: the seller's side of the catalog.

Invariants:
- a price is an integer of the market's currency minor unit, and its currency is the market's
  (``markets.service.ensure_currency``); prices may be set for planned markets so a catalog
  can be prepared before launch — whether it can be *sold* there is checked at checkout;
- every operation validates everything before it writes and commits once, so a refused
  request (e.g. the second SKU's price is in the wrong currency) leaves no row behind;
- SKU codes are unique within a shop (database constraint; checked first for a clear 409).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.catalog.models import Product, ProductStatus, Shop, Sku, SkuPrice
from liveshop.catalog.schemas import (
    PriceIn,
    PriceSetIn,
    ProductIn,
    ProductUpdateIn,
    SkuIn,
    SkuUpdateIn,
)
from liveshop.catalog.service import ensure_staff_of, is_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.markets.service import ensure_currency, require_market


async def get_product(session: AsyncSession, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound(
            _("product %(product_id)s does not exist", product_id=product_id),
            code="product-not-found",
        )
    return product


async def get_sku(session: AsyncSession, sku_id: int) -> Sku:
    sku = await session.get(Sku, sku_id)
    if sku is None:
        raise NotFound(_("SKU %(sku_id)s does not exist", sku_id=sku_id), code="sku-not-found")
    return sku


async def find_sku_by_code(session: AsyncSession, shop_id: int, code: str) -> Sku | None:
    return await session.scalar(select(Sku).where(Sku.shop_id == shop_id, Sku.code == code))


async def product_for_staff(
    session: AsyncSession, principal: Principal, product_id: int
) -> Product:
    """The product, if the caller is staff of its shop (or admin): 404 unknown, 403 not staff."""
    return await ensure_staff_of(session, principal, await get_product(session, product_id))


async def sku_for_staff(session: AsyncSession, principal: Principal, sku_id: int) -> Sku:
    return await ensure_staff_of(session, principal, await get_sku(session, sku_id))


async def visible_product(
    session: AsyncSession, principal: Principal | None, product_id: int
) -> tuple[Product, bool]:
    """(product, caller is its shop's staff or an admin).

    Published products are public. Anything else is 404 for everyone but the shop's staff
    and admins — the same answer as a product that does not exist, so drafts do not leak.
    """
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound(
            _("product %(product_id)s does not exist", product_id=product_id),
            code="product-not-found",
        )
    staff = principal is not None and (
        principal.is_admin or await is_shop_staff(session, principal.user_id, product.shop_id)
    )
    if product.status != ProductStatus.PUBLISHED and not staff:
        raise NotFound(
            _("product %(product_id)s does not exist", product_id=product_id),
            code="product-not-found",
        )
    return product, staff


async def _validate_price(session: AsyncSession, market: str, currency: str) -> str:
    """The market's code, or 422 unknown-market / wrong-currency."""
    found = await require_market(session, market)
    ensure_currency(found, currency)
    return found.code


async def _validate_skus(session: AsyncSession, shop_id: int, skus: list[SkuIn]) -> None:
    for sku in skus:
        for price in sku.prices:
            await _validate_price(session, price.market, price.currency)
        if await find_sku_by_code(session, shop_id, sku.code) is not None:
            raise Conflict(
                _("this shop already has a SKU with code %(code)s", code=repr(sku.code)),
                code="sku-code-taken",
                sku_code=sku.code,
            )


def _new_sku(shop_id: int, data: SkuIn) -> Sku:
    return Sku(
        shop_id=shop_id,
        code=data.code,
        attributes=dict(data.attributes),
        is_active=data.is_active,
        prices=[_new_price(p) for p in data.prices],
    )


def _new_price(data: PriceIn) -> SkuPrice:
    return SkuPrice(
        market_code=data.market,
        currency=data.currency,
        amount_minor=data.amount_minor,
        is_available=data.is_available,
    )


def _ensure_ready(product: Product) -> None:
    """A published product must have something to buy: an active SKU with a price."""
    if not any(sku.is_active and sku.prices for sku in product.skus):
        raise Unprocessable(
            _("publish needs at least one active SKU with a price"),
            code="product-not-ready",
            product_id=product.id,
        )


async def _commit_or_code_conflict(session: AsyncSession) -> None:
    try:
        await session.commit()
    except IntegrityError as exc:  # a concurrent request took the SKU code
        await session.rollback()
        raise Conflict(
            _("a SKU code in this request is already used"), code="sku-code-taken"
        ) from exc


async def create_product(session: AsyncSession, shop: Shop, data: ProductIn) -> Product:
    """A product with its SKUs and prices, written all together or not at all."""
    await _validate_skus(session, shop.id, data.skus)
    now = utcnow()
    product = Product(
        shop_id=shop.id,
        title=data.title,
        description=data.description,
        category=data.category,
        images=list(data.images),
        status=data.status,
        created_at=now,
        updated_at=now,
        skus=[_new_sku(shop.id, s) for s in data.skus],
    )
    if data.status == ProductStatus.PUBLISHED:
        _ensure_ready(product)
    session.add(product)
    await _commit_or_code_conflict(session)
    return product


async def update_product(session: AsyncSession, product: Product, data: ProductUpdateIn) -> Product:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(product, field, list(value) if field == "images" else value)
    product.updated_at = utcnow()
    await session.commit()
    return product


async def publish_product(session: AsyncSession, product: Product) -> Product:
    """Draft or archived → published (needs an active SKU with a price)."""
    _ensure_ready(product)
    product.status = ProductStatus.PUBLISHED
    product.updated_at = utcnow()
    await session.commit()
    return product


async def unpublish_product(session: AsyncSession, product: Product) -> Product:
    """Published or archived → draft: off sale and out of listings, still editable."""
    product.status = ProductStatus.DRAFT
    product.updated_at = utcnow()
    await session.commit()
    return product


async def archive_product(session: AsyncSession, product: Product) -> Product:
    """Hidden from listings and from buyers; kept so past orders still point somewhere."""
    product.status = ProductStatus.ARCHIVED
    product.updated_at = utcnow()
    await session.commit()
    return product


async def _touch(session: AsyncSession, product_id: int) -> None:
    product = await session.get(Product, product_id)
    if product is not None:
        product.updated_at = utcnow()


async def add_sku(session: AsyncSession, product: Product, data: SkuIn) -> Sku:
    await _validate_skus(session, product.shop_id, [data])
    sku = _new_sku(product.shop_id, data)
    product.skus.append(sku)
    product.updated_at = utcnow()
    await _commit_or_code_conflict(session)
    return sku


async def update_sku(session: AsyncSession, sku: Sku, data: SkuUpdateIn) -> Sku:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    code = changes.get("code")
    if code is not None and code != sku.code:
        if await find_sku_by_code(session, sku.shop_id, code) is not None:
            raise Conflict(
                _("this shop already has a SKU with code %(code)s", code=repr(code)),
                code="sku-code-taken",
                sku_code=code,
            )
        sku.code = code
    if "attributes" in changes:
        sku.attributes = dict(changes["attributes"])
    if "is_active" in changes:
        sku.is_active = changes["is_active"]
    await _touch(session, sku.product_id)
    await _commit_or_code_conflict(session)
    return sku


async def set_sku_price(session: AsyncSession, sku: Sku, market: str, data: PriceSetIn) -> SkuPrice:
    """Create or replace the SKU's price in one market (idempotent: same body, same row)."""
    code = await _validate_price(session, market, data.currency)
    price = next((p for p in sku.prices if p.market_code == code), None)
    if price is None:
        price = SkuPrice(market_code=code)
        sku.prices.append(price)
    price.currency = data.currency
    price.amount_minor = data.amount_minor
    price.is_available = data.is_available
    await _touch(session, sku.product_id)
    await session.commit()
    return price


async def remove_sku_price(session: AsyncSession, sku: Sku, market: str) -> None:
    """The SKU is no longer offered in that market (past orders keep their price snapshot)."""
    code = (await require_market(session, market)).code
    price = next((p for p in sku.prices if p.market_code == code), None)
    if price is None:
        raise NotFound(
            _("SKU %(id)s has no price in %(code)s", id=sku.id, code=code),
            code="price-not-found",
            market=code,
        )
    sku.prices.remove(price)
    await _touch(session, sku.product_id)
    await session.commit()
