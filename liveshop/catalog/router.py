"""Catalog API: shops (public read, sellers manage their own) and products, SKUs, prices.

Seller endpoints take ``SellerPrincipal`` (buyers/creators: 403 wrong-role, anonymous: 401)
and then check the caller is staff of the shop concerned (403 not-shop-staff).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.deps import CurrentPrincipal, MaybePrincipal, SellerPrincipal, SessionDep
from liveshop.catalog import images, products, service
from liveshop.catalog.media_store import media_store
from liveshop.catalog.models import Category, Product, ProductStatus
from liveshop.catalog.schemas import (
    MyShopOut,
    PriceOut,
    PriceSetIn,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductUpdateIn,
    ShopIn,
    ShopOut,
    ShopPage,
    ShopUpdateIn,
    SkuIn,
    SkuOut,
    SkuUpdateIn,
    StaffIn,
    StaffOut,
)
from liveshop.catalog.search import ProductQuery, price_range_of, search_products
from liveshop.core import types as core_types
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.i18n import gettext
from liveshop.core.settings import Settings
from liveshop.core.types import Id, Line
from liveshop.markets.models import Market
from liveshop.markets.service import list_markets, require_market

router = APIRouter(prefix="/api/v1", tags=["catalog"], responses=PROBLEM_RESPONSES)

MarketQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z]{2}$", description="Market code, e.g. GB")
]
MarketPath = Annotated[str, Path(pattern=r"^[A-Za-z]{2}$")]
Limit = Annotated[core_types.Limit, Query(le=100)]
Offset = Annotated[core_types.Offset, Query()]
TextQuery = Annotated[Line | None, Query(max_length=100, description="Words in title/description")]


async def _markets(session: AsyncSession) -> dict[str, Market]:
    return {m.code: m for m in await list_markets(session)}


async def _product_out(session: AsyncSession, product: Product) -> ProductOut:
    """A product as its shop's staff see it (every write endpoint answers with this)."""
    return ProductOut.of(product, await _markets(session), staff_view=True)


# --- shops ---------------------------------------------------------------------------------


@router.post("/shops", status_code=status.HTTP_201_CREATED)
async def create_shop(body: ShopIn, principal: SellerPrincipal, session: SessionDep) -> ShopOut:
    """The caller becomes the shop's owner."""
    shop = await service.create_shop(session, owner_id=principal.user_id, data=body)
    return ShopOut.model_validate(shop)


