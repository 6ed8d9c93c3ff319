"""Flash deals (creator controls) and one-tap buying in the room.

Room events go out after each transaction commits: ``deal_started``/``deal_ended`` queued in
the deal's own transaction (``live.deals.announce``), and a ``stock`` event whenever units
are claimed, paid or given back."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import (
    BuyerPrincipal,
    CurrentPrincipal,
    MaybePrincipal,
    SessionDep,
    per_user,
)
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import MAX_AMOUNT_MINOR, MAX_ID, Id, Line
from liveshop.inventory import service as inventory
from liveshop.live import service
from liveshop.live.deals import limits
from liveshop.live.deals import service as deals
from liveshop.live.deals.models import DealEndReason, DealPolicy, DealStatus, FlashDeal
from liveshop.markets.service import display_price, get_market
from liveshop.orders import payment_flow
from liveshop.orders.payment_method import payment_source
from liveshop.orders.router import notifier_of, provider_of
from liveshop.orders.schemas import OrderOut, QuoteOut, SavedCardId
from liveshop.realtime.publish import RoomPublisher, room_publisher

router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=PROBLEM_RESPONSES)


class DealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, strict=True, le=MAX_ID)
    price_minor: int = Field(
        ge=1,
        description="Deal price in the session market's minor unit",
        strict=True,
        lt=MAX_AMOUNT_MINOR,
    )
    units: int = Field(ge=1, le=deals.MAX_UNITS, strict=True)
    duration_seconds: int = Field(ge=10, le=7200, strict=True)
    per_buyer_limit: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=deals.MAX_UNITS,
        description="Units one buyer may buy from this deal (1 to units; none: no limit). "
        "Fixed once the deal starts",
    )
    per_product_limit: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=deals.MAX_UNITS,
        description="Units of this product one buyer may take across all of this show's "
        "deals on it, this one included (none: no such limit). Fixed once the deal starts",
    )
    policy: DealPolicy = Field(
        default=DealPolicy.HOLD_THEN_PAY,
        description="How the drop shares its units when more people tap than there are: "
        "hold_then_pay, first_paid_wins, queue or lottery (see /drops/fairness). Fixed once "
        "the deal starts",
    )
    hold_seconds: int = Field(
        default=300,
        strict=True,
        ge=60,
        le=1800,
        description="How long a claim holds its units for the buyer to pay",
    )
    entry_seconds: int | None = Field(
        default=None,
        strict=True,
        ge=10,
        le=7200,
        description="Lottery only: how long entries are taken before the draw (default: "
        "half the deal's duration)",
    )


class DealOut(BaseModel):
    deal_id: int
    session_id: int
    product_id: int
    sku_id: int
    price_minor: int
    regular_price_minor: int
    currency: str
    display_price: str
    units: int
    per_buyer_limit: int | None
    per_product_limit: int | None = None
    remaining_for_you: int | None = Field(
        default=None,
        description="Units the signed-in caller may still buy from a limited deal",
    )
    available: int
    sold: int
    status: str
    end_reason: str | None
    ends_at: str
    policy: str
    hold_seconds: int
    draw_at: str | None = Field(default=None, description="Lottery: when the draw happens")
    seed_sha256: str | None = Field(
        default=None, description="Lottery: SHA-256 of the draw's seed, public from the start"
    )
    seed: str | None = Field(default=None, description="Lottery: the seed, once drawn")
    served_through: int = Field(
        default=0, description="Queue/lottery: the last place in line served so far"
    )


ROOM_MAX_QUANTITY = 99


class RoomQuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, strict=True, le=MAX_ID)
    quantity: int = Field(default=1, ge=1, le=ROOM_MAX_QUANTITY, strict=True)
    deal_id: int | None = Field(
        default=None, ge=1, description="Quote the flash deal's price", strict=True, le=MAX_ID
    )
    coupon_code: Line | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="A coupon code of the product's shop (its discount shows in the quote)",
    )


class RoomBuyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, strict=True, le=MAX_ID)
    quantity: int = Field(default=1, ge=1, le=ROOM_MAX_QUANTITY, strict=True)
    deal_id: int | None = Field(default=None, ge=1, strict=True, le=MAX_ID)
    expected_total_minor: int | None = Field(
        default=None,
        ge=0,
        description="The total the buyer was shown (a quote's total_minor): if the charge "
        "would be anything else, the buy is refused (409 price-changed) and nothing is held",
        strict=True,
        lt=MAX_AMOUNT_MINOR,
    )
    card_number: str | None = Field(
        default=None,
        min_length=12,
        max_length=23,
        pattern=r"^[0-9 -]+$",
        description="Pay at once (one tap); without it the order waits for /orders/{id}/pay",
    )
    saved_card_id: SavedCardId | None = None
    use_default_card: bool = Field(
        default=False, strict=True, description="Pay at once with your default saved card"
    )
    address_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        strict=True,
        description="Deliver to this one of your addresses (in the market's country); "
        "without it, your default address there",
    )
    coupon_code: Line | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="A coupon code of the product's shop (its discount shows in the quote)",
    )


async def _deal_out(
    session: SessionDep, deal: FlashDeal, available: int, *, remaining: int | None = None
) -> DealOut:
    live = await service.get_session(session, deal.session_id)
    market = await get_market(session, live.market_code)
    return DealOut(
        deal_id=deal.id,
        session_id=deal.session_id,
        product_id=deal.product_id,
        sku_id=deal.sku_id,
        price_minor=deal.price_minor,
        regular_price_minor=deal.regular_price_minor,
        currency=deal.currency,
        display_price=display_price(market, deal.price_minor),
        units=deal.units,
        per_buyer_limit=deal.per_buyer_limit,
        per_product_limit=deal.per_product_limit,
        remaining_for_you=remaining,
        available=available,
        sold=deal.sold,
        status=deal.status,
        end_reason=deal.end_reason,
        ends_at=deal.ends_at.isoformat(),
        policy=deal.policy,
        hold_seconds=deal.hold_seconds,
        draw_at=deal.draw_at.isoformat() if deal.draw_at else None,
        seed_sha256=deal.lottery_seed_sha256,
        seed=deal.lottery_seed if deal.drawn_at is not None else None,
        served_through=deal.served_through,
    )


async def publish_deal_stock(
    session: SessionDep, publisher: RoomPublisher, deal: FlashDeal
) -> None:
    """The deal's units left, and the SKU's ordinary stock (both coalesced in the room);
    every node's claim desk hears the deal's figure too."""
    available = await deals.deal_available(session, deal)
    paying = None
    if deal.policy == DealPolicy.FIRST_PAID_WINS and deal.reservation_id is not None:
        paying = await inventory.held_children(session, deal.reservation_id)
    await publisher.stock(
        deal.session_id,
        sku_id=deal.sku_id,
        available=available,
        product_id=deal.product_id,
        deal_id=deal.id,
        version=deal.stock_version,
        paying=paying,
    )
    if publisher.deal_stock is not None:
        await publisher.deal_stock.announce_stock(
            deal.id,
            available=available,
            version=deal.stock_version,
            ended=deal.status != DealStatus.ACTIVE,
        )
    summary = await inventory.stock_summary(session, deal.sku_id)
    await session.commit()
    await publisher.stock(
        deal.session_id,
        sku_id=deal.sku_id,
        available=summary.available,
        product_id=deal.product_id,
    )


@router.post("/sessions/{session_id}/deals", status_code=status.HTTP_201_CREATED)
async def start_deal(
    session_id: Id,
    body: DealIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> DealOut:
    """The session's creator or their moderator starts a flash deal out of real stock."""
    live = await service.get_session(session, session_id)
    await service.ensure_can_control(session, principal, live)
    publisher = room_publisher(request.app)
    view = await deals.start_deal(
        session,
        live,
        sku_id=body.sku_id,
        price_minor=body.price_minor,
        units=body.units,
        duration=timedelta(seconds=body.duration_seconds),
        actor_id=principal.user_id,
        per_buyer_limit=body.per_buyer_limit,
        per_product_limit=body.per_product_limit,
        policy=body.policy,
        hold=timedelta(seconds=body.hold_seconds),
        entry_window=timedelta(seconds=body.entry_seconds) if body.entry_seconds else None,
        room=publisher.on_commit(session),
    )
    deal = view.deal
    await publish_deal_stock(session, publisher, deal)
    return await _deal_out(session, deal, view.available)


