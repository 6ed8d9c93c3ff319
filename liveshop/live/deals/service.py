"""Flash deals and buying in the room.

A deal allocates units from real stock by holding them (inventory reservation ``deal:<id>``,
no expiry). A buyer's tap splits their units off that hold inside the checkout transaction
(``inventory.split_reservation``: a conditional UPDATE on the hold's quantity), then the
normal checkout and payment run with the deal price and the session's creator as
attribution. The deal can therefore never sell more than it allocated, and the allocation
never more than the stock. When the deal ends, whatever is still held goes back on sale;
a buyer's unpaid units that expire go back into the deal while it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.addresses.service import address_snapshot, default_address_snapshot
from liveshop.affiliates.rates import creator_rates_for
from liveshop.catalog.service import get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Problem, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.inventory.errors import OutOfStock
from liveshop.live.deals import announce, expiry, limits, lottery
from liveshop.live.deals.models import (
    DealEndReason,
    DealEntry,
    DealPolicy,
    DealStatus,
    EntryStatus,
    FlashDeal,
)
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.orders.checkout import PlacedOrder, find_by_idempotency_key, place_order
from liveshop.orders.lines import Attribution, CheckoutLine
from liveshop.orders.quote import Quote, quote_order
from liveshop.realtime.publish import AfterCommit

MIN_DURATION = timedelta(seconds=10)
MAX_DURATION = timedelta(hours=2)
MAX_UNITS = 10_000
DEFAULT_CLAIM_HOLD = timedelta(minutes=5)
MIN_CLAIM_HOLD = timedelta(minutes=1)
MAX_CLAIM_HOLD = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class DealView:
    deal: FlashDeal
    available: int  # units of the allocation not yet taken by a buyer

    def to_event(self) -> dict[str, object]:
        return deal_event(self)


def deal_event(view: DealView) -> dict[str, object]:
    """The deal as the room's ``deal_started`` event carries it (for snapshots)."""
    d = view.deal
    return {
        "deal_id": d.id,
        "product_id": d.product_id,
        "sku_id": d.sku_id,
        "price_minor": d.price_minor,
        "regular_price_minor": d.regular_price_minor,
        "currency": d.currency,
        "units": d.units,
        "per_buyer_limit": d.per_buyer_limit,
        "per_product_limit": d.per_product_limit,
        "available": view.available,
        "ends_at": d.ends_at.isoformat(),
        **announce.drop_fields(d),
    }


async def get_deal(session: AsyncSession, deal_id: int) -> FlashDeal:
    deal = await session.get(FlashDeal, deal_id, populate_existing=True)
    if deal is None:
        raise NotFound(
            _("flash deal %(deal_id)s does not exist", deal_id=deal_id), code="deal-not-found"
        )
    return deal


async def deal_available(session: AsyncSession, deal: FlashDeal) -> int:
    if deal.status != DealStatus.ACTIVE or deal.reservation_id is None:
        return 0
    hold = await inventory.get_reservation(session, deal.reservation_id)
    return hold.quantity if hold.status == inventory.ReservationStatus.HELD else 0


async def active_deal(session: AsyncSession, session_id: int) -> DealView | None:
    deal = await session.scalar(
        select(FlashDeal).where(
            FlashDeal.session_id == session_id, FlashDeal.status == DealStatus.ACTIVE
        )
    )
    if deal is None:
        return None
    return DealView(deal=deal, available=await deal_available(session, deal))


