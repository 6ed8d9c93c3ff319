"""Seller center: a shop's sales, orders (with their actions), catalog, stock and movements.

Every page and action takes ``SellerPrincipal`` and then checks the caller works in the shop
concerned (``catalog.service.ensure_shop_staff`` / ``orders.queries.staff_order``), exactly
as the API does; admins may open any shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request, Response
from pydantic import ValidationError

from liveshop.accounts import service as accounts
from liveshop.accounts.deps import SellerPrincipal, SessionDep
from liveshop.accounts.service import Principal
from liveshop.analytics import views as analytics_views
from liveshop.catalog.models import ProductStatus, Shop
from liveshop.catalog.search import ProductQuery, search_products
from liveshop.catalog.service import ensure_shop_staff, list_shops, shops_of_user, sku_shop_id
from liveshop.core.errors import NotFound
from liveshop.core.i18n import gettext
from liveshop.core.money import format_minor
from liveshop.core.types import FormCount, Id, Line, Text
from liveshop.creators import earnings
from liveshop.inventory import service as inventory
from liveshop.logistics.shipments import shipped_units, to_pack, unshipped
from liveshop.markets.service import display_price, get_market, list_markets
from liveshop.orders import lifecycle, queries, refunds, ship_to
from liveshop.orders.checkout import MAX_QUANTITY
from liveshop.orders.models import Order, OrderAddress
from liveshop.orders.schemas import OrderAddressOut, ShipIn
from liveshop.orders.status import REFUNDABLE, OrderStatus
from liveshop.web import earnings_view
from liveshop.web.charts import bar_chart
from liveshop.web.flash import redirect
from liveshop.web.pages_common import payment_provider
from liveshop.web.routing import page_router
from liveshop.web.sales import shop_sales
from liveshop.web.security import local_path
from liveshop.web.shipping_view import parcels_of, promise_of, returns_of
from liveshop.web.templating import render

router = page_router(prefix="/seller", tags=["pages"])

ShopParam = Annotated[Id | None, Query(alias="shop")]
Next = Annotated[Line, Form(max_length=300)]
ORDERS_PAGE = 25
CARRIERS = ("Royal Mail", "DPD", "Evri", "JNE", "J&T Express", "Viettel Post", "Other")


async def _pick_shop(
    session: SessionDep, principal: Principal, shop_id: Id | None
) -> tuple[Shop | None, list[Shop]]:
    """The shop to show (``?shop=`` or the first one) and every shop the caller may switch to."""
    shops = [s for s, _ in await shops_of_user(session, principal.user_id)]
    if not shops and principal.is_admin:
        shops = list((await list_shops(session, limit=100))[0])
    if shop_id is not None:
        shop = await ensure_shop_staff(session, principal, shop_id)
        if shop.id not in {s.id for s in shops}:
            shops.append(shop)
        return shop, shops
    return (shops[0] if shops else None), shops


@dataclass(frozen=True, slots=True)
class SellerTab:
    """A seller-center page about one shop: that shop and the shops the caller may switch to."""

    shop: Shop
    shops: list[Shop]

    def context(self, section: str, title: str, **more: Any) -> dict[str, Any]:
        """The page's context: its title, the shop switcher, the tab shown as current
        (``section``), and ``more``."""
        return {"title": title, "shop": self.shop, "shops": self.shops, "section": section, **more}


async def seller_tab(
    session: SessionDep, principal: Principal, shop_id: Id | None
) -> SellerTab | None:
    """The tab for ``shop_id`` (403 if not the caller's) or for the caller's first shop; None
    when the caller has no shop."""
    shop, shops = await _pick_shop(session, principal, shop_id)
    return None if shop is None else SellerTab(shop, shops)


async def _asked_tab(
    session: SessionDep, principal: SellerPrincipal, shop_id: ShopParam = None
) -> SellerTab | None:
    return await seller_tab(session, principal, shop_id)


ShopTab = Annotated[SellerTab | None, Depends(_asked_tab)]
"""A page's parameter: the tab of the shop in ``?shop=`` (or the caller's first shop; None
when they have none)."""


async def _names(session: SessionDep, user_ids: set[int]) -> dict[int, str]:
    out = {}
    for uid in user_ids:
        try:
            out[uid] = (await accounts.get_user(session, uid)).display_name
        except NotFound:
            out[uid] = f"User {uid}"
    return out


async def _no_shop(request: Request, session: SessionDep, principal: Principal) -> Response:
    return await render(
        request, session, principal, "seller/none.html", {"title": gettext("Seller center")}
    )


@router.get("")
async def dashboard(
    request: Request, session: SessionDep, principal: SellerPrincipal, shop_id: ShopParam = None
) -> Response:
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    sales = await shop_sales(session, shop.id)
    money_charts = [
        (
            s,
            bar_chart(
                sales.money_bars(s),
                title=f"Sales per day in {s.currency}, last {len(sales.days)} days",
                chart_id=f"sales-{s.currency.lower()}",
                fmt=partial(display_price, s.market),
                label_every=2,
            ),
        )
        for s in sales.by_currency
    ]
    to_ship: list[Order] = []
    for status in (OrderStatus.PAID, OrderStatus.FULFILLING):
        rows, _ = await queries.list_orders(session, shop_id=shop.id, status=status, limit=10)
        to_ship.extend(rows)
    to_ship.sort(key=lambda o: o.id)
    markets = {m.code: m for m in await list_markets(session)}
    context = {
        "title": gettext("Seller center · %(name)s", name=shop.name),
        "shop": shop,
        "shops": shops,
        "section": "overview",
        "sales": sales,
        "orders_chart": bar_chart(
            sales.order_bars(),
            title=f"Paid orders per day, last {len(sales.days)} days",
            chart_id="orders-per-day",
            label_every=2,
        ),
        "money_charts": money_charts,
        "to_ship": to_ship[:10],
        "all_markets": markets,
        "buyers": await _names(session, {o.buyer_id for o in to_ship}),
        "creator_names": await _names(session, {c.creator_id for c in sales.creators}),
        "carriers": CARRIERS,
    }
    return await render(request, session, principal, "seller/dashboard.html", context)


@router.get("/creator-costs")
async def creator_costs(
    request: Request, session: SessionDep, principal: SellerPrincipal, shop_id: ShopParam = None
) -> Response:
    """Per show that sold the shop's goods: creator fees and commission vs the GMV it made."""
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    rows = await earnings.shop_creator_costs(session, shop.id)
    context = {
        "title": gettext("Creator costs · %(name)s", name=shop.name),
        "shop": shop,
        "shops": shops,
        "section": "creator-costs",
        "rows": rows,
        "fmts": {
            c: await earnings_view.money_format(session, c) for c in {r.currency for r in rows}
        },
        "share": earnings_view.cost_share,
        "charts": await earnings_view.costs_chart(session, rows),
        "creator_names": await _names(session, {r.creator_id for r in rows}),
    }
    return await render(request, session, principal, "seller/creator_costs.html", context)


