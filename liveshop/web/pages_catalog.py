"""Seller catalog editor: create and edit products, their variants (SKUs with options), prices
per market, images, publish/unpublish, and stock per warehouse with its movement history.

Every action goes through the same catalog and inventory services as the API
(``catalog.products``, ``catalog.images``, ``inventory.service``), after the same check that
the caller works in the product's shop (``product_for_staff`` / ``sku_for_staff``: another
shop's seller gets a 403 page, an unknown product a 404). A refused form comes back to the
editor with the reason shown (``web.routing``).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Form, Request, Response, UploadFile
from pydantic import Field, ValidationError
from sqlalchemy import select

from liveshop.accounts.deps import SellerPrincipal, SessionDep
from liveshop.catalog import images, products
from liveshop.catalog.media_store import media_store
from liveshop.catalog.models import TITLE_MAX, Category, Product, Sku
from liveshop.catalog.router import read_upload
from liveshop.catalog.schemas import PriceSetIn, ProductIn, ProductUpdateIn, SkuIn, SkuUpdateIn
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import Settings
from liveshop.core.types import FormCount, Id, Line, Text
from liveshop.inventory import service as inventory
from liveshop.markets.models import Market
from liveshop.markets.service import list_markets
from liveshop.web.flash import redirect
from liveshop.web.money_input import example_amount, parse_money
from liveshop.web.pages_seller import ShopTab, _pick_shop
from liveshop.web.routing import page_router
from liveshop.web.templating import render, shop_markets

router = page_router(prefix="/seller", tags=["pages"])

MAX_DELTA = inventory.MAX_RECEIVE
Options = Annotated[Text, Form(max_length=2000)]
MarketCodes = Annotated[list[Annotated[Line, Field(max_length=2)]], Form(max_length=20)]
Amounts = Annotated[list[Annotated[Line, Field(max_length=30)]], Form(max_length=20)]
MovementRow = tuple[str, str, inventory.StockMovement]  # (SKU code, warehouse, movement)
OPTION_LINE = re.compile(r"^\s*([^:=]+?)\s*[:=]\s*(.+?)\s*$")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
    return f"{where or 'form'}: {err.get('msg', 'not valid')}"


def parse_options(text: str) -> dict[str, str]:
    """``size: M`` / ``colour = Black`` lines (or comma-separated) → SKU attributes.

    Keys are lower-cased with spaces as underscores ("Pack size" → ``pack_size``)."""
    out: dict[str, str] = {}
    for part in re.split(r"[\n,;]", text):
        if not part.strip():
            continue
        m = OPTION_LINE.match(part)
        if m is None:
            raise Unprocessable(
                _(
                    "%(strip)s: write each option as name: value (e.g. size: M)",
                    strip=repr(part.strip()[:40]),
                ),
                code="bad-options",
            )
        key = re.sub(r"\s+", "_", m.group(1).strip().lower())
        out[key] = m.group(2)
    return out


def options_text(sku: Sku) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (sku.attributes or {}).items())


def _prices(
    markets: dict[str, Market], codes: list[str], amounts: list[str]
) -> dict[str, int | None]:
    """{market: minor units, or None for a blank field (not offered there)}."""
    if len(codes) != len(amounts):
        raise Unprocessable(_("the price fields do not match their markets"), code="bad-prices")
    out: dict[str, int | None] = {}
    for code, text in zip(codes, amounts, strict=True):
        market = markets.get(code.upper())
        if market is None:
            raise Unprocessable(
                _("unknown market %(code)s", code=repr(code)), code="unknown-market"
            )
        out[market.code] = (
            parse_money(text, market.currency_exponent, market.locale) if text.strip() else None
        )
    return out


def money_plain(amount_minor: int, market: Market) -> str:
    """A price as the seller types it back ("12.99", "95.000,00")."""
    return example_amount(amount_minor, *_fmt(market))


def _fmt(market: Market) -> tuple[int, str]:
    return market.currency_exponent, market.locale


def _editor(product_id: int, anchor: str = "") -> str:
    return f"/seller/products/{product_id}" + (f"#{anchor}" if anchor else "")


@router.get("/products/new")
async def new_product(
    request: Request, session: SessionDep, principal: SellerPrincipal, tab: ShopTab
) -> Response:
    if tab is None:
        return redirect("/seller")
    context = tab.context(
        "products",
        _("New product · %(name)s", name=tab.shop.name),
        categories=list(Category),
        title_max=TITLE_MAX,
    )
    return await render(request, session, principal, "seller/product_new.html", context)


@router.post("/products")
async def create_product(
    session: SessionDep,
    principal: SellerPrincipal,
    shop_id: Annotated[Id, Form()],
    title: Annotated[Line, Form(min_length=1, max_length=TITLE_MAX)],
    category: Annotated[Category, Form()],
    description: Annotated[Text, Form(max_length=10_000)] = "",
) -> Response:
    """A draft with no SKUs yet: the editor adds variants and prices, then publishes."""
    shop = await ensure_shop_staff(session, principal, shop_id)
    try:
        data = ProductIn(title=title, category=category, description=description)
    except ValidationError as exc:
        raise Unprocessable(_first_error(exc), code="validation-error") from exc
    product = await products.create_product(session, shop, data)
    return redirect(
        _editor(product.id, "variants"),
        flash=(
            "success",
            _("Created %(title)s as a draft. Add its variants and prices.", title=product.title),
        ),
    )


async def _movements(session: SessionDep, product: Product) -> list[MovementRow]:
    """(SKU code, warehouse name, movement), newest first, for the product's SKUs."""
    sku_ids = [s.id for s in product.skus]
    if not sku_ids:
        return []
    levels = {
        lvl_id: name
        for lvl_id, name in (
            await session.execute(
                select(inventory.StockLevel.id, inventory.Warehouse.name)
                .join(
                    inventory.Warehouse, inventory.Warehouse.id == inventory.StockLevel.warehouse_id
                )
                .where(inventory.StockLevel.sku_id.in_(sku_ids))
            )
        ).all()
    }
    codes = {s.id: s.code for s in product.skus}
    rows: list[MovementRow] = []
    for sku_id in sku_ids:
        for m in await inventory.list_movements(session, sku_id, limit=20):
            rows.append((codes[sku_id], levels.get(m.stock_level_id, "?"), m))
    rows.sort(key=lambda r: r[2].id, reverse=True)
    return rows[:30]