async def start_deal(
    session: AsyncSession,
    live: LiveSession,
    *,
    sku_id: int,
    price_minor: int,
    units: int,
    duration: timedelta,
    actor_id: int,
    per_buyer_limit: int | None = None,
    per_product_limit: int | None = None,
    policy: DealPolicy = DealPolicy.HOLD_THEN_PAY,
    hold: timedelta = DEFAULT_CLAIM_HOLD,
    entry_window: timedelta | None = None,
    room: AfterCommit | None = None,
) -> DealView:
    """Allocate ``units`` of real stock at ``price_minor`` for ``duration``, at most
    ``per_buyer_limit`` of them to one buyer (``live.deals.limits``), shared by ``policy``
    (a claim holds units for ``hold``; a lottery takes entries for ``entry_window`` then
    draws) — all fixed from now on. Commits; given ``room``, ``deal_started`` goes out with
    the commit."""
    if live.status != SessionStatus.LIVE:
        raise Conflict(_("flash deals run only while the session is live"), code="session-not-live")
    if not 1 <= units <= MAX_UNITS:
        raise Unprocessable(
            _("units must be 1 to %(max_units)s", max_units=MAX_UNITS), code="bad-quantity"
        )
    limits.check_limit(per_buyer_limit, units)
    limits.check_product_limit(per_product_limit)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise Unprocessable(_("a deal lasts 10 seconds to 2 hours"), code="bad-duration")
    if not MIN_CLAIM_HOLD <= hold <= MAX_CLAIM_HOLD:
        raise Unprocessable(_("a claim holds units for 1 to 30 minutes"), code="bad-hold")
    draw_after = lottery.entry_window(policy, entry_window, duration)
    offer = await get_sku_offer(session, sku_id, live.market_code)
    if not 0 < price_minor <= offer.price_minor:
        raise Unprocessable(
            _("the deal price must be above 0 and at most the regular price"),
            code="bad-deal-price",
            regular_price_minor=offer.price_minor,
        )
    now = utcnow()
    running = await active_deal(session, live.id)
    if running is not None and running.deal.ends_at <= now:
        # Its time is up and only its grace (``expiry``) runs: the host has moved on.
        await end_deal(session, running.deal.id, reason=DealEndReason.EXPIRED, room=room)
        running = await active_deal(session, live.id)
    if running is not None:
        raise Conflict(_("end the running flash deal first"), code="deal-already-running")
    deal = FlashDeal(
        session_id=live.id,
        product_id=offer.product_id,
        sku_id=sku_id,
        price_minor=price_minor,
        regular_price_minor=offer.price_minor,
        currency=offer.currency,
        units=units,
        per_buyer_limit=per_buyer_limit,
        per_product_limit=per_product_limit,
        created_by=actor_id,
        starts_at=now,
        ends_at=now + duration,
        policy=policy,
        hold_seconds=int(hold.total_seconds()),
    )
    if draw_after is not None:
        lottery.commit_seed(deal, draw_at=now + draw_after)
    session.add(deal)
    await session.flush()
    try:
        allocation = await inventory.reserve(
            session, sku_id=sku_id, quantity=units, reference=f"deal:{deal.id}", hold_for=None
        )
    except OutOfStock as exc:
        await session.rollback()
        raise Conflict(
            _("only %(get)s unit(s) in stock for this deal", get=exc.extra.get("available", 0)),
            code="out-of-stock",
            available=exc.extra.get("available", 0),
        ) from exc
    deal.reservation_id = allocation.id
    if room is not None:
        announce.deal_started(room, deal)
    await session.commit()
    return DealView(deal=deal, available=units)