@router.get("/shops")
async def list_shops(
    session: SessionDep,
    _: MaybePrincipal,
    market: MarketQuery = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ShopPage:
    shops, total = await service.list_shops(session, market=market, limit=limit, offset=offset)
    return ShopPage(
        items=[ShopOut.model_validate(s) for s in shops], total=total, limit=limit, offset=offset
    )


@router.get("/me/shops")
async def my_shops(principal: CurrentPrincipal, session: SessionDep) -> list[MyShopOut]:
    """The shops the caller works in, with their role there (empty for non-sellers)."""
    return [
        MyShopOut.model_validate({**ShopOut.model_validate(s).model_dump(), "my_role": role})
        for s, role in await service.shops_of_user(session, principal.user_id)
    ]


@router.get("/shops/{shop_id}")
async def get_shop(shop_id: Id, session: SessionDep, _: MaybePrincipal) -> ShopOut:
    return ShopOut.model_validate(await service.get_shop(session, shop_id))


@router.patch("/shops/{shop_id}")
async def update_shop(
    shop_id: Id, body: ShopUpdateIn, principal: SellerPrincipal, session: SessionDep
) -> ShopOut:
    shop = await service.ensure_shop_staff(session, principal, shop_id)
    return ShopOut.model_validate(await service.update_shop(session, shop, body))


@router.post("/shops/{shop_id}/staff", status_code=status.HTTP_201_CREATED)
async def add_staff(
    shop_id: Id, body: StaffIn, principal: SellerPrincipal, session: SessionDep
) -> StaffOut:
    """The owner adds another seller account to the shop (422 if it lacks the seller role)."""
    shop = await service.ensure_shop_owner(session, principal, shop_id)
    member = await service.add_shop_staff(session, shop, body.user_id, role=body.role)
    return StaffOut.model_validate(member)


@router.get("/shops/{shop_id}/products")
async def shop_products(
    shop_id: Id,
    principal: SellerPrincipal,
    session: SessionDep,
    status_: Annotated[ProductStatus | None, Query(alias="status")] = None,
    q: TextQuery = None,
    category: Category | None = None,
    market: MarketQuery = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ProductPage:
    """The shop's whole catalog for its staff, drafts and archived products included."""
    await service.ensure_shop_staff(session, principal, shop_id)
    query = ProductQuery(
        statuses=(status_,) if status_ else tuple(ProductStatus),
        shop_id=shop_id,
        market=market,
        q=q,
        category=category,
        limit=limit,
        offset=offset,
    )
    return await _page(session, query, staff_view=True)


@router.post("/shops/{shop_id}/products", status_code=status.HTTP_201_CREATED)
async def create_product(
    shop_id: Id, body: ProductIn, principal: SellerPrincipal, session: SessionDep
) -> ProductOut:
    shop = await service.ensure_shop_staff(session, principal, shop_id)
    return await _product_out(session, await products.create_product(session, shop, body))


# --- products ------------------------------------------------------------------------------


async def _page(session: AsyncSession, query: ProductQuery, *, staff_view: bool) -> ProductPage:
    listing = await search_products(session, query)
    markets = await _markets(session)
    return ProductPage(
        items=[
            ProductOut.of(p, markets, staff_view=staff_view, price_range=listing.ranges.get(p.id))
            for p in listing.items
        ],
        total=listing.total,
        limit=query.limit,
        offset=query.offset,
    )


@router.get("/products")
async def list_products(
    session: SessionDep,
    _: MaybePrincipal,
    shop_id: Id | None = None,
    market: MarketQuery = None,
    q: TextQuery = None,
    category: Category | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ProductPage:
    """Published products. With ``market``: only those buyable there, with their price range."""
    query = ProductQuery(
        shop_id=shop_id, market=market, q=q, category=category, limit=limit, offset=offset
    )
    return await _page(session, query, staff_view=False)


@router.get("/products/{product_id}")
async def get_product(
    product_id: Id, session: SessionDep, principal: MaybePrincipal, market: MarketQuery = None
) -> ProductOut:
    """Published: everyone. Draft/archived: the shop's staff and admins only (404 otherwise)."""
    product, staff = await products.visible_product(session, principal, product_id)
    price_range = None
    if market is not None:
        price_range = price_range_of(product, await require_market(session, market))
    markets = await _markets(session)
    return ProductOut.of(product, markets, staff_view=staff, price_range=price_range)


@router.patch("/products/{product_id}")
async def update_product(
    product_id: Id, body: ProductUpdateIn, principal: SellerPrincipal, session: SessionDep
) -> ProductOut:
    product = await products.product_for_staff(session, principal, product_id)
    return await _product_out(session, await products.update_product(session, product, body))


@router.post("/products/{product_id}/publish")
async def publish_product(
    product_id: Id, principal: SellerPrincipal, session: SessionDep
) -> ProductOut:
    product = await products.product_for_staff(session, principal, product_id)
    return await _product_out(session, await products.publish_product(session, product))


@router.post("/products/{product_id}/unpublish")
async def unpublish_product(
    product_id: Id, principal: SellerPrincipal, session: SessionDep
) -> ProductOut:
    """Back to draft: off sale and out of listings (and showcases' pickers), still editable."""
    product = await products.product_for_staff(session, principal, product_id)
    return await _product_out(session, await products.unpublish_product(session, product))


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the upload: enough to refuse a larger one."""
    return await upload.read(max_bytes + 1)


@router.post("/products/{product_id}/images", status_code=status.HTTP_201_CREATED)
async def upload_image(
    product_id: Id,
    file: UploadFile,
    request: Request,
    principal: SellerPrincipal,
    session: SessionDep,
) -> ProductOut:
    """Multipart ``file``: a JPEG, PNG or WebP (checked from its bytes), resized to at most
    1600 px with a 400 px thumbnail, appended to the product's images (413 if too large)."""
    await products.product_for_staff(session, principal, product_id)
    settings: Settings = request.app.state.settings
    data = await read_upload(file, settings.media_max_image_bytes)
    product = await images.add_image(
        session,
        product_id,
        data,
        store=media_store(settings),
        max_bytes=settings.media_max_image_bytes,
    )
    return await _product_out(session, product)


@router.delete("/products/{product_id}/images/{index}")
async def delete_image(
    product_id: Id,
    index: Annotated[int, Path(ge=0, lt=images.MAX_IMAGES)],
    request: Request,
    principal: SellerPrincipal,
    session: SessionDep,
) -> ProductOut:
    """Remove the product's ``index``-th image (0-based); an uploaded one's files go too."""
    product = await products.product_for_staff(session, principal, product_id)
    if index >= len(product.images or []):
        raise NotFound(gettext("the product has no such image"), code="image-not-found")
    settings: Settings = request.app.state.settings
    product = await images.remove_image(
        session, product_id, product.images[index], store=media_store(settings)
    )
    return await _product_out(session, product)


@router.post("/products/{product_id}/archive")
async def archive_product(
    product_id: Id, principal: SellerPrincipal, session: SessionDep
) -> ProductOut:
    product = await products.product_for_staff(session, principal, product_id)
    return await _product_out(session, await products.archive_product(session, product))


# --- SKUs and prices -----------------------------------------------------------------------


@router.post("/products/{product_id}/skus", status_code=status.HTTP_201_CREATED)
async def add_sku(
    product_id: Id, body: SkuIn, principal: SellerPrincipal, session: SessionDep
) -> SkuOut:
    product = await products.product_for_staff(session, principal, product_id)
    sku = await products.add_sku(session, product, body)
    return SkuOut.of(sku, await _markets(session))


@router.patch("/skus/{sku_id}")
async def update_sku(
    sku_id: Id, body: SkuUpdateIn, principal: SellerPrincipal, session: SessionDep
) -> SkuOut:
    sku = await products.sku_for_staff(session, principal, sku_id)
    sku = await products.update_sku(session, sku, body)
    return SkuOut.of(sku, await _markets(session))


@router.put("/skus/{sku_id}/prices/{market}")
async def set_price(
    sku_id: Id,
    market: MarketPath,
    body: PriceSetIn,
    principal: SellerPrincipal,
    session: SessionDep,
) -> PriceOut:
    """Create or replace the price in one market; planned markets allowed (catalog prep)."""
    sku = await products.sku_for_staff(session, principal, sku_id)
    price = await products.set_sku_price(session, sku, market, body)
    return PriceOut.of(price, await _markets(session))


@router.delete("/skus/{sku_id}/prices/{market}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_price(
    sku_id: Id, market: MarketPath, principal: SellerPrincipal, session: SessionDep
) -> Response:
    sku = await products.sku_for_staff(session, principal, sku_id)
    await products.remove_sku_price(session, sku, market)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