@router.post("/sessions/{session_id}/deals/{deal_id}/end")
async def end_deal(
    session_id: Id,
    deal_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> DealOut:
    live = await service.get_session(session, session_id)
    await service.ensure_can_control(session, principal, live)
    deal = await deals.get_deal(session, deal_id)
    if deal.session_id != live.id:
        raise NotFound(
            _("flash deal %(deal_id)s does not exist", deal_id=deal_id), code="deal-not-found"
        )
    publisher = room_publisher(request.app)
    ended = await deals.end_deal(
        session, deal_id, reason=DealEndReason.ENDED_EARLY, room=publisher.on_commit(session)
    )
    deal = await deals.get_deal(session, deal_id)
    if ended is not None:  # ``deal_ended`` went out with the commit
        await publish_deal_stock(session, publisher, deal)
    return await _deal_out(session, deal, 0)


async def announce_deal_end(session: SessionDep, publisher: RoomPublisher, deal: FlashDeal) -> None:
    """``deal_ended`` and the stock, for a deal ended in an earlier transaction."""
    await publisher.deal_ended(
        deal.session_id, deal_id=deal.id, reason=deal.end_reason or "ended_early", sold=deal.sold
    )
    await publish_deal_stock(session, publisher, deal)


@router.get("/sessions/{session_id}/deal")
async def current_deal(
    session_id: Id, session: SessionDep, principal: MaybePrincipal
) -> DealOut | None:
    """The running deal; signed in, with what the caller may still buy of a limited one."""
    await service.get_session(session, session_id)
    view = await deals.active_deal(session, session_id)
    if view is None:
        return None
    buyer_id = principal.user_id if principal is not None else None
    remaining = await limits.remaining_for(session, view.deal, buyer_id)
    return await _deal_out(session, view.deal, view.available, remaining=remaining)


@router.post("/sessions/{session_id}/quote")
async def quote_in_room(
    session_id: Id, body: RoomQuoteIn, principal: MaybePrincipal, session: SessionDep
) -> QuoteOut:
    """What ``POST …/buy`` with this body would charge now — the checkout's own pricing run
    dry: the deal price, the platform's live-discount and free-shipping campaigns, shipping,
    tax, total. Nothing is held, claimed or ordered. Anyone may ask (the room's prices are
    public); signed in, a coupon's per-buyer limit is checked for the caller."""
    live = await service.get_session(session, session_id)
    quote = await deals.quote_in_room(
        session,
        live,
        buyer_id=principal.user_id if principal is not None else None,
        sku_id=body.sku_id,
        quantity=body.quantity,
        deal_id=body.deal_id,
        coupon_code=body.coupon_code,
    )
    return QuoteOut.of(quote)


IdempotencyKey = Annotated[Line, Header(alias="Idempotency-Key", min_length=1, max_length=100)]


@router.post(
    "/sessions/{session_id}/buy",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    dependencies=[Depends(per_user(Bucket.CHECKOUT))],
    responses=RATE_LIMITED,
)
async def buy_in_room(
    session_id: Id,
    body: RoomBuyIn,
    idempotency_key: IdempotencyKey,
    request: Request,
    principal: BuyerPrincipal,
    session: SessionDep,
) -> JSONResponse:
    """One tap: hold (at the deal price when ``deal_id`` is given), and pay when a card is
    given. Attributed to this session and its creator."""
    live = await service.get_session(session, session_id)
    card = await payment_source(session, provider_of(request), principal.user_id, body)
    placed = await deals.buy_in_room(
        session,
        live,
        buyer_id=principal.user_id,
        sku_id=body.sku_id,
        quantity=body.quantity,
        idempotency_key=idempotency_key,
        deal_id=body.deal_id,
        expected_total_minor=body.expected_total_minor,
        address_id=body.address_id,
        coupon_code=body.coupon_code,
    )
    order = placed.order
    publisher = room_publisher(request.app)
    if body.deal_id is not None and not placed.replayed:
        await publish_deal_stock(session, publisher, await deals.get_deal(session, body.deal_id))
    if card is not None and order.paid_at is None:
        order = await payment_flow.pay_order(
            session,
            provider_of(request),
            order_id=order.id,
            buyer_id=principal.user_id,
            card=card,
            notifier=notifier_of(request),
        )
    market = await get_market(session, order.market_code)
    out = OrderOut.of(order, market, financials=False)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if placed.replayed else 201)
