"""Live auctions over HTTP: the host puts a lot up (or withdraws it); buyers bid (the room's
socket takes ``bid`` frames too: ``realtime.ws``); anyone reads a lot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import (
    BuyerPrincipal,
    CurrentPrincipal,
    MaybePrincipal,
    SessionDep,
    per_user,
)
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound, problem_response
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import MAX_AMOUNT_MINOR, MAX_ID, Amount, Id
from liveshop.inventory import service as inventory
from liveshop.live import service as live_service
from liveshop.live.auctions import service
from liveshop.live.auctions.desk import BidDesk
from liveshop.live.auctions.models import Auction, AuctionMode
from liveshop.markets.service import display_price, get_market
from liveshop.realtime.publish import RoomPublisherDep, room_publisher

Step = Annotated[list[Amount], Field(min_length=2, max_length=2)]  # [from_minor, increment_minor]

router = APIRouter(prefix="/api/v1/live", tags=["auctions"], responses=PROBLEM_RESPONSES)


class AuctionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, le=MAX_ID, strict=True)
    quantity: int = Field(default=1, ge=1, le=service.MAX_QUANTITY, strict=True)
    start_minor: int = Field(
        ge=1, lt=MAX_AMOUNT_MINOR, strict=True, description="Starting price per unit of the lot"
    )
    duration_seconds: int = Field(
        default=30, ge=service.MIN_DURATION_S, le=service.MAX_DURATION_S, strict=True
    )
    mode: AuctionMode = Field(
        default=AuctionMode.ANTI_SNIPE,
        description="anti_snipe: a bid in the last snipe_seconds resets the timer to "
        "snipe_seconds; sudden_death: the timer never moves",
    )
    snipe_seconds: int = Field(default=10, ge=1, le=service.MAX_SNIPE_S, strict=True)
    increments: list[Step] | None = Field(
        default=None,
        max_length=20,
        description="[[from_minor, increment_minor], …] from 0, prices rising, steps never "
        "falling (default: 1.00 up to 20.00, then 2.00, 5.00 from 100.00 …)",
    )


class BidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_minor: int = Field(
        ge=1,
        lt=MAX_AMOUNT_MINOR,
        strict=True,
        description="Your maximum per unit: the room's price rises only as far as it takes "
        "to keep you ahead",
    )


class AuctionOut(BaseModel):
    auction_id: int
    session_id: int
    product_id: int
    sku_id: int
    title: str
    quantity: int
    currency: str
    start_minor: int
    current_minor: int | None
    display_current: str | None
    minimum_minor: int
    leader_name: str | None
    bids: int
    mode: str
    snipe_seconds: int
    increments: list[list[int]]
    ends_at: str
    status: str
    version: int
    you_lead: bool | None = None
    winner_name: str | None = None
    hammer_minor: int | None = None
    order_id: int | None = Field(default=None, description="The winner's order (theirs only)")
    payment_due: bool | None = Field(
        default=None,
        description="The winner's order still awaits payment (their card is pending or "
        "failed): they may pay it with another card on /orders/{order_id}/pay (theirs only)",
    )


class BidOut(BaseModel):
    accepted: bool
    leading: bool
    current_minor: int
    minimum_minor: int
    ends_at: str


async def _out(session: SessionDep, auction: Auction, viewer_id: int | None) -> AuctionOut:
    view = await service.room_view(session, auction)
    market = await get_market(session, auction.market_code)
    current = view["current_minor"]
    winner = await service.public_name(session, auction.winner_id)
    theirs = viewer_id is not None and viewer_id == auction.winner_id
    return AuctionOut(
        auction_id=auction.id,
        session_id=auction.session_id,
        product_id=auction.product_id,
        sku_id=auction.sku_id,
        title=auction.title,
        quantity=auction.quantity,
        currency=auction.currency,
        start_minor=auction.start_minor,
        current_minor=current,
        display_current=display_price(market, current) if current is not None else None,
        minimum_minor=view["minimum_minor"],
        leader_name=view["leader_name"],
        bids=auction.bid_count,
        mode=auction.mode,
        snipe_seconds=auction.snipe_seconds,
        increments=auction.increments,
        ends_at=auction.ends_at.isoformat(),
        status=auction.status,
        version=auction.version,
        you_lead=None if viewer_id is None else auction.leader_id == viewer_id,
        winner_name=winner,
        hammer_minor=auction.hammer_minor,
        order_id=auction.order_id if theirs else None,
        payment_due=await service.payment_due(session, auction) if theirs else None,
    )


def desk_of(request: Request) -> BidDesk:
    desk: BidDesk = request.app.state.bid_desk
    return desk


@router.post("/sessions/{session_id}/auctions", status_code=status.HTTP_201_CREATED)
async def start_auction(
    session_id: Id,
    body: AuctionIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    publisher: RoomPublisherDep,
) -> AuctionOut:
    """The session's creator or their moderator puts a lot up: its units are held from
    stock now; the room sees the lot and its timer."""
    live = await live_service.get_session(session, session_id)
    await live_service.ensure_can_control(session, principal, live)
    auction = await service.start_auction(
        session,
        live,
        sku_id=body.sku_id,
        quantity=body.quantity,
        start_minor=body.start_minor,
        duration_s=body.duration_seconds,
        mode=body.mode,
        snipe_s=body.snipe_seconds,
        increments=body.increments,
        actor_id=principal.user_id,
        room=publisher.on_commit(session),
    )
    summary = await inventory.stock_summary(session, auction.sku_id)
    out = await _out(session, auction, principal.user_id)
    await session.commit()
    await room_publisher(request.app).stock(
        session_id,
        sku_id=auction.sku_id,
        available=summary.available,
        product_id=auction.product_id,
    )
    return out


@router.get("/sessions/{session_id}/auction")
async def room_auction(
    session_id: Id, session: SessionDep, principal: MaybePrincipal
) -> AuctionOut:
    """The room's lot taking bids (or being settled); 404 when there is none. Public, like
    the room itself."""
    del principal  # anyone may look
    await live_service.get_session(session, session_id)
    auction = await service.running_auction(session, session_id)
    if auction is None:
        raise NotFound(_("no lot is up in this room"), code="no-auction")
    return await _out(session, auction, None)


@router.get("/auctions/{auction_id}")
async def get_auction(
    auction_id: Id, session: SessionDep, principal: CurrentPrincipal
) -> AuctionOut:
    """A lot (public figures; the winner also sees their order)."""
    return await _out(session, await service.get_auction(session, auction_id), principal.user_id)


@router.post(
    "/auctions/{auction_id}/bids",
    dependencies=[Depends(per_user(Bucket.BID))],
    responses={200: {"model": BidOut}, **RATE_LIMITED},
)
async def bid(
    auction_id: Id, body: BidIn, request: Request, principal: BuyerPrincipal
) -> JSONResponse:
    """Bid (your maximum per unit). Needs a saved card: the winner's is charged when the
    hammer falls. 409 ``bid-too-low`` (with ``minimum_minor``), ``auction-ended``,
    ``already-leading``; 402 ``saved-card-required``; 403 ``host-cannot-bid``; 429
    ``rate-limited`` past ``rate_limit_bid`` per bidder."""
    answer = await desk_of(request).bid(principal, auction_id, body.max_minor, session_id=None)
    if not answer.accepted:
        return problem_response(
            answer.status,
            code=answer.code or "bid-refused",
            detail=answer.detail,
            **answer.extra,
        )
    return JSONResponse({"accepted": True, "leading": answer.leading, **answer.extra})


@router.post("/auctions/{auction_id}/cancel")
async def cancel_auction(
    auction_id: Id, principal: CurrentPrincipal, session: SessionDep, publisher: RoomPublisherDep
) -> AuctionOut:
    """The host withdraws a lot still taking bids: no sale, its units back on sale."""
    auction = await service.get_auction(session, auction_id)
    live = await live_service.get_session(session, auction.session_id)
    await live_service.ensure_can_control(session, principal, live)
    done = await service.cancel_running(
        session, auction.session_id, room=publisher.on_commit(session)
    )
    if done is None or done.id != auction_id:
        raise NotFound(_("that lot is not taking bids"), code="auction-not-running")
    return await _out(session, done, principal.user_id)
