"""The buyer's side: cart, checkout, buy-now, paying (sandbox), orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form, Query, Request, Response
from pydantic import ValidationError

from liveshop.accounts.deps import BuyerPrincipal, CurrentPrincipal, SessionDep, per_user
from liveshop.addresses import service as addresses
from liveshop.addresses.schemas import AddressOut
from liveshop.catalog.service import SkuOffer, get_shop, get_sku_offer
from liveshop.core.errors import Forbidden, NotFound, Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import Bucket
from liveshop.core.types import MAX_AMOUNT_MINOR, FormCount, Id, Line, Text
from liveshop.markets.service import get_market
from liveshop.orders import cart as carts
from liveshop.orders import (
    completion,
    lifecycle,
    payment_flow,
    queries,
    recoupon,
    saved_cards,
    ship_to,
)
from liveshop.orders.checkout import MAX_QUANTITY, find_by_idempotency_key, place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.payment_method import required_payment_source
from liveshop.orders.quote import Quote, quote_order
from liveshop.orders.schemas import OrderAddressOut, PayIn
from liveshop.orders.status import OrderStatus
from liveshop.promotions import coupons
from liveshop.web.flash import redirect
from liveshop.web.pages_common import new_idempotency_key, payment_provider
from liveshop.web.routing import page_router
from liveshop.web.shipping_view import parcels_of, promise_of, returns_of
from liveshop.web.templating import current_market, render

router = page_router(tags=["pages"])

SANDBOX_CARD = "4242 4242 4242 4242"
Market2 = Annotated[Line, Form(min_length=2, max_length=2)]
Key = Annotated[Line, Form(min_length=8, max_length=100)]
Quantity = Annotated[FormCount, Form(ge=1, le=MAX_QUANTITY)]
CouponCode = Annotated[Line, Form(max_length=40)]
COUPON_REFUSALS = ("unknown-coupon", "coupon-used-up")
ORDERS_PAGE = 20

# The happy path an order walks, for the timeline on the order page.
JOURNEY = (
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.PAID,
    OrderStatus.FULFILLING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)


@dataclass
class CartLineView:
    sku_id: Id
    quantity: int
    offer: SkuOffer | None

    @property
    def line_minor(self) -> int | None:
        return None if self.offer is None else self.offer.price_minor * self.quantity


@dataclass
class ShopGroup:
    shop_id: Id
    shop_name: str
    lines: list[CartLineView] = field(default_factory=list)
    quote: Quote | None = None  # what checking out this shop's lines charges now
    coupon_code: str = ""  # applied (the quote has it)
    coupon_error: str = ""  # why the typed code does not apply

    @property
    def total_minor(self) -> int:
        return sum(ln.line_minor or 0 for ln in self.lines)


# -- cart ---------------------------------------------------------------------------------
async def _quote_group(
    session: SessionDep, buyer_id: int, market_code: str, group: ShopGroup, code: str
) -> None:
    """The group's price as its checkout would charge it (coupon ``code`` if it applies)."""
    lines = [CheckoutLine(sku_id=ln.sku_id, quantity=ln.quantity) for ln in group.lines]
    if code:
        try:
            group.quote = await quote_order(
                session, buyer_id=buyer_id, market_code=market_code, lines=lines, coupon_code=code
            )
            group.coupon_code = code
            return
        except Problem as exc:
            if exc.code not in COUPON_REFUSALS:
                raise
            group.coupon_error = exc.detail
    try:
        group.quote = await quote_order(
            session, buyer_id=buyer_id, market_code=market_code, lines=lines
        )
    except Problem:
        group.quote = None  # the checkout will say why


