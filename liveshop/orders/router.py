from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse

from liveshop.accounts.deps import (
    BuyerPrincipal,
    CurrentPrincipal,
    MaybePrincipal,
    SellerPrincipal,
    SessionDep,
    per_user,
)
from liveshop.accounts.service import Principal
from liveshop.addresses import service as addresses
from liveshop.addresses.service import ShipTo
from liveshop.catalog.service import ensure_shop_staff, get_sku_offer
from liveshop.core import types as core_types
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, NotFound, Problem, Unprocessable
from liveshop.core.i18n import gettext
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import Id, Line
from liveshop.markets.service import display_price, get_market
from liveshop.orders import cart as carts
from liveshop.orders import lifecycle, payment_flow, queries, recoupon, refunds
from liveshop.orders.attribution import resolve_checkout_attribution
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import Attribution, CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payment_method import required_payment_source
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.schemas import (
    CartLineOut,
    CartOut,
    CartQuantityIn,
    CheckoutIn,
    OrderCouponIn,
    OrderEventOut,
    OrderOut,
    OrderPage,
    OrderRequoteOut,
    PayIn,
    ReasonIn,
    RefundIn,
    ShipIn,
)
from liveshop.orders.status import OrderStatus
from liveshop.orders.webhooks import handle_webhook

router = APIRouter(prefix="/api/v1", tags=["orders"], responses=PROBLEM_RESPONSES)

IdempotencyKey = Annotated[
    Line,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        description="Retrying with the same key returns the same order",
    ),
]
Limit = Annotated[core_types.Limit, Query(le=100)]
Offset = Annotated[core_types.Offset, Query()]


def notifier_of(request: Request) -> OrderNotifier:
    notifier: OrderNotifier = request.app.state.order_notifier
    return notifier


def provider_of(request: Request, name: str = "sandbox") -> PaymentProvider:
    providers: dict[str, PaymentProvider] = request.app.state.payment_providers
    if name not in providers:
        raise NotFound(
            gettext("no payment provider %(name)s", name=repr(name)), code="unknown-provider"
        )
    return providers[name]


async def _out(session: SessionDep, order: Order, *, financials: bool) -> OrderOut:
    market = await get_market(session, order.market_code)
    return OrderOut.of(order, market, financials=financials)


# -- cart -------------------------------------------------------------------------------------
@router.get("/cart/{market}")
async def get_cart(market: Line, principal: BuyerPrincipal, session: SessionDep) -> CartOut:
    cart = await carts.get_cart(session, principal.user_id, market)
    m = await get_market(session, cart.market_code)
    lines = []
    for ln in cart.lines:
        try:
            offer = await get_sku_offer(session, ln.sku_id, m.code)
            lines.append(
                CartLineOut(
                    sku_id=ln.sku_id,
                    quantity=ln.quantity,
                    title=offer.title,
                    shop_id=offer.shop_id,
                    unit_price_minor=offer.price_minor,
                    display_price=display_price(m, offer.price_minor),
                    available=True,
                )
            )
        except Problem:
            lines.append(
                CartLineOut(
                    sku_id=ln.sku_id,
                    quantity=ln.quantity,
                    title=None,
                    shop_id=None,
                    unit_price_minor=None,
                    display_price=None,
                    available=False,
                )
            )
    return CartOut(market=m.code, currency=m.currency, lines=lines)


@router.put("/cart/{market}/lines/{sku_id}")
async def set_cart_line(
    market: Line, sku_id: Id, body: CartQuantityIn, principal: BuyerPrincipal, session: SessionDep
) -> CartOut:
    await carts.set_line(session, principal.user_id, market, sku_id, body.quantity)
    return await get_cart(market, principal, session)


@router.delete("/cart/{market}", status_code=status.HTTP_204_NO_CONTENT)
async def clear_cart(market: Line, principal: BuyerPrincipal, session: SessionDep) -> None:
    await carts.clear(session, principal.user_id, market)


