"""Catalog reads other domains rely on, and shop management.

Other domains read the catalog only through these functions (and ``catalog.products`` /
``catalog.search`` for product writes and listings). Each public write is one transaction:
it validates everything first, then commits once, so a refused request writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.catalog.models import (
    Product,
    ProductStatus,
    Shop,
    ShopStaff,
    ShopStaffRole,
    Sku,
    SkuPrice,
)
from liveshop.catalog.schemas import ShopIn, ShopUpdateIn
from liveshop.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.markets.service import require_market


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
            # One query: the relationships' own selectin loads are not needed here (hot path).
            .options(lazyload(Product.skus), lazyload(Sku.prices))
            .join(Product, Product.id == Sku.product_id)
            .outerjoin(
                SkuPrice,
                (SkuPrice.sku_id == Sku.id) & (SkuPrice.market_code == market_code.upper()),
            )
            .where(Sku.id == sku_id)
        )
    ).one_or_none()
    if row is None:
        raise Unprocessable(
            _("SKU %(sku_id)s does not exist", sku_id=sku_id), code="unknown-sku", sku_id=sku_id
        )
    sku, product, price = row
    if product.status != ProductStatus.PUBLISHED or not sku.is_active:
        raise Unprocessable(
            _("SKU %(sku_id)s is not for sale", sku_id=sku_id),
            code="sku-not-for-sale",
            sku_id=sku_id,
        )
    if price is None or not price.is_available:
        raise Unprocessable(
            _("SKU %(sku_id)s is not sold in %(upper)s", sku_id=sku_id, upper=market_code.upper()),
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
        raise NotFound(_("shop %(shop_id)s does not exist", shop_id=shop_id), code="shop-not-found")
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
    raise Forbidden(_("you are not staff of this shop"), code="not-shop-staff", shop_id=shop_id)


class ShopOwned(Protocol):
    """A row that belongs to one shop (a product, a SKU, an affiliate plan, a coupon…)."""

    @property
    def shop_id(self) -> int: ...


Owned = TypeVar("Owned", bound=ShopOwned)


async def ensure_staff_of(session: AsyncSession, principal: Principal, row: Owned) -> Owned:
    """``row``, if the caller is staff of its shop (or an admin); 403 ``not-shop-staff``
    otherwise."""
    await ensure_shop_staff(session, principal, row.shop_id)
    return row


async def sku_shop_id(session: AsyncSession, sku_id: int) -> int:
    """The shop that owns a SKU (404 if there is no such SKU)."""
    shop_id = await session.scalar(select(Sku.shop_id).where(Sku.id == sku_id))
    if shop_id is None:
        raise NotFound(
            _("SKU %(sku_id)s does not exist", sku_id=sku_id), code="unknown-sku", sku_id=sku_id
        )
    return int(shop_id)


async def ensure_shop_owner(session: AsyncSession, principal: Principal, shop_id: int) -> Shop:
    """The shop, if the caller owns it (or is an admin): only owners change who is staff."""
    shop = await ensure_shop_staff(session, principal, shop_id)
    if principal.is_admin:
        return shop
    role = await session.scalar(
        select(ShopStaff.role).where(
            ShopStaff.shop_id == shop_id, ShopStaff.user_id == principal.user_id
        )
    )
    if role != ShopStaffRole.OWNER:
        raise Forbidden(
            _("only the shop's owner can do this"), code="not-shop-owner", shop_id=shop_id
        )
    return shop


async def find_shop_by_slug(session: AsyncSession, slug: str) -> Shop | None:
    return await session.scalar(select(Shop).where(Shop.slug == slug))


async def create_shop(session: AsyncSession, *, owner_id: int, data: ShopIn) -> Shop:
    """A new shop whose creator is its owner (a shop_staff row with role owner)."""
    await require_market(session, data.home_market)
    if await find_shop_by_slug(session, data.slug) is not None:
        raise Conflict(
            _("the shop address %(slug)s is taken", slug=repr(data.slug)), code="slug-taken"
        )
    shop = Shop(
        slug=data.slug,
        name=data.name,
        description=data.description,
        home_market=data.home_market,
        allow_creators=data.allow_creators,
        logo_url=data.logo_url,
        staff=[ShopStaff(user_id=owner_id, role=ShopStaffRole.OWNER)],
    )
    session.add(shop)
    try:
        await session.commit()
    except IntegrityError as exc:  # a concurrent request took the slug
        await session.rollback()
        raise Conflict(
            _("the shop address %(slug)s is taken", slug=repr(data.slug)), code="slug-taken"
        ) from exc
    return shop


async def update_shop(session: AsyncSession, shop: Shop, data: ShopUpdateIn) -> Shop:
    changes = data.model_dump(exclude_unset=True)
    if changes.get("home_market") is not None:
        await require_market(session, changes["home_market"])
    for field in ("name", "description", "home_market", "allow_creators"):
        if changes.get(field) is not None:
            setattr(shop, field, changes[field])
    if "logo_url" in changes:  # null removes the logo
        shop.logo_url = changes["logo_url"]
    await session.commit()
    return shop


async def list_shops(
    session: AsyncSession, *, market: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[Sequence[Shop], int]:
    """Shops ordered by id (stable pages), optionally only those based in one market."""
    query = select(Shop)
    if market is not None:
        query = query.where(Shop.home_market == (await require_market(session, market)).code)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Shop.id).limit(limit).offset(offset))
    return rows.all(), total


async def shops_of_user(session: AsyncSession, user_id: int) -> list[tuple[Shop, ShopStaffRole]]:
    rows = await session.execute(
        select(Shop, ShopStaff.role)
        .join(ShopStaff, ShopStaff.shop_id == Shop.id)
        .where(ShopStaff.user_id == user_id)
        .order_by(Shop.id)
    )
    return [(shop, ShopStaffRole(role)) for shop, role in rows.all()]


async def add_shop_staff(
    session: AsyncSession, shop: Shop, user_id: int, *, role: ShopStaffRole = ShopStaffRole.STAFF
) -> ShopStaff:
    """Only a user holding the seller role can work in a shop (422 otherwise)."""
    try:
        user = await accounts.get_user(session, user_id)
    except NotFound as exc:
        raise Unprocessable(
            _("user %(user_id)s does not exist", user_id=user_id),
            code="unknown-user",
            user_id=user_id,
        ) from exc
    if Role.SELLER not in user.role_names:
        raise Unprocessable(
            _("user %(user_id)s does not have the seller role", user_id=user_id),
            code="user-not-seller",
            user_id=user_id,
        )
    if await is_shop_staff(session, user_id, shop.id):
        raise Conflict(
            _("user %(user_id)s already works in this shop", user_id=user_id), code="already-staff"
        )
    member = ShopStaff(shop_id=shop.id, user_id=user_id, role=role)
    session.add(member)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(
            _("user %(user_id)s already works in this shop", user_id=user_id), code="already-staff"
        ) from exc
    return member