@router.get("/cart")
async def cart_page(
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    coupon_shop: Annotated[Id | None, Query()] = None,
    coupon: Annotated[Line | None, Query(max_length=40)] = None,
) -> Response:
    """The cart per shop, each priced as its checkout would be; ``coupon`` (for the shop
    ``coupon_shop``) is applied to that shop's lines when it can be."""
    market = await current_market(request, session)
    cart = await carts.get_cart(session, principal.user_id, market.code)
    groups: dict[int, ShopGroup] = {}
    unavailable: list[CartLineView] = []
    for line in cart.lines:
        try:
            offer = await get_sku_offer(session, line.sku_id, market.code)
        except Problem:
            unavailable.append(CartLineView(line.sku_id, line.quantity, None))
            continue
        if offer.shop_id not in groups:
            shop = await get_shop(session, offer.shop_id)
            groups[offer.shop_id] = ShopGroup(offer.shop_id, shop.name)
        groups[offer.shop_id].lines.append(CartLineView(line.sku_id, line.quantity, offer))
    typed = (coupon or "").strip().upper()
    for group in groups.values():
        code = typed if group.shop_id == coupon_shop else ""
        await _quote_group(session, principal.user_id, market.code, group, code)
    context = {
        "title": _("Your cart"),
        "groups": list(groups.values()),
        "unavailable": unavailable,
        "keys": {sid: new_idempotency_key() for sid in groups},
    }
    return await render(request, session, principal, "cart.html", context, market=market)


@router.post("/cart/add")
async def cart_add(
    session: SessionDep,
    principal: BuyerPrincipal,
    sku_id: Annotated[Id, Form()],
    market: Market2,
    quantity: Quantity = 1,
) -> Response:
    cart = await carts.get_cart(session, principal.user_id, market)
    existing = next((ln.quantity for ln in cart.lines if ln.sku_id == sku_id), 0)
    await carts.set_line(
        session, principal.user_id, market, sku_id, min(existing + quantity, MAX_QUANTITY)
    )
    return redirect(f"/cart?market={market.upper()}", flash=("success", _("Added to your cart.")))


@router.post("/cart/lines/{sku_id}")
async def cart_set(
    sku_id: Id,
    session: SessionDep,
    principal: BuyerPrincipal,
    market: Market2,
    quantity: Annotated[FormCount, Form(ge=0, le=MAX_QUANTITY)],
) -> Response:
    await carts.set_line(session, principal.user_id, market, sku_id, quantity)
    text = _("Removed from your cart.") if quantity == 0 else _("Cart updated.")
    return redirect(f"/cart?market={market.upper()}", flash=("info", text))


# -- checkout -----------------------------------------------------------------------------
@router.post("/checkout", dependencies=[Depends(per_user(Bucket.CHECKOUT))])
async def checkout(
    session: SessionDep,
    principal: BuyerPrincipal,
    market: Market2,
    shop_id: Annotated[Id, Form()],
    idempotency_key: Key,
    coupon_code: CouponCode = "",
    expected_total_minor: Annotated[int | None, Form(ge=0, lt=MAX_AMOUNT_MINOR)] = None,
) -> Response:
    """One shop's lines of the cart become an order; the key makes a double submit harmless.
    ``coupon_code`` and ``expected_total_minor`` are what the cart showed: any other total is
    refused (back to the cart with the reason, nothing held)."""
    cart = await carts.get_cart(session, principal.user_id, market)
    lines = []
    for ln in cart.lines:
        offer = await get_sku_offer(session, ln.sku_id, cart.market_code)
        if offer.shop_id == shop_id:
            lines.append(CheckoutLine(sku_id=ln.sku_id, quantity=ln.quantity))
    if not lines:
        existing = await _replayed(session, principal.user_id, idempotency_key)
        if existing is not None:
            return redirect(f"/orders/{existing}/pay")
        return redirect(
            "/cart", flash=("error", _("There is nothing from this shop in your cart."))
        )
    placed = await place_order(
        session,
        buyer_id=principal.user_id,
        market_code=market,
        lines=lines,
        idempotency_key=idempotency_key,
        ship_to=await addresses.default_address_snapshot(session, principal.user_id, market),
        coupon_code=coupon_code.strip() or None,
        expected_total_minor=expected_total_minor,
    )
    if not placed.replayed:
        await carts.clear(session, principal.user_id, market, sku_ids=[ln.sku_id for ln in lines])
    return redirect(f"/orders/{placed.order.id}/pay")


async def _replayed(session: SessionDep, buyer_id: Id, key: str) -> int | None:
    """The order a first submit of this form already placed (its cart lines are gone now)."""
    order = await find_by_idempotency_key(session, buyer_id, key)
    return None if order is None else order.id