# -- checkout and payment ---------------------------------------------------------------------
async def _attribution(
    session: SessionDep, body: CheckoutIn, buyer_id: Id, lines: list[CheckoutLine]
) -> Attribution | None:
    """Who earns commission: the live session's creator while it is live, or the creator whose
    link the buyer clicked within the attribution window (the creator economy registers the
    resolver: ``orders.attribution``). Naming a creator alone attributes nothing; a click
    counts even if the body names no one."""
    if not lines:
        return None
    claimed = body.attribution
    return await resolve_checkout_attribution(
        session,
        buyer_id=buyer_id,
        market_code=body.market,
        sku_ids=[ln.sku_id for ln in lines],
        live_session_id=claimed.live_session_id if claimed else None,
        creator_id=claimed.creator_id if claimed else None,
    )


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    dependencies=[Depends(per_user(Bucket.CHECKOUT))],
    responses=RATE_LIMITED,
)
async def checkout(
    body: CheckoutIn,
    idempotency_key: IdempotencyKey,
    principal: BuyerPrincipal,
    session: SessionDep,
) -> JSONResponse:
    """Holds the stock and creates a pending_payment order (pay it within the hold)."""
    if body.from_cart == (body.lines is not None):
        raise Unprocessable(
            gettext("give either `lines` or `from_cart: true`"), code="bad-checkout"
        )
    if body.lines is not None:
        lines = [CheckoutLine(sku_id=ln.sku_id, quantity=ln.quantity) for ln in body.lines]
    else:
        cart = await carts.get_cart(session, principal.user_id, body.market)
        wanted = []
        for ln in cart.lines:
            offer = await get_sku_offer(session, ln.sku_id, cart.market_code)
            if body.shop_id is None or offer.shop_id == body.shop_id:
                wanted.append(CheckoutLine(sku_id=ln.sku_id, quantity=ln.quantity))
        lines = wanted
    attribution = await _attribution(session, body, principal.user_id, lines)
    ship_to: ShipTo | None
    if body.address_id is not None:
        ship_to = await addresses.address_snapshot(
            session, principal.user_id, body.address_id, body.market
        )
    else:
        ship_to = await addresses.default_address_snapshot(session, principal.user_id, body.market)
    placed = await place_order(
        session,
        buyer_id=principal.user_id,
        market_code=body.market,
        lines=lines,
        idempotency_key=idempotency_key,
        attribution=attribution,
        coupon_code=body.coupon_code,
        ship_to=ship_to,
    )
    if body.from_cart and not placed.replayed:
        await carts.clear(
            session, principal.user_id, body.market, sku_ids=[ln.sku_id for ln in lines]
        )
    out = await _out(session, placed.order, financials=False)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=200 if placed.replayed else 201,
        headers={"Idempotent-Replayed": "true"} if placed.replayed else None,
    )


@router.post("/orders/{order_id}/coupon")
async def apply_order_coupon(
    order_id: Id, body: OrderCouponIn, principal: BuyerPrincipal, session: SessionDep
) -> OrderRequoteOut:
    """A seller's coupon on your unpaid order: the order is re-priced with it (the discount
    spread over its lines; tax and commissions again at the rates frozen on them) and kept —
    or, with ``dry_run``, only quoted. One coupon per order; 409 while a payment is in
    flight."""
    got = await recoupon.apply_coupon(
        session,
        order_id=order_id,
        buyer_id=principal.user_id,
        code=body.coupon_code,
        dry_run=body.dry_run,
    )
    return OrderRequoteOut(
        coupon_code=got.code,
        discount_minor=got.discount_minor,
        items_minor=got.items_minor,
        tax_minor=got.tax_minor,
        total_minor=got.total_minor,
        was_total_minor=got.was_total_minor,
        applied=not body.dry_run,
    )


@router.post(
    "/orders/{order_id}/pay",
    dependencies=[Depends(per_user(Bucket.PAY))],
    responses=RATE_LIMITED,
)
async def pay(
    order_id: Id, body: PayIn, request: Request, principal: BuyerPrincipal, session: SessionDep
) -> OrderOut:
    """Pay with a card's number, one of your saved cards (``saved_card_id``) or your default
    card (``use_default_card: true``) — one of them. Sandbox (test mode) cards:
    4242424242424242 pays; 4000000000000002 is declined."""
    provider = provider_of(request)
    card = await required_payment_source(
        session,
        provider,
        principal.user_id,
        body,
        exp_month=body.exp_month,
        exp_year=body.exp_year,
        cvc=body.cvc,
    )
    order = await payment_flow.pay_order(
        session,
        provider,
        order_id=order_id,
        buyer_id=principal.user_id,
        card=card,
        notifier=notifier_of(request),
    )
    return await _out(session, order, financials=False)


@router.post("/payments/webhooks/{provider}")
async def payment_webhook(
    provider: Line, request: Request, session: SessionDep, _: MaybePrincipal
) -> dict[str, str]:
    """Authenticated by the provider's HMAC signature, not by a user."""
    result = await handle_webhook(
        session,
        provider_of(request, provider),
        await request.body(),
        request.headers,
        notifier=notifier_of(request),
    )
    return {"result": result}


