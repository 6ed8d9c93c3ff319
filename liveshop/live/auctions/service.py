"""Live auctions: putting a lot up, deciding bids in batches, the hammer and the sale.

- **Start** holds the lot's units (inventory reservation ``auction:<id>``, no expiry): a lot
  can never sell stock that is not there, and nobody else can buy it meanwhile.
- **Bids** are decided a batch at a time (``decide_bids``): one guarded UPDATE takes the
  lot's row (``status = 'live' AND ends_at > now``, raising ``version``: batches of any node
  queue on it), the batch's bids are placed in arrival order by ``engine.place`` (proxy bids,
  increments, anti-snipe), then one UPDATE writes the state and one INSERT the accepted bids.
  The server's clock decides: a bid decided at or after ``ends_at`` is refused.
- **The hammer** is the guarded UPDATE the other way (``status = 'live' AND ends_at <= now``
  → ``settling``): a batch and the hammer meet on the row's lock, so a bid is either in
  before it (and may have moved ``ends_at``) or refused.
- **The sale** (``settle``): the leader's order at the hammer price (per unit of the lot)
  with their default address, its units split off the lot's hold, paid with their default
  saved card. If the card fails, the order is cancelled (the units go back into the lot's
  hold) and the lot is offered to the runner-up at their own highest bid, and so on; when
  nobody is left, the lot goes back on sale. Every step commits, and a settlement a crash
  interrupted is taken up again by the clock (orders are keyed per auction and bidder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.addresses.service import default_address_snapshot
from liveshop.catalog.service import get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.db import table_of
from liveshop.core.errors import Conflict, Forbidden, NotFound, Problem, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext
from liveshop.inventory import service as inventory
from liveshop.inventory.errors import OutOfStock
from liveshop.live import bans
from liveshop.live.auctions import announce, engine
from liveshop.live.auctions.models import (
    Auction,
    AuctionBid,
    AuctionMode,
    AuctionOffer,
    AuctionStatus,
    OfferStatus,
)
from liveshop.live.deals.service import room_attribution
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.markets.service import get_market
from liveshop.notices.service import notify
from liveshop.orders import lifecycle, payment_flow, saved_cards
from liveshop.orders.checkout import find_by_idempotency_key, place_order
from liveshop.orders.completion import PaymentDeclined, load_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payments.declines import decline_words
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.realtime.publish import AfterCommit

log = structlog.get_logger("liveshop.live.auctions")

MIN_DURATION_S = 5
MAX_DURATION_S = 3600
MAX_SNIPE_S = 60
MAX_QUANTITY = 1000
ORDER_HOLD = timedelta(minutes=15)
SETTLE_STALE = timedelta(seconds=60)  # a settlement untouched this long is taken up again


async def get_auction(session: AsyncSession, auction_id: int) -> Auction:
    found = await session.get(Auction, auction_id, populate_existing=True)
    if found is None:
        raise NotFound(
            _("auction %(auction_id)s does not exist", auction_id=auction_id),
            code="auction-not-found",
        )
    return found


async def running_auction(session: AsyncSession, session_id: int) -> Auction | None:
    """The room's auction taking bids or being settled, if any."""
    found: Auction | None = await session.scalar(
        select(Auction)
        .where(
            Auction.session_id == session_id,
            Auction.status.in_([AuctionStatus.LIVE, AuctionStatus.SETTLING]),
        )
        .order_by(Auction.id.desc())
        .limit(1)
    )
    return found