@router.post("/buy", dependencies=[Depends(per_user(Bucket.CHECKOUT))])
async def buy_now(
    session: SessionDep,
    principal: BuyerPrincipal,
    sku_id: Annotated[Id, Form()],
    market: Market2,
    idempotency_key: Key,
    quantity: Quantity = 1,
    coupon_code: CouponCode = "",
) -> Response:
    """Step one of two: the chosen variant becomes an order with its stock held (with the
    shop's coupon when one is typed); the pay page shows the discount before paying."""
    placed = await place_order(
        session,
        buyer_id=principal.user_id,
        market_code=market,
        lines=[CheckoutLine(sku_id=sku_id, quantity=quantity)],
        idempotency_key=idempotency_key,
        ship_to=await addresses.default_address_snapshot(session, principal.user_id, market),
        coupon_code=coupon_code.strip() or None,
    )
    return redirect(f"/orders/{placed.order.id}/pay")


# -- paying -------------------------------------------------------------------------------
async def _own_order(session: SessionDep, user_id: Id, order_id: Id) -> Order:
    order = await completion.load_order(session, order_id)
    if order.buyer_id != user_id:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    return order


COUPON_BOX_REFUSALS = (*COUPON_REFUSALS, "coupon-does-not-apply", "coupon-not-combinable")