@router.get("/products/{product_id}")
async def edit_product(
    product_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    product = await products.product_for_staff(session, principal, product_id)
    shop, shops = await _pick_shop(session, principal, product.shop_id)
    assert shop is not None
    all_markets = {m.code: m for m in await list_markets(session)}
    selling = await shop_markets(session)
    stock = {s.id: await inventory.stock_detail(session, s.id) for s in product.skus}
    movements = await _movements(session, product)
    warehouses = await inventory.list_warehouses(session, shop.id)
    await session.commit()  # keeps the lazy release of expired holds
    context = {
        "title": _("%(product)s · %(shop)s", product=product.title, shop=shop.name),
        "shop": shop,
        "shops": shops,
        "section": "products",
        "product": product,
        "categories": list(Category),
        "title_max": TITLE_MAX,
        "all_markets": all_markets,
        "price_markets": selling
        + [m for m in all_markets.values() if m.code not in {s.code for s in selling}],
        "examples": {
            m.code: example_amount(1299 * 10**m.currency_exponent // 100, *_fmt(m))
            for m in all_markets.values()
        },
        "stock": stock,
        "movements": movements,
        "warehouses": warehouses,
        "thumb": images.thumbnail_url,
        "max_images": images.MAX_IMAGES,
        "max_image_mb": request.app.state.settings.media_max_image_bytes // (1024 * 1024),
        "options_text": options_text,
        "money_plain": money_plain,
    }
    return await render(request, session, principal, "seller/product_edit.html", context)


@router.post("/products/{product_id}/details")
async def save_details(
    product_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    title: Annotated[Line, Form(min_length=1, max_length=TITLE_MAX)],
    category: Annotated[Category, Form()],
    description: Annotated[Text, Form(max_length=10_000)] = "",
) -> Response:
    product = await products.product_for_staff(session, principal, product_id)
    try:
        data = ProductUpdateIn(title=title, category=category, description=description)
    except ValidationError as exc:
        raise Unprocessable(_first_error(exc), code="validation-error") from exc
    await products.update_product(session, product, data)
    return redirect(_editor(product_id), flash=("success", _("Saved.")))


@router.post("/products/{product_id}/publish")
async def publish(product_id: Id, session: SessionDep, principal: SellerPrincipal) -> Response:
    product = await products.product_for_staff(session, principal, product_id)
    await products.publish_product(session, product)
    return redirect(
        _editor(product_id),
        flash=("success", _("%(title)s is on sale where it has a price.", title=product.title)),
    )


@router.post("/products/{product_id}/unpublish")
async def unpublish(product_id: Id, session: SessionDep, principal: SellerPrincipal) -> Response:
    product = await products.product_for_staff(session, principal, product_id)
    await products.unpublish_product(session, product)
    return redirect(
        _editor(product_id), flash=("info", _("%(title)s is a draft again.", title=product.title))
    )


@router.post("/products/{product_id}/archive")
async def archive(product_id: Id, session: SessionDep, principal: SellerPrincipal) -> Response:
    product = await products.product_for_staff(session, principal, product_id)
    await products.archive_product(session, product)
    return redirect(
        _editor(product_id), flash=("info", _("%(title)s is archived.", title=product.title))
    )


@router.post("/products/{product_id}/images")
async def upload_image(
    product_id: Id,
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    file: UploadFile,
) -> Response:
    await products.product_for_staff(session, principal, product_id)
    settings: Settings = request.app.state.settings
    data = await read_upload(file, settings.media_max_image_bytes)
    await images.add_image(
        session,
        product_id,
        data,
        store=media_store(settings),
        max_bytes=settings.media_max_image_bytes,
    )
    return redirect(_editor(product_id, "images"), flash=("success", _("Image added.")))


@router.post("/products/{product_id}/images/remove")
async def remove_image(
    product_id: Id,
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    url: Annotated[Line, Form(max_length=500)],
) -> Response:
    await products.product_for_staff(session, principal, product_id)
    settings: Settings = request.app.state.settings
    await images.remove_image(session, product_id, url, store=media_store(settings))
    return redirect(_editor(product_id, "images"), flash=("info", _("Image removed.")))


@router.post("/products/{product_id}/skus")
async def add_sku(
    product_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    code: Annotated[Line, Form(min_length=1, max_length=64)],
    options: Options = "",
    price_market: MarketCodes = [],  # noqa: B006
    price_amount: Amounts = [],  # noqa: B006
) -> Response:
    """A variant with its options and its price in each market whose field is filled."""
    product = await products.product_for_staff(session, principal, product_id)
    markets = {m.code: m for m in await list_markets(session)}
    prices = _prices(markets, price_market, price_amount)
    try:
        data = SkuIn(
            code=code,
            attributes=parse_options(options),
            prices=[
                {"market": c, "currency": markets[c].currency, "amount_minor": a}
                for c, a in prices.items()
                if a is not None
            ],
        )
    except ValidationError as exc:
        raise Unprocessable(_first_error(exc), code="validation-error") from exc
    sku = await products.add_sku(session, product, data)
    return redirect(
        _editor(product_id, f"sku-{sku.id}"),
        flash=("success", _("Added variant %(code)s.", code=sku.code)),
    )


async def _sku(session: SessionDep, principal: SellerPrincipal, sku_id: int) -> Sku:
    return await products.sku_for_staff(session, principal, sku_id)


@router.post("/skus/{sku_id}/edit")
async def edit_sku(
    sku_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    options: Options = "",
    active: Annotated[bool, Form()] = False,
) -> Response:
    sku = await _sku(session, principal, sku_id)
    try:
        data = SkuUpdateIn(attributes=parse_options(options), is_active=active)
    except ValidationError as exc:
        raise Unprocessable(_first_error(exc), code="validation-error") from exc
    await products.update_sku(session, sku, data)
    back = _editor(sku.product_id, f"sku-{sku_id}")
    return redirect(back, flash=("success", _("Saved %(code)s.", code=sku.code)))


@router.post("/skus/{sku_id}/prices")
async def save_prices(
    sku_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    price_market: MarketCodes = [],  # noqa: B006
    price_amount: Amounts = [],  # noqa: B006
) -> Response:
    """Each filled field sets that market's price; a cleared one takes the SKU off sale there."""
    sku = await _sku(session, principal, sku_id)
    markets = {m.code: m for m in await list_markets(session)}
    prices = _prices(markets, price_market, price_amount)
    had = {p.market_code for p in sku.prices}
    for code, amount in prices.items():
        if amount is None:
            if code in had:
                await products.remove_sku_price(session, sku, code)
            continue
        data = PriceSetIn(currency=markets[code].currency, amount_minor=amount)
        await products.set_sku_price(session, sku, code, data)
    return redirect(
        _editor(sku.product_id, f"sku-{sku_id}"),
        flash=("success", _("Prices of %(code)s saved.", code=sku.code)),
    )


@router.post("/skus/{sku_id}/stock")
async def change_stock(
    sku_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    warehouse_id: Annotated[Id, Form()],
    action: Annotated[Line, Form(pattern=r"^(receive|remove)$")],
    quantity: Annotated[FormCount, Form(ge=1, le=MAX_DELTA)],
    reason: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """Receive units into a warehouse, or take some out (damaged, lost, counted short)."""
    sku = await _sku(session, principal, sku_id)
    if action == "receive":
        summary = await inventory.receive(
            session,
            sku_id=sku_id,
            quantity=quantity,
            reason=reason.strip() or "received in the catalog editor",
            actor_id=principal.user_id,
            warehouse_id=warehouse_id,
        )
        message = _(
            "Received %(quantity)s of %(code)s; %(available)s available now.",
            quantity=quantity,
            code=sku.code,
            available=summary.available,
        )
    else:
        summary = await inventory.adjust(
            session,
            sku_id=sku_id,
            delta=-quantity,
            reason=reason.strip() or "removed in the catalog editor",
            actor_id=principal.user_id,
            warehouse_id=warehouse_id,
        )
        message = _(
            "Took %(quantity)s of %(code)s out; %(available)s available now.",
            quantity=quantity,
            code=sku.code,
            available=summary.available,
        )
    await session.commit()
    return redirect(_editor(sku.product_id, f"stock-{sku_id}"), flash=("success", message))


@router.post("/warehouses")
async def add_warehouse(
    session: SessionDep,
    principal: SellerPrincipal,
    shop_id: Annotated[Id, Form()],
    name: Annotated[Line, Form(min_length=1, max_length=120)],
    product_id: Annotated[Id, Form()],
) -> Response:
    await ensure_shop_staff(session, principal, shop_id)
    await products.product_for_staff(session, principal, product_id)
    warehouse = await inventory.create_warehouse(session, shop_id, name=name.strip())
    await session.commit()
    return redirect(
        _editor(product_id, "stock"),
        flash=("success", _("Added warehouse %(name)s.", name=warehouse.name)),
    )
