"""Shelf claims: a tap on a product shown in a live room (pinned, or in the showcase) with no
flash deal holds units for the buyer at the list price, batched like a drop's taps.

The node's desk (``live.deals.desk``) coalesces the taps on one SKU that arrive while its
previous batch is in the database and hands them here in arrival order. One transaction
decides them all in a fixed handful of statements, whatever their number:

1. the session (live?) and the SKU's product (on show in this room?);
2. ``inventory.reserve_batch``: the SKU's stock-level rows locked (``FOR UPDATE``), each tap
   given units from the first warehouse that still has them, first come first served, one
   guarded ``UPDATE`` per level for its total, one multi-row INSERT of the holds and one of
   their movements;
3. one multi-row INSERT of the claims.

An answer goes out only after the commit, so an acknowledged claim survives ``kill -9``. A
claim is a plain reservation of the SKU: the inventory's sweeper releases it when its hold
runs out (units back on sale), the buyer can give it up, and checkout adopts it as the
order line's hold (``checkout_shelf_claim``), priced as any room buy without a deal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.models import Sku
from liveshop.core.clock import utcnow
from liveshop.core.db import table_of
from liveshop.core.errors import Conflict, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.inventory.models import Reservation, ReservationStatus
from liveshop.live import service as live_service
from liveshop.live.deals.claims import Answer, Tap, refused
from liveshop.live.deals.held_order import place_held_order
from liveshop.live.deals.models import ShelfClaim
from liveshop.live.deals.service import room_attribution
from liveshop.live.models import LiveSession, SessionStatus, ShowcaseItem
from liveshop.orders.checkout import PlacedOrder, find_by_idempotency_key
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order
from liveshop.orders.quote import Quote, quote_order

HOLD = timedelta(minutes=5)  # how long a shelf claim holds its units: pay within this


@dataclass(slots=True)
class ShelfOutcome:
    answers: list[Answer]
    session_id: int
    sku_id: int
    product_id: int | None = None
    available: int = 0  # the SKU's units left after the batch (all warehouses)
    best: int = 0  # the most one tap could still get (one warehouse per hold)
    version: int = 0  # orders the figures of one SKU from any node (``BatchReserved``)
    closed: bool = False  # the room does not sell this SKU (not live, not on show)


def sold_out(session_id: int, sku_id: int, best: int = 0) -> Answer:
    return refused(
        "sold-out",
        "sold out: every unit is taken (units not paid in time come back)",
        session_id=session_id,
        sku_id=sku_id,
        available=best,
    )


async def on_show(session: AsyncSession, live: LiveSession, sku_id: int) -> int | None:
    """The SKU's product when it is pinned or in the session's showcase, else None."""
    product_id = await session.scalar(select(Sku.product_id).where(Sku.id == sku_id))
    if product_id is None:
        return None
    if live.pinned_product_id == product_id:
        return int(product_id)
    shown = await session.scalar(
        select(ShowcaseItem.id).where(
            ShowcaseItem.session_id == live.id, ShowcaseItem.product_id == product_id
        )
    )
    return int(product_id) if shown is not None else None


async def decide(
    session: AsyncSession,
    session_id: int,
    sku_id: int,
    taps: Sequence[Tap],
    *,
    now: datetime | None = None,
) -> ShelfOutcome:
    """Decide ``taps`` (arrival order) on one SKU of a live room in one transaction; commits."""
    now = now or utcnow()
    try:
        outcome = await _decide(session, session_id, sku_id, list(taps), now)
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return outcome


async def _decide(
    session: AsyncSession, session_id: int, sku_id: int, taps: list[Tap], now: datetime
) -> ShelfOutcome:
    outcome = ShelfOutcome(answers=[], session_id=session_id, sku_id=sku_id)
    live = await session.get(LiveSession, session_id)
    if live is None:
        outcome.closed = True
        outcome.answers = [
            refused("session-not-found", f"live session {session_id} does not exist")
        ] * len(taps)
        return outcome
    if live.status != SessionStatus.LIVE:
        outcome.closed = True
        outcome.answers = [
            refused("session-not-live", "this show is not live: buy from the product page")
        ] * len(taps)
        return outcome
    product_id = await on_show(session, live, sku_id)
    if product_id is None:
        outcome.closed = True
        outcome.answers = [
            refused("not-on-show", f"SKU {sku_id} is not on show in this room", sku_id=sku_id)
        ] * len(taps)
        return outcome
    outcome.product_id = product_id
    expires_at = now + HOLD
    reserved = await inventory.reserve_batch(
        session,
        sku_id,
        [(t.quantity, f"shelf:{session_id}:buyer:{t.buyer_id}") for t in taps],
        expires_at=expires_at,
    )
    outcome.available, outcome.best, outcome.version = (
        reserved.available,
        reserved.best,
        reserved.version,
    )
    granted = [(tap, rid) for tap, rid in zip(taps, reserved.ids, strict=True) if rid is not None]
    claim_ids: list[int] = []
    if granted:
        table = table_of(ShelfClaim)
        claim_ids = list(
            (
                await session.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "session_id": session_id,
                            "sku_id": sku_id,
                            "product_id": product_id,
                            "buyer_id": tap.buyer_id,
                            "reservation_id": rid,
                            "quantity": tap.quantity,
                            "expires_at": expires_at,
                            "order_id": None,
                            "created_at": now,
                        }
                        for tap, rid in granted
                    ],
                )
            )
            .scalars()
            .all()
        )
    made = iter(claim_ids)
    hold_s = int(HOLD.total_seconds())
    for tap, rid in zip(taps, reserved.ids, strict=True):
        if rid is None:
            outcome.answers.append(sold_out(session_id, sku_id, reserved.best))
            continue
        outcome.answers.append(
            Answer(
                status="held",
                claim_id=next(made),
                quantity=tap.quantity,
                expires_at=expires_at,
                extra={
                    "kind": "shelf",
                    "session_id": session_id,
                    "sku_id": sku_id,
                    "pay_within_s": hold_s,
                },
            )
        )
    return outcome


# --- after the tap ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShelfClaimView:
    claim: ShelfClaim
    status: str  # held, ordered, expired or released
    pay_within_s: int


async def get_shelf_claim(session: AsyncSession, claim_id: int, buyer_id: int) -> ShelfClaim:
    claim = await session.get(ShelfClaim, claim_id, populate_existing=True)
    if claim is None or claim.buyer_id != buyer_id:
        raise NotFound(
            _("claim %(claim_id)s does not exist", claim_id=claim_id), code="claim-not-found"
        )
    return claim


async def view(
    session: AsyncSession, claim: ShelfClaim, *, now: datetime | None = None
) -> ShelfClaimView:
    now = now or utcnow()
    if claim.order_id is not None:
        return ShelfClaimView(claim, "ordered", 0)
    res = await inventory.get_reservation(session, claim.reservation_id)
    if res.status == ReservationStatus.HELD and claim.expires_at > now:
        return ShelfClaimView(claim, "held", int((claim.expires_at - now).total_seconds()))
    return ShelfClaimView(
        claim, "released" if res.status == ReservationStatus.RELEASED else "expired", 0
    )


def claim_key(claim_id: int) -> str:
    return f"shelf-claim-{claim_id}"


def _expired(claim_id: int) -> Conflict:
    return Conflict(
        _("this claim's hold has run out: its units went back on sale"),
        code="claim-expired",
        claim_id=claim_id,
    )


async def checkout_shelf_claim(
    session: AsyncSession,
    claim_id: int,
    *,
    buyer_id: int,
    expected_total_minor: int | None = None,
    address_id: int | None = None,
    coupon_code: str | None = None,
) -> PlacedOrder:
    """The claim's order (created now, or the one it already became), at the price any room
    buy without a deal pays (with the shop's coupon ``coupon_code`` when given), attributed to
    the show. Commits. The claim's hold becomes the
    order line's hold, running out when the claim's would have."""
    claim = await get_shelf_claim(session, claim_id, buyer_id)
    key = claim_key(claim.id)
    existing = await find_by_idempotency_key(session, buyer_id, key)
    if existing is not None:
        return PlacedOrder(order=existing, replayed=True)
    now = utcnow()
    res = await inventory.get_reservation(session, claim.reservation_id)
    if res.status != ReservationStatus.HELD or claim.expires_at <= now:
        raise _expired(claim.id)
    live = await live_service.get_session(session, claim.session_id)

    async def link(order: Order) -> None:  # in the order's own transaction
        linked = await session.scalar(
            update(ShelfClaim)
            .where(
                ShelfClaim.id == claim.id,
                ShelfClaim.order_id.is_(None),
                ShelfClaim.expires_at > now,  # not given up meanwhile (``give_up``)
            )
            .values(order_id=order.id)
            .returning(ShelfClaim.id)
            .execution_options(synchronize_session=False)
        )
        if linked is None:  # another checkout of this claim won (unique key: not reached)
            raise _expired(claim.id)
        held = await session.scalar(
            select(Reservation.id).where(
                Reservation.id == claim.reservation_id,
                Reservation.status == ReservationStatus.HELD,
            )
        )
        if held is None:  # the sweeper released it meanwhile
            raise _expired(claim.id)

    line = CheckoutLine(
        sku_id=claim.sku_id, quantity=claim.quantity, reservation_id=claim.reservation_id
    )
    return await place_held_order(
        session,
        live,
        line,
        buyer_id=buyer_id,
        key=key,
        hold_for=claim.expires_at - now,
        link=link,
        expected_total_minor=expected_total_minor,
        address_id=address_id,
        coupon_code=coupon_code,
    )


async def quote_shelf_claim(
    session: AsyncSession, claim_id: int, *, buyer_id: int, coupon_code: str | None = None
) -> Quote:
    """What checking out the held claim would charge now; nothing is taken."""
    claim = await get_shelf_claim(session, claim_id, buyer_id)
    state = await view(session, claim)
    if state.status not in ("held", "ordered"):
        raise _expired(claim.id)
    live = await live_service.get_session(session, claim.session_id)
    return await quote_order(
        session,
        buyer_id=buyer_id,
        market_code=live.market_code,
        lines=[CheckoutLine(sku_id=claim.sku_id, quantity=claim.quantity)],
        attribution=await room_attribution(session, live, claim.sku_id),
        coupon_code=coupon_code,
    )


async def give_up(session: AsyncSession, claim_id: int, buyer_id: int) -> ShelfClaim:
    """The buyer lets a held claim go (commits): its units are on sale again at once.

    The claim's row is ended first by a guarded UPDATE (not checked out, not run out), the
    same row a checkout links its order to under the opposite guard, so a give-up and a
    checkout racing for one claim cannot both win."""
    claim = await get_shelf_claim(session, claim_id, buyer_id)
    now = utcnow()
    ended = await session.scalar(
        update(ShelfClaim)
        .where(
            ShelfClaim.id == claim.id,
            ShelfClaim.order_id.is_(None),
            ShelfClaim.expires_at > now,
        )
        .values(expires_at=now)
        .returning(ShelfClaim.id)
        .execution_options(synchronize_session=False)
    )
    if ended is None or not await inventory.release_reservation(
        session, claim.reservation_id, reason="claim given up by the buyer"
    ):
        await session.rollback()
        raise Conflict(
            _("only a held claim can be given up"), code="claim-not-held", claim_id=claim_id
        )
    await session.commit()
    return claim