@router.get("/orders/{order_id}/pay")
async def pay_page(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    coupon: Annotated[Line | None, Query(max_length=40)] = None,
) -> Response:
    """The order and the card form; ``coupon`` re-quotes the order with a seller's coupon
    (nothing is kept until the buyer applies it)."""
    typed = (coupon or "").strip().upper()
    requote: recoupon.Requote | None = None
    coupon_error = ""
    if typed:
        try:
            requote = await recoupon.apply_coupon(
                session, order_id=order_id, buyer_id=principal.user_id, code=typed, dry_run=True
            )
        except Problem as exc:
            if exc.code not in COUPON_BOX_REFUSALS:
                raise
            coupon_error = exc.detail
    order = await _own_order(session, principal.user_id, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return redirect(f"/orders/{order.id}")
    market = await get_market(session, order.market_code)
    cards = [c for c in await saved_cards.list_cards(session, principal.user_id) if not c.expired()]
    coupon_code, coupon_minor = await coupons.order_coupon(session, order.id)
    has_coupon = await coupons.order_has_coupon(session, order.id)
    context = {
        "title": _("Pay"),
        "order": order,
        "coupon_code": coupon_code,
        "coupon_minor": coupon_minor,
        "has_coupon": has_coupon,
        "in_progress": await payment_flow.payment_in_progress(session, order.id),
        "typed_coupon": typed,
        "requote": requote,
        "coupon_error": coupon_error,
        "shop": await get_shop(session, order.shop_id),
        "card": SANDBOX_CARD,
        "exp_year": datetime.now(UTC).year + 3,
        "saved_cards": cards,
        "ship_to": await _ship_to_view(session, order.id),
        "my_addresses": [
            AddressOut.of(a)
            for a in await addresses.list_addresses(session, principal.user_id, country=market.code)
        ],
    }
    return await render(request, session, principal, "pay.html", context, market=market)


async def _ship_to_view(session: SessionDep, order_id: int) -> OrderAddressOut | None:
    row = await ship_to.order_address(session, order_id)
    return None if row is None else OrderAddressOut.of(row)


@router.post("/orders/{order_id}/coupon")
async def apply_coupon(
    order_id: Id,
    session: SessionDep,
    principal: BuyerPrincipal,
    coupon_code: Annotated[Line, Form(min_length=1, max_length=40)],
) -> Response:
    """Keep the coupon the pay page quoted: the order is re-priced with it (promotions'
    coupon, the order's pricing); a refused code is said on the pay page."""
    got = await recoupon.apply_coupon(
        session, order_id=order_id, buyer_id=principal.user_id, code=coupon_code
    )
    return redirect(
        f"/orders/{order_id}/pay",
        flash=("success", _("Coupon %(code)s applied.", code=got.code)),
    )


@router.post("/orders/{order_id}/pay", dependencies=[Depends(per_user(Bucket.PAY))])
async def pay(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    card_number: Annotated[Line | None, Form(max_length=30)] = None,
    exp_month: Annotated[FormCount | None, Form()] = None,
    exp_year: Annotated[FormCount | None, Form()] = None,
    cvc: Annotated[Line | None, Form(max_length=4)] = None,
    pay_with: Annotated[str, Form(max_length=30, pattern=r"^(new|card-[0-9]{1,19})$")] = "new",
) -> Response:
    """Step two of two: the sandbox (test mode) charges the card — a saved one
    (``pay_with=card-<id>``) or the one typed in — and the order is paid."""
    back = f"/orders/{order_id}/pay"
    try:
        if pay_with.startswith("card-"):  # the typed-in fields are not used
            card = PayIn(saved_card_id=int(pay_with.removeprefix("card-")))
        else:
            card = PayIn(card_number=card_number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
    except ValidationError:
        return redirect(back, flash=("error", _("Please check the card details.")))
    provider = payment_provider(request)
    source = await required_payment_source(
        session,
        provider,
        principal.user_id,
        card,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cvc=card.cvc,
    )
    order = await payment_flow.pay_order(
        session, provider, order_id=order_id, buyer_id=principal.user_id, card=source
    )
    if order.status == OrderStatus.PENDING_PAYMENT:
        return redirect(
            f"/orders/{order.id}",
            flash=(
                "info",
                _("Your payment is being processed; this page updates when it is done."),
            ),
        )
    return redirect(f"/orders/{order.id}", flash=("success", _("Paid — thank you for your order!")))


# -- orders -------------------------------------------------------------------------------
@router.get("/orders")
async def orders_page(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: Annotated[FormCount, Query(ge=1, le=10_000)] = 1,
) -> Response:
    rows, total = await queries.list_orders(
        session, buyer_id=principal.user_id, limit=ORDERS_PAGE, offset=(page - 1) * ORDERS_PAGE
    )
    markets = {code: await get_market(session, code) for code in {o.market_code for o in rows}}
    shops = {sid: (await get_shop(session, sid)).name for sid in {o.shop_id for o in rows}}
    context = {
        "title": _("Your orders"),
        "orders": rows,
        "order_markets": markets,
        "shops": shops,
        "page": page,
        "pages": max(1, -(-total // ORDERS_PAGE)),
    }
    return await render(request, session, principal, "orders.html", context)


@router.get("/orders/{order_id}")
async def order_page(
    order_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    order, staff = await queries.visible_order(session, principal, order_id)
    market = await get_market(session, order.market_code)
    events = await queries.order_events(session, order.id)
    reached = {e.to_status for e in events}
    context = {
        "title": _("Order #%(id)s", id=order.id),
        "order": order,
        "staff_view": staff,
        "is_buyer": order.buyer_id == principal.user_id,
        "shop": await get_shop(session, order.shop_id),
        "events": events,
        "journey": [(s, s in reached) for s in JOURNEY],
        "ship_to": await _ship_to_view(session, order.id),
        "parcels": await parcels_of(session, order.id),
        "rv": await returns_of(session, order),
        "promise": await promise_of(session, order, market.timezone),
        "can_cancel": order.buyer_id == principal.user_id
        and order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID),
        # Paid, not yet packed (a drop paid at the desk went to the default address): the
        # buyer may still send it to another of theirs.
        "my_addresses": [
            AddressOut.of(a)
            for a in await addresses.list_addresses(session, principal.user_id, country=market.code)
        ]
        if order.buyer_id == principal.user_id and order.status == OrderStatus.PAID
        else [],
    }
    return await render(request, session, principal, "order.html", context, market=market)


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    reason: Annotated[Text, Form(max_length=300)] = "",
) -> Response:
    """The buyer may cancel until the seller starts packing (a paid order is refunded)."""
    order = await _own_order(session, principal.user_id, order_id)
    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
        raise Forbidden(
            _("The seller is already packing this order; ask them for a refund instead."),
            code="too-late-to-cancel",
        )
    await lifecycle.cancel(
        session,
        payment_provider(request),
        order_id,
        actor_id=principal.user_id,
        reason=reason.strip() or "cancelled by the buyer",
    )
    return redirect(f"/orders/{order_id}", flash=("info", _("Your order is cancelled.")))