@router.get("/orders")
async def orders(
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    shop_id: ShopParam = None,
    status: OrderStatus | None = None,
    page: Annotated[FormCount, Query(ge=1, le=10_000)] = 1,
) -> Response:
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    rows, total = await queries.list_orders(
        session, shop_id=shop.id, status=status, limit=ORDERS_PAGE, offset=(page - 1) * ORDERS_PAGE
    )
    context = {
        "title": gettext("Orders · %(name)s", name=shop.name),
        "shop": shop,
        "shops": shops,
        "section": "orders",
        "orders": rows,
        "status": status,
        "statuses": list(OrderStatus),
        "all_markets": {m.code: m for m in await list_markets(session)},
        "buyers": await _names(session, {o.buyer_id for o in rows}),
        "page": page,
        "pages": max(1, -(-total // ORDERS_PAGE)),
        "total": total,
        "carriers": CARRIERS,
    }
    return await render(request, session, principal, "seller/orders.html", context)


@router.get("/orders/{order_id}")
async def order_detail(
    order_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    order = await queries.staff_order(session, principal, order_id)
    shop, shops = await _pick_shop(session, principal, order.shop_id)
    market = await get_market(session, order.market_code)
    context = {
        "title": gettext("Order #%(id)s", id=order.id),
        "shop": shop,
        "shops": shops,
        "section": "orders",
        "order": order,
        "events": await queries.order_events(session, order.id),
        "buyer": (await _names(session, {order.buyer_id}))[order.buyer_id],
        "refundable": OrderStatus(order.status) in REFUNDABLE,
        "carriers": CARRIERS,
        "ship_to": _ship_to_view(await ship_to.order_address(session, order.id)),
        "parcels": await parcels_of(session, order.id),
        "rv": await returns_of(session, order),
        "promise": await promise_of(session, order, market.timezone),
        "can_ship": bool(unshipped(order, await shipped_units(session, order.id))),
        "to_pack": await to_pack(session, order),
    }
    return await render(request, session, principal, "seller/order.html", context, market=market)


def _ship_to_view(row: OrderAddress | None) -> OrderAddressOut | None:
    return None if row is None else OrderAddressOut.of(row)


@router.get("/products")
async def products(
    request: Request, session: SessionDep, principal: SellerPrincipal, shop_id: ShopParam = None
) -> Response:
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    listing = await search_products(
        session, ProductQuery(statuses=tuple(ProductStatus), shop_id=shop.id, limit=100)
    )
    sku_ids = [sku.id for p in listing.items for sku in p.skus]
    stock = await inventory.stock_summaries(session, sku_ids)
    movements = []
    for sku_id in sku_ids:
        movements.extend(await inventory.list_movements(session, sku_id, limit=5))
    await session.commit()  # keeps the lazy release of expired holds
    movements.sort(key=lambda m: m.id, reverse=True)
    sku_names = {
        sku.id: (p.title, sku.code, sku.attributes) for p in listing.items for sku in p.skus
    }
    context = {
        "title": gettext("Products & stock · %(name)s", name=shop.name),
        "shop": shop,
        "shops": shops,
        "section": "products",
        "products": listing.items,
        "stock": stock,
        "movements": movements[:20],
        "sku_names": sku_names,
        "all_markets": {m.code: m for m in await list_markets(session)},
    }
    return await render(request, session, principal, "seller/products.html", context)


# -- actions ------------------------------------------------------------------------------
def _back(next_path: str, order_id: Id) -> str:
    return local_path(next_path, f"/seller/orders/{order_id}")


@router.post("/orders/{order_id}/fulfil")
async def fulfil(
    order_id: Id, session: SessionDep, principal: SellerPrincipal, next: Next = ""
) -> Response:
    await queries.staff_order(session, principal, order_id)
    await lifecycle.start_fulfilment(session, order_id, actor_id=principal.user_id)
    return redirect(
        _back(next, order_id),
        flash=("success", gettext("Order #%(order_id)s: packing.", order_id=order_id)),
    )


@router.post("/orders/{order_id}/ship")
async def ship(
    order_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    carrier: Annotated[Line, Form(max_length=60)],
    tracking_number: Annotated[Line, Form(max_length=80)],
    next: Next = "",
) -> Response:
    """Mark shipped with a tracking number (a paid order is moved to packing first)."""
    back = _back(next, order_id)
    try:
        data = ShipIn(carrier=carrier.strip(), tracking_number=tracking_number.strip())
    except ValidationError:
        return redirect(
            back, flash=("error", gettext("A tracking number has 3-80 letters, digits or dashes."))
        )
    order = await queries.staff_order(session, principal, order_id)
    if order.status == OrderStatus.PAID:
        await lifecycle.start_fulfilment(session, order_id, actor_id=principal.user_id)
    await lifecycle.ship(
        session,
        order_id,
        actor_id=principal.user_id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
    )
    return redirect(
        back,
        flash=(
            "success",
            gettext(
                "Order #%(order_id)s shipped with %(carrier)s %(tracking_number)s.",
                order_id=order_id,
                carrier=data.carrier,
                tracking_number=data.tracking_number,
            ),
        ),
    )


@router.post("/orders/{order_id}/deliver")
async def deliver(
    order_id: Id, session: SessionDep, principal: SellerPrincipal, next: Next = ""
) -> Response:
    await queries.staff_order(session, principal, order_id)
    await lifecycle.mark_delivered(session, order_id, actor_id=principal.user_id)
    return redirect(
        _back(next, order_id),
        flash=("success", gettext("Order #%(order_id)s delivered.", order_id=order_id)),
    )


@router.post("/orders/{order_id}/cancel")
async def cancel(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    reason: Annotated[Text, Form(max_length=300)] = "",
    next: Next = "",
) -> Response:
    """Before shipping; a paid order is refunded in full and its units go back on sale."""
    await queries.staff_order(session, principal, order_id)
    await lifecycle.cancel(
        session,
        payment_provider(request),
        order_id,
        actor_id=principal.user_id,
        reason=reason.strip() or "cancelled by the seller",
    )
    return redirect(
        _back(next, order_id),
        flash=("info", gettext("Order #%(order_id)s cancelled.", order_id=order_id)),
    )


@router.post("/orders/{order_id}/refund")
async def refund(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    line_id: Annotated[Id, Form()],
    quantity: Annotated[FormCount, Form(ge=1, le=MAX_QUANTITY)],
    reason: Annotated[Text, Form(max_length=300)] = "",
    next: Next = "",
) -> Response:
    """Refund some units of one line, exact to the minor unit (the ledger posts the reversal)."""
    await queries.staff_order(session, principal, order_id)
    await refunds.refund(
        session,
        payment_provider(request),
        order_id,
        [refunds.RefundLine(line_id, quantity)],
        actor_id=principal.user_id,
        reason=reason.strip() or "refunded by the seller",
    )
    return redirect(
        _back(next, order_id),
        flash=("success", gettext("Refunded %(quantity)s unit(s).", quantity=quantity)),
    )


@router.post("/skus/{sku_id}/receive")
async def receive_stock(
    sku_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    quantity: Annotated[FormCount, Form(ge=1, le=inventory.MAX_RECEIVE)],
    reason: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    shop_id = await sku_shop_id(session, sku_id)
    await ensure_shop_staff(session, principal, shop_id)
    summary = await inventory.receive(
        session,
        sku_id=sku_id,
        quantity=quantity,
        reason=reason.strip() or "received in the seller center",
        actor_id=principal.user_id,
    )
    await session.commit()
    return redirect(
        f"/seller/products?shop={shop_id}#sku-{sku_id}",
        flash=(
            "success",
            gettext(
                "Received %(quantity)s units; %(available)s available now.",
                quantity=quantity,
                available=summary.available,
            ),
        ),
    )


@router.get("/analytics")
async def shop_analytics(
    request: Request, session: SessionDep, principal: SellerPrincipal, shop_id: ShopParam = None
) -> Response:
    """Which creators and shows sell the shop's products, and at what cost (the creators'
    commission), last 90 days; CSV at ``/api/v1/analytics/shops/{id}/sellers.csv``."""
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    rows = await analytics_views.shop_sellers(session, shop.id)
    context = {
        "title": gettext("Who sells · %(name)s", name=shop.name),
        "section": "analytics",
        "shop": shop,
        "shops": shops,
        "rows": rows,
        "fmt": lambda amount, currency: format_minor(amount, currency, "en_GB"),
    }
    return await render(request, session, principal, "seller/analytics.html", context)