async def end_deal(
    session: AsyncSession,
    deal_id: int,
    *,
    reason: DealEndReason,
    room: AfterCommit | None = None,
) -> DealView | None:
    """End an active deal once (None if it had already ended); unsold units go back on sale.
    Given ``room``, ``deal_ended`` goes out with the commit."""
    claimed = await session.execute(
        update(FlashDeal)
        .where(FlashDeal.id == deal_id, FlashDeal.status == DealStatus.ACTIVE)
        .values(status=DealStatus.ENDED, end_reason=reason, ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        await session.rollback()
        return None
    deal = await get_deal(session, deal_id)
    if deal.reservation_id is not None:
        await inventory.release_reservation(session, deal.reservation_id, reason=f"deal {reason}")
    await session.execute(
        update(DealEntry)
        .where(DealEntry.deal_id == deal_id, DealEntry.status == EntryStatus.WAITING)
        .values(status=EntryStatus.CLOSED)
        .execution_options(synchronize_session=False)
    )
    if room is not None:
        announce.deal_ended(room, deal)
    await session.commit()
    return DealView(deal=deal, available=0)


async def expired_deal_ids(session: AsyncSession) -> Sequence[int]:
    rows = await session.scalars(
        select(FlashDeal.id).where(
            FlashDeal.status == DealStatus.ACTIVE,
            FlashDeal.ends_at <= utcnow() - expiry.grace(),
        )
    )
    return rows.all()


def _ensure_shoppable(live: LiveSession) -> None:
    """A live show sells, and so does its replay; a scheduled or cancelled one does not."""
    if live.status not in (SessionStatus.LIVE, SessionStatus.ENDED):
        raise Conflict(_("this session is not live"), code="session-not-live")


async def room_attribution(session: AsyncSession, live: LiveSession, sku_id: int) -> Attribution:
    """This session and its creator, at the commission in force now per the shop's plans."""
    try:
        rates = await creator_rates_for(
            session, creator_id=live.creator_id, market_code=live.market_code, sku_ids=[sku_id]
        )
    except Problem:
        rates = None  # not on sale here: checkout refuses the line with the catalog's problem
    return Attribution(live_session_id=live.id, creator_id=live.creator_id, creator_rates=rates)


def _open_deal_hold(deal: FlashDeal, live: LiveSession, sku_id: int) -> int:
    """The running deal's hold (its units not yet taken), or the 4xx a tap on it gets."""
    if deal.session_id != live.id or deal.sku_id != sku_id:
        raise Unprocessable(_("that deal is not for this product here"), code="deal-mismatch")
    if not expiry.taking(deal, utcnow()) or deal.reservation_id is None:
        raise Conflict(_("this flash deal has ended"), code="deal-ended")
    return deal.reservation_id


async def quote_in_room(
    session: AsyncSession,
    live: LiveSession,
    *,
    buyer_id: int | None,
    sku_id: int,
    quantity: int,
    deal_id: int | None = None,
    coupon_code: str | None = None,
) -> Quote:
    """What :func:`buy_in_room` with the same arguments would charge now: the same checks,
    attribution and checkout pricing, run dry (no stock, deal units, budget or order taken).
    A deal's per-buyer limit is checked for ``buyer_id`` (409 ``deal-limit-reached``)."""
    _ensure_shoppable(live)
    attribution = await room_attribution(session, live, sku_id)
    line = CheckoutLine(sku_id=sku_id, quantity=quantity)
    if deal_id is not None:
        deal = await get_deal(session, deal_id)
        _open_deal_hold(deal, live, sku_id)
        await limits.check_allowance(session, deal, buyer_id, quantity)
        if await deal_available(session, deal) < quantity:
            raise Conflict(_("the flash deal is sold out"), code="deal-sold-out", deal_id=deal_id)
        line = CheckoutLine(
            sku_id=sku_id, quantity=quantity, unit_price_minor=deal.price_minor, deal_id=deal.id
        )
    return await quote_order(
        session,
        buyer_id=buyer_id,
        market_code=live.market_code,
        lines=[line],
        attribution=attribution,
        coupon_code=coupon_code,
    )


async def buy_in_room(
    session: AsyncSession,
    live: LiveSession,
    *,
    buyer_id: int,
    sku_id: int,
    quantity: int,
    idempotency_key: str,
    deal_id: int | None = None,
    hold_for: timedelta | None = None,
    expected_total_minor: int | None = None,
    address_id: int | None = None,
    coupon_code: str | None = None,
) -> PlacedOrder:
    """Check out in the room: at the deal price out of the deal's allocation, or at the normal
    price, always attributed to this session and its creator. Commits (or rolls back).
    A limited deal counts the units against the buyer's limit in the same transaction, before
    the deal's (hot) hold is touched: over the limit is 409 ``deal-limit-reached``.
    ``expected_total_minor``: the total a quote showed; any other is refused (409).
    ``address_id``: one of the buyer's addresses in the market's country (chosen in the buy
    sheet); without it their default there. The order keeps a copy of it.
    ``coupon_code``: the shop's coupon the buyer typed (priced by the checkout, as a quote
    with the same code shows it)."""
    _ensure_shoppable(live)
    attribution = await room_attribution(session, live, sku_id)
    ship_to = (
        await default_address_snapshot(session, buyer_id, live.market_code)
        if address_id is None
        else await address_snapshot(session, buyer_id, address_id, live.market_code)
    )
    if deal_id is None:
        return await place_order(
            session,
            buyer_id=buyer_id,
            market_code=live.market_code,
            lines=[CheckoutLine(sku_id=sku_id, quantity=quantity)],
            idempotency_key=idempotency_key,
            attribution=attribution,
            hold_for=hold_for,
            expected_total_minor=expected_total_minor,
            ship_to=ship_to,
            coupon_code=coupon_code,
        )
    deal = await get_deal(session, deal_id)
    line = CheckoutLine(
        sku_id=sku_id, quantity=quantity, unit_price_minor=deal.price_minor, deal_id=deal.id
    )
    existing = await find_by_idempotency_key(session, buyer_id, idempotency_key)
    if existing is not None:  # a retried tap: replay (or 409) without touching the deal
        return await place_order(
            session,
            buyer_id=buyer_id,
            market_code=live.market_code,
            lines=[line],
            idempotency_key=idempotency_key,
            attribution=attribution,
            hold_for=hold_for,
            coupon_code=coupon_code,
        )
    hold = _open_deal_hold(deal, live, sku_id)
    if deal.policy in (DealPolicy.QUEUE, DealPolicy.LOTTERY):
        raise Conflict(
            _(
                "this drop is a %(replace)s: tap to claim your place first (POST /api/v1/live/deals/{id}/claim), then pay the claim",  # noqa: E501
                replace=deal.policy.replace("_", " "),
            ),
            code="claim-first",
            deal_id=deal.id,
            policy=deal.policy,
        )
    await limits.claim_allowance(session, deal, buyer_id, quantity)
    try:
        mine = await inventory.split_reservation(
            session,
            hold,
            quantity=quantity,
            reference=f"deal:{deal.id}:buyer:{buyer_id}",
            hold_for=hold_for or inventory.DEFAULT_HOLD,
        )
    except OutOfStock as exc:
        await session.rollback()
        raise Conflict(
            _("the flash deal is sold out"), code="deal-sold-out", deal_id=deal_id
        ) from exc
    return await place_order(
        session,
        buyer_id=buyer_id,
        market_code=live.market_code,
        lines=[
            CheckoutLine(
                sku_id=sku_id,
                quantity=quantity,
                unit_price_minor=deal.price_minor,
                deal_id=deal.id,
                reservation_id=mine.id,
            )
        ],
        idempotency_key=idempotency_key,
        attribution=attribution,
        hold_for=hold_for,
        ship_to=ship_to,
        expected_total_minor=expected_total_minor,
        coupon_code=coupon_code,
    )


async def record_deal_sale(session: AsyncSession, deal_id: int, quantity: int) -> None:
    """Count paid deal units (flushes; the caller commits)."""
    await session.execute(
        update(FlashDeal)
        .where(FlashDeal.id == deal_id, FlashDeal.sold + quantity <= FlashDeal.units)
        .values(sold=FlashDeal.sold + quantity)
        .execution_options(synchronize_session=False)
    )