async def public_name(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    name: str | None = await session.scalar(select(User.display_name).where(User.id == user_id))
    return name


async def room_view(session: AsyncSession, auction: Auction) -> dict[str, Any]:
    """The lot as rooms show it (snapshots, events)."""
    return announce.auction_fields(auction, await public_name(session, auction.leader_id))


async def start_auction(
    session: AsyncSession,
    live: LiveSession,
    *,
    sku_id: int,
    quantity: int,
    start_minor: int,
    duration_s: int,
    mode: AuctionMode,
    snipe_s: int,
    increments: Sequence[Sequence[int]] | None,
    actor_id: int,
    room: AfterCommit | None = None,
) -> Auction:
    """Put a lot up in a live room: ``quantity`` units of ``sku_id`` held from stock now,
    bids from ``start_minor`` (per unit) for ``duration_s`` seconds. Commits; given
    ``room``, ``auction_started`` goes out with the commit."""
    if live.status != SessionStatus.LIVE:
        raise Conflict(_("auctions run only while the session is live"), code="session-not-live")
    market = await get_market(session, live.market_code)
    if not market.auctions_enabled:
        raise Conflict(
            _("auctions are not allowed in %(name)s", name=market.name),
            code="auctions-disabled",
            market=market.code,
        )
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Unprocessable(
            _("a lot is 1 to %(max_quantity)s units", max_quantity=MAX_QUANTITY),
            code="bad-quantity",
        )
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise Unprocessable(
            _(
                "an auction lasts %(min_duration_s)s to %(max_duration_s)s seconds",
                min_duration_s=MIN_DURATION_S,
                max_duration_s=MAX_DURATION_S,
            ),
            code="bad-duration",
        )
    if mode == AuctionMode.ANTI_SNIPE and not 1 <= snipe_s <= min(MAX_SNIPE_S, duration_s):
        raise Unprocessable(
            _("anti-snipe seconds are 1 to 60, and no more than the duration"),
            code="bad-snipe-seconds",
        )
    table = engine.check_increments(increments or engine.DEFAULT_INCREMENTS)
    offer = await get_sku_offer(session, sku_id, live.market_code)
    if start_minor <= 0:
        raise Unprocessable(_("the starting price is above 0"), code="bad-start-price")
    if await running_auction(session, live.id) is not None:
        raise Conflict(_("this room's auction is still running"), code="auction-already-running")
    now = utcnow()
    auction = Auction(
        session_id=live.id,
        creator_id=live.creator_id,
        market_code=live.market_code,
        product_id=offer.product_id,
        sku_id=sku_id,
        title=offer.title[:200],
        quantity=quantity,
        currency=offer.currency,
        start_minor=start_minor,
        increments=table,
        mode=mode,
        snipe_seconds=snipe_s if mode == AuctionMode.ANTI_SNIPE else 0,
        duration_seconds=duration_s,
        status=AuctionStatus.LIVE,
        current_minor=0,
        leader_max_minor=0,
        bid_count=0,
        extensions=0,
        version=0,
        created_by=actor_id,
        starts_at=now,
        ends_at=now + timedelta(seconds=duration_s),
    )
    session.add(auction)
    await session.flush()
    try:
        hold = await inventory.reserve(
            session,
            sku_id=sku_id,
            quantity=quantity,
            reference=f"auction:{auction.id}",
            hold_for=None,
        )
    except OutOfStock as exc:
        await session.rollback()
        raise Conflict(
            _("only %(get)s unit(s) in stock for this lot", get=exc.extra.get("available", 0)),
            code="out-of-stock",
            available=exc.extra.get("available", 0),
        ) from exc
    auction.reservation_id = hold.id
    if room is not None:
        announce.started(room, auction)
    await session.commit()
    return auction


# --- bids ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bid:
    bidder_id: int
    max_minor: int


@dataclass(frozen=True, slots=True)
class BidAnswer:
    """What one bidder is told."""

    accepted: bool
    leading: bool
    code: str | None = None
    detail: str = ""
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        if not self.accepted and self.code is not None:
            return {"error": {"code": self.code, "detail": self.detail, **self.extra}}
        return {"accepted": True, "leading": self.leading, **self.extra}


def refusal(code: str, detail: str, status: int = 409, **extra: Any) -> BidAnswer:
    return BidAnswer(False, False, code, detail, status, extra)


@dataclass(slots=True)
class BidOutcome:
    auction_id: int
    session_id: int | None
    answers: list[BidAnswer]
    view: dict[str, Any] | None  # the lot's state after the batch (None: nothing changed)


def _lot(row: Any) -> engine.Lot:
    return engine.Lot(
        start_minor=row.start_minor,
        increments=tuple((int(a), int(b)) for a, b in row.increments),
        ends_at=row.ends_at,
        anti_snipe=row.mode == AuctionMode.ANTI_SNIPE,
        snipe=timedelta(seconds=row.snipe_seconds),
        current_minor=row.current_minor,
        leader_id=row.leader_id,
        leader_max_minor=row.leader_max_minor,
        bid_count=row.bid_count,
        extensions=row.extensions,
    )


async def _carded(session: AsyncSession, bidder_ids: set[int]) -> set[int]:
    SavedCard = saved_cards.SavedCard
    rows = await session.scalars(
        select(SavedCard.buyer_id).where(SavedCard.buyer_id.in_(bidder_ids)).distinct()
    )
    return set(rows.all())


async def decide_bids(session: AsyncSession, auction_id: int, bids: Sequence[Bid]) -> BidOutcome:
    """Decide a batch of bids in arrival order, in one transaction (commits)."""
    now = utcnow()
    t = table_of(Auction)
    row = (
        await session.execute(
            update(t)
            .where(
                t.c.id == auction_id,
                t.c.status == AuctionStatus.LIVE,
                t.c.ends_at > now,
            )
            .values(version=t.c.version + 1)
            .returning(t)
        )
    ).one_or_none()
    if row is None:
        await session.rollback()
        found = await session.get(Auction, auction_id)
        if found is None:
            answer = refusal("auction-not-found", f"auction {auction_id} does not exist", 404)
            return BidOutcome(auction_id, None, [answer] * len(bids), None)
        answer = refusal("auction-ended", "the hammer has fallen", 409, auction_status=found.status)
        return BidOutcome(auction_id, found.session_id, [answer] * len(bids), None)
    carded = await _carded(session, {b.bidder_id for b in bids}) if bids else set()
    banned = await bans.banned_among(session, row.creator_id, {b.bidder_id for b in bids})
    lot = before = _lot(row)
    answers: list[BidAnswer] = []
    accepted: list[dict[str, Any]] = []
    for bid in bids:
        if bid.bidder_id == row.creator_id:
            answers.append(refusal("host-cannot-bid", "the host cannot bid on their own lot", 403))
            continue
        if bid.bidder_id in banned:
            answers.append(refusal("banned", "you are banned from this creator's shows", 403))
            continue
        if bid.bidder_id not in carded:
            answers.append(
                refusal(
                    "saved-card-required",
                    "save a card first: the winner is charged when the hammer falls",
                    402,
                )
            )
            continue
        lot, placed = engine.place(lot, bid.bidder_id, bid.max_minor, now)
        if not placed.accepted:
            answers.append(
                refusal(
                    placed.code or "bid-refused",
                    placed.detail,
                    minimum_minor=placed.minimum,
                )
            )
            continue
        accepted.append(
            {
                "auction_id": auction_id,
                "bidder_id": bid.bidder_id,
                "max_minor": bid.max_minor,
                "price_after_minor": lot.current_minor,
                "leading_after": lot.leader_id == bid.bidder_id,
                "placed_at": now,
            }
        )
        answers.append(
            BidAnswer(
                True,
                lot.leader_id == bid.bidder_id,
                extra={
                    "current_minor": lot.current_minor,
                    "minimum_minor": lot.minimum(),
                    "ends_at": lot.ends_at.isoformat(),
                },
            )
        )
    if lot != before:
        await session.execute(
            update(t)
            .where(t.c.id == auction_id)
            .values(
                current_minor=lot.current_minor,
                leader_id=lot.leader_id,
                leader_max_minor=lot.leader_max_minor,
                bid_count=lot.bid_count,
                extensions=lot.extensions,
                ends_at=lot.ends_at,
            )
        )
    if accepted:
        await session.execute(insert(table_of(AuctionBid)), accepted)
    name = await public_name(session, lot.leader_id) if accepted else None
    await session.commit()
    view = None
    if accepted:
        view = announce.bid_fields(
            auction_id=auction_id,
            version=row.version,
            lot=lot,
            leader_name=name,
            currency=row.currency,
            quantity=row.quantity,
        )
    return BidOutcome(auction_id, row.session_id, answers, view)


# --- the hammer and the sale -----------------------------------------------------------


async def due(session: AsyncSession) -> list[int]:
    """Lots whose time is up, and settlements a crash left behind."""
    now = utcnow()
    rows = await session.scalars(
        select(Auction.id).where(
            or_(
                (Auction.status == AuctionStatus.LIVE) & (Auction.ends_at <= now),
                (Auction.status == AuctionStatus.SETTLING)
                & (Auction.settling_since <= now - SETTLE_STALE),
            )
        )
    )
    return list(rows.all())


async def bring_down_hammer(
    session: AsyncSession, auction_id: int, *, room: AfterCommit | None = None
) -> bool:
    """Close the bidding once (``live → settling`` guarded on ``ends_at <= now``), or take
    up a stale settlement. Commits; True if this caller is to settle it."""
    now = utcnow()
    taken = await session.scalar(
        update(Auction)
        .where(
            Auction.id == auction_id,
            or_(
                (Auction.status == AuctionStatus.LIVE) & (Auction.ends_at <= now),
                (Auction.status == AuctionStatus.SETTLING)
                & (Auction.settling_since <= now - SETTLE_STALE),
            ),
        )
        .values(status=AuctionStatus.SETTLING, settling_since=now, version=Auction.version + 1)
        .returning(Auction.id)
        .execution_options(synchronize_session=False)
    )
    if taken is None:
        await session.rollback()
        return False
    auction = await get_auction(session, auction_id)
    if room is not None:
        announce.hammer(room, auction, await public_name(session, auction.leader_id))
    await session.commit()
    return True


@dataclass(frozen=True, slots=True)
class Candidate:
    bidder_id: int
    price_minor: int
    rank: int


async def _candidates(session: AsyncSession, auction: Auction) -> list[Candidate]:
    """Who the lot is offered to, in turn: the leader at the hammer price, then each other
    bidder by their highest bid (the earlier on a tie), at that bid."""
    if auction.leader_id is None:
        return []
    out = [Candidate(auction.leader_id, auction.current_minor, 1)]
    seen = {auction.leader_id}
    rows = await session.execute(
        select(AuctionBid.bidder_id, AuctionBid.max_minor)
        .where(AuctionBid.auction_id == auction.id)
        .order_by(AuctionBid.max_minor.desc(), AuctionBid.id)
    )
    for bidder_id, max_minor in rows:
        if bidder_id not in seen:
            seen.add(bidder_id)
            out.append(Candidate(bidder_id, min(max_minor, auction.current_minor), len(out) + 1))
    return out


def order_key(auction_id: int, bidder_id: int) -> str:
    return f"auction-{auction_id}-{bidder_id}"


async def _offer(session: AsyncSession, auction: Auction, c: Candidate) -> AuctionOffer:
    offer: AuctionOffer | None = await session.scalar(
        select(AuctionOffer).where(
            AuctionOffer.auction_id == auction.id, AuctionOffer.bidder_id == c.bidder_id
        )
    )
    if offer is None:
        offer = AuctionOffer(
            auction_id=auction.id,
            bidder_id=c.bidder_id,
            rank=c.rank,
            price_minor=c.price_minor,
            status=OfferStatus.PENDING,
        )
        session.add(offer)
        await session.commit()
    return offer


async def _place(session: AsyncSession, auction: Auction, offer: AuctionOffer) -> Order:
    """The bidder's order for the lot at the offer's price (or the one already placed)."""
    key = order_key(auction.id, offer.bidder_id)
    existing = await find_by_idempotency_key(session, offer.bidder_id, key)
    if existing is not None:
        return existing
    live = await session.get(LiveSession, auction.session_id)
    assert live is not None and auction.reservation_id is not None
    attribution = await room_attribution(session, live, auction.sku_id)
    ship_to = await default_address_snapshot(session, offer.bidder_id, auction.market_code)
    mine = await inventory.split_reservation(
        session,
        auction.reservation_id,
        quantity=auction.quantity,
        reference=f"auction:{auction.id}:bidder:{offer.bidder_id}",
        hold_for=ORDER_HOLD,
    )

    async def link(order: Order) -> None:
        await session.execute(
            update(AuctionOffer)
            .where(AuctionOffer.id == offer.id)
            .values(order_id=order.id)
            .execution_options(synchronize_session=False)
        )

    placed = await place_order(
        session,
        buyer_id=offer.bidder_id,
        market_code=auction.market_code,
        lines=[
            CheckoutLine(
                sku_id=auction.sku_id,
                quantity=auction.quantity,
                unit_price_minor=offer.price_minor,
                reservation_id=mine.id,
            )
        ],
        idempotency_key=key,
        attribution=attribution,
        hold_for=ORDER_HOLD,
        before_commit=link,
        ship_to=ship_to,
    )
    return placed.order


async def _fail(
    session: AsyncSession,
    provider: PaymentProvider,
    auction: Auction,
    offer: AuctionOffer,
    order_id: int | None,
    why: str,
) -> None:
    if order_id is not None:
        order = await load_order(session, order_id)
        if order.status == "pending_payment":
            await lifecycle.cancel(
                session, provider, order_id, actor_id=None, reason=f"auction payment failed: {why}"
            )
    await session.execute(
        update(AuctionOffer)
        .where(AuctionOffer.id == offer.id)
        .values(status=OfferStatus.FAILED, failure=why[:60])
        .execution_options(synchronize_session=False)
    )
    await notify(
        session,
        offer.bidder_id,
        kind="auction.payment_failed",
        subject=lazy_gettext(
            "Your winning bid on %(title)s could not be charged", title=auction.title
        ),
        body=lazy_gettext(
            "Your saved card was not charged (%(why)s), so the lot went to the next bidder.",
            why=decline_words(why),
        ),
        link=f"/live/{auction.session_id}",
        market_code=auction.market_code,
    )
    await session.commit()


async def settle(
    session: AsyncSession,
    auction_id: int,
    provider: PaymentProvider,
    *,
    notifier: OrderNotifier | None = None,
    room: AfterCommit | None = None,
) -> Auction:
    """Sell a lot whose hammer fell (``bring_down_hammer`` took it): to the leader, or on
    down the bidders while cards fail. Re-runnable; commits as it goes."""
    auction = await get_auction(session, auction_id)
    if auction.status != AuctionStatus.SETTLING:
        return auction
    for c in await _candidates(session, auction):
        offer = await _offer(session, auction, c)
        if offer.status == OfferStatus.FAILED:
            continue
        order_id = offer.order_id
        try:
            order = await _place(session, auction, offer)
            order_id = order.id
            card = await saved_cards.default_card(session, c.bidder_id)
            if card is None:
                raise PaymentDeclined(_("no saved card"), decline_code="no_saved_card")
            order = await payment_flow.pay_order(
                session,
                provider,
                order_id=order.id,
                buyer_id=c.bidder_id,
                card=saved_cards.token_of(card),
                notifier=notifier,
            )
        except PaymentDeclined as exc:
            await session.rollback()
            why = str(exc.extra.get("decline_code") or exc.code)
            await _fail(session, provider, auction, offer, order_id, why)
            auction = await get_auction(session, auction_id)
            continue
        except Problem as exc:  # the order could not be placed (no longer sold there…)
            await session.rollback()
            await _fail(session, provider, auction, offer, order_id, exc.code)
            auction = await get_auction(session, auction_id)
            continue
        return await _sold(session, auction, offer, order, room=room)
    return await _close(session, auction, AuctionStatus.UNSOLD, room=room)


async def _sold(
    session: AsyncSession,
    auction: Auction,
    offer: AuctionOffer,
    order: Order,
    *,
    room: AfterCommit | None,
) -> Auction:
    paid = order.paid_at is not None
    await session.execute(
        update(AuctionOffer)
        .where(AuctionOffer.id == offer.id)
        .values(status=OfferStatus.PAID if paid else OfferStatus.PENDING, order_id=order.id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Auction)
        .where(Auction.id == auction.id, Auction.status == AuctionStatus.SETTLING)
        .values(
            status=AuctionStatus.SOLD,
            winner_id=offer.bidder_id,
            hammer_minor=offer.price_minor,
            order_id=order.id,
            ended_at=utcnow(),
            version=Auction.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if paid and auction.reservation_id is not None:  # what is left of the lot's hold (nothing)
        await inventory.release_reservation(session, auction.reservation_id, reason="auction sold")
    # Not paid yet (a pending card): the lot's (empty) hold stays, so if the order is
    # cancelled unpaid its units go back into it and the runner-up is offered them
    # (``reoffer_unpaid``); once it is paid, ``paid_offers`` releases it.
    await notify(
        session,
        offer.bidder_id,
        kind="auction.won",
        subject=lazy_gettext("You won %(title)s", title=auction.title),
        body=lazy_gettext(
            "Your saved card was charged for order #%(order)s; it ships to your default address.",
            order=order.id,
        )
        if paid
        else lazy_gettext(
            "Your card's payment for order #%(order)s is still pending. If it fails, pay the "
            "order with another card before its hold runs out, or the lot goes to the next "
            "bidder.",
            order=order.id,
        ),
        link=f"/orders/{order.id}" if paid else f"/orders/{order.id}/pay",
        market_code=auction.market_code,
    )
    auction = await get_auction(session, auction.id)
    if room is not None:
        announce.ended(room, auction, await public_name(session, auction.winner_id))
    await session.commit()
    return auction


async def _close(
    session: AsyncSession,
    auction: Auction,
    status: AuctionStatus,
    *,
    room: AfterCommit | None,
    from_statuses: Sequence[str] = (AuctionStatus.SETTLING,),
) -> Auction:
    closed = await session.scalar(
        update(Auction)
        .where(Auction.id == auction.id, Auction.status.in_(list(from_statuses)))
        .values(status=status, ended_at=utcnow(), version=Auction.version + 1)
        .returning(Auction.id)
        .execution_options(synchronize_session=False)
    )
    if closed is None:
        await session.rollback()
        return await get_auction(session, auction.id)
    if auction.reservation_id is not None:
        await inventory.release_reservation(
            session, auction.reservation_id, reason=f"auction {status}"
        )
    auction = await get_auction(session, auction.id)
    if room is not None:
        announce.ended(room, auction, None)
    await session.commit()
    return auction


async def cancel_running(
    session: AsyncSession, session_id: int, *, room: AfterCommit | None = None
) -> Auction | None:
    """The room's lot still taking bids is withdrawn (the room closed, or the host stopped
    it): no sale, its units back on sale. A lot being settled is left to its settlement."""
    auction = await running_auction(session, session_id)
    if auction is None or auction.status != AuctionStatus.LIVE:
        return None
    return await _close(
        session,
        auction,
        AuctionStatus.CANCELLED,
        room=room,
        from_statuses=(AuctionStatus.LIVE,),
    )


async def payment_due(session: AsyncSession, auction: Auction) -> bool:
    """The lot's order awaits its payment (the winner may still pay it another way)."""
    if auction.order_id is None:
        return False
    status = await session.scalar(select(Order.status).where(Order.id == auction.order_id))
    return status == "pending_payment"


async def reoffer_unpaid(session: AsyncSession, order_id: int) -> int | None:
    """The winner's order was cancelled unpaid (their pending card failed and the order's
    hold ran out, or they or staff cancelled it): inside that cancelling transaction (its
    units are already back in the lot's hold), their offer fails and the lot goes back to
    ``settling``, due at once, so the auction clock offers it to the next bidder at their own
    highest bid. Writes, never commits; the auction's id, or None if the order was no lot's.
    Guarded: only a pending offer of a lot sold on that very order moves."""
    failed = await session.scalar(
        update(AuctionOffer)
        .where(AuctionOffer.order_id == order_id, AuctionOffer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.FAILED, failure="order cancelled unpaid")
        .returning(AuctionOffer.auction_id)
        .execution_options(synchronize_session=False)
    )
    if failed is None:
        return None
    reopened = await session.scalar(
        update(Auction)
        .where(
            Auction.id == failed,
            Auction.status == AuctionStatus.SOLD,
            Auction.order_id == order_id,
        )
        .values(
            status=AuctionStatus.SETTLING,
            settling_since=utcnow() - SETTLE_STALE,  # the clock's next tick takes it up
            winner_id=None,
            hammer_minor=None,
            order_id=None,
            ended_at=None,
            version=Auction.version + 1,
        )
        .returning(Auction.title)
        .execution_options(synchronize_session=False)
    )
    if reopened is None:  # not this lot's sale (any more): only the offer is over
        return None
    buyer = (
        await session.execute(select(Order.buyer_id, Order.market_code).where(Order.id == order_id))
    ).first()
    if buyer is not None:
        await notify(
            session,
            buyer.buyer_id,
            kind="auction.payment_failed",
            subject=lazy_gettext(
                "Your winning bid on %(title)s could not be charged", title=reopened
            ),
            body=lazy_gettext(
                "Your order was not paid in time, so the lot went to the next bidder."
            ),
            link=f"/orders/{order_id}",
            market_code=buyer.market_code,
        )
    return int(failed)


async def paid_offers(session: AsyncSession, order_ids: Sequence[int]) -> None:
    """Lots whose winner paid later (a pending card, or another card on the pay page): their
    offer is paid and the lot's (empty) hold is released. In the paying transaction."""
    if not order_ids:
        return
    rows = await session.execute(
        update(AuctionOffer)
        .where(
            AuctionOffer.order_id.in_(list(order_ids)), AuctionOffer.status == OfferStatus.PENDING
        )
        .values(status=OfferStatus.PAID)
        .returning(AuctionOffer.auction_id)
        .execution_options(synchronize_session=False)
    )
    for auction_id in sorted({int(a) for (a,) in rows.all()}):
        hold = await session.scalar(
            select(Auction.reservation_id).where(
                Auction.id == auction_id, Auction.status == AuctionStatus.SOLD
            )
        )
        if hold is not None:
            await inventory.release_reservation(session, hold, reason="auction sold")


def ensure_may_bid_here(auction: Auction, session_id: int | None) -> None:
    if session_id is not None and auction.session_id != session_id:
        raise Forbidden(_("that lot is in another room"), code="auction-elsewhere")