# -- reading ----------------------------------------------------------------------------------
@router.get("/orders")
async def my_orders(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: OrderStatus | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> OrderPage:
    rows, total = await queries.list_orders(
        session, buyer_id=principal.user_id, status=status, limit=limit, offset=offset
    )
    return OrderPage(
        items=[await _out(session, o, financials=False) for o in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/shops/{shop_id}/orders")
async def shop_orders(
    shop_id: Id,
    principal: SellerPrincipal,
    session: SessionDep,
    status: OrderStatus | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> OrderPage:
    await ensure_shop_staff(session, principal, shop_id)
    rows, total = await queries.list_orders(
        session, shop_id=shop_id, status=status, limit=limit, offset=offset
    )
    return OrderPage(
        items=[await _out(session, o, financials=True) for o in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/orders/{order_id}")
async def get_order(order_id: Id, principal: CurrentPrincipal, session: SessionDep) -> OrderOut:
    order, financials = await queries.visible_order(session, principal, order_id)
    return await _out(session, order, financials=financials)


@router.get("/orders/{order_id}/events")
async def get_order_events(
    order_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> list[OrderEventOut]:
    await queries.visible_order(session, principal, order_id)
    return [OrderEventOut.of(e) for e in await queries.order_events(session, order_id)]


# -- lifecycle ---------------------------------------------------------------------------------
@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    order_id: Id,
    body: ReasonIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> OrderOut:
    """The buyer until the seller starts packing; the shop's staff until it ships."""
    order, staff = await queries.visible_order(session, principal, order_id)
    if not staff and order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
        raise Forbidden(
            gettext("the seller is already packing this order; ask for a refund"),
            code="too-late-to-cancel",
        )
    order = await lifecycle.cancel(
        session,
        provider_of(request),
        order_id,
        actor_id=principal.user_id,
        reason=body.reason or "cancelled",
    )
    return await _out(session, order, financials=staff)


async def _staff(session: SessionDep, principal: Principal, order_id: Id) -> None:
    await queries.staff_order(session, principal, order_id)


@router.post("/orders/{order_id}/fulfil")
async def fulfil_order(order_id: Id, principal: SellerPrincipal, session: SessionDep) -> OrderOut:
    await _staff(session, principal, order_id)
    order = await lifecycle.start_fulfilment(session, order_id, actor_id=principal.user_id)
    return await _out(session, order, financials=True)


@router.post("/orders/{order_id}/ship")
async def ship_order(
    order_id: Id, body: ShipIn, principal: SellerPrincipal, session: SessionDep
) -> OrderOut:
    await _staff(session, principal, order_id)
    order = await lifecycle.ship(
        session,
        order_id,
        actor_id=principal.user_id,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
    )
    return await _out(session, order, financials=True)


@router.post("/orders/{order_id}/deliver")
async def deliver_order(order_id: Id, principal: SellerPrincipal, session: SessionDep) -> OrderOut:
    await _staff(session, principal, order_id)
    order = await lifecycle.mark_delivered(session, order_id, actor_id=principal.user_id)
    return await _out(session, order, financials=True)


@router.post("/orders/{order_id}/complete")
async def complete_order(order_id: Id, principal: SellerPrincipal, session: SessionDep) -> OrderOut:
    await _staff(session, principal, order_id)
    order = await lifecycle.complete(session, order_id, actor_id=principal.user_id)
    return await _out(session, order, financials=True)


@router.post("/orders/{order_id}/refund-request")
async def request_refund(
    order_id: Id, body: ReasonIn, principal: BuyerPrincipal, session: SessionDep
) -> OrderOut:
    order, _ = await queries.visible_order(session, principal, order_id)
    if order.buyer_id != principal.user_id:
        raise Forbidden(gettext("only the buyer can ask for a refund"), code="not-the-buyer")
    order = await lifecycle.request_refund(
        session, order_id, buyer_id=principal.user_id, reason=body.reason
    )
    return await _out(session, order, financials=False)


@router.post("/orders/{order_id}/refund-request/reject")
async def reject_refund(
    order_id: Id, body: ReasonIn, principal: SellerPrincipal, session: SessionDep
) -> OrderOut:
    await _staff(session, principal, order_id)
    order = await lifecycle.reject_refund_request(
        session, order_id, actor_id=principal.user_id, reason=body.reason
    )
    return await _out(session, order, financials=True)


@router.post("/orders/{order_id}/refunds")
async def refund_order(
    order_id: Id, body: RefundIn, request: Request, principal: SellerPrincipal, session: SessionDep
) -> OrderOut:
    """Refund some units of some lines (partial refunds are exact to the minor unit)."""
    await _staff(session, principal, order_id)
    order = await refunds.refund(
        session,
        provider_of(request),
        order_id,
        [refunds.RefundLine(ln.line_id, ln.quantity) for ln in body.lines],
        actor_id=principal.user_id,
        reason=body.reason,
        restock=body.restock,
    )
    return await _out(session, order, financials=True)
