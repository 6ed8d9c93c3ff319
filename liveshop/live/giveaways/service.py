"""Giveaways in a live room: open one (its unit held from stock, the seed's hash shown),
enter (once, if eligible), draw (the seed revealed, the winner computed by ``draw.winner``
from the published entries) and deliver the prize as a zero-price order.

- **Open** holds one unit (inventory reservation ``giveaway:<id>``, no expiry) and commits
  the seed: only ``SHA-256(seed)`` is public until the draw.
- **Enter**: the eligibility checks (signed in, not a host, a follower / a buyer in this show
  when asked, a default address in the market's country — the prize ships there), then in
  one transaction the guarded UPDATE ``entry_count + 1 WHERE status = 'open' AND closes_at >
  now`` and the entry's INSERT (one per user: the unique constraint is the guard).
- **Draw** is the guarded UPDATE ``open → drawn`` (entries close with it: an entry racing it
  either committed before — and is in the list the draw reads — or finds it drawn).
- **Deliver**: the winner's order (``orders.gifts``), its unit split off the giveaway's
  hold; keyed by the giveaway, so calling it again (a crash between draw and order) makes
  the same order once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.addresses.service import default_address_snapshot
from liveshop.catalog.service import get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from liveshop.core.events import EventType
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext
from liveshop.inventory import service as inventory
from liveshop.inventory.errors import OutOfStock
from liveshop.live import bans
from liveshop.live import service as live_service
from liveshop.live.follows.service import is_following
from liveshop.live.giveaways import draw
from liveshop.live.giveaways.models import Eligibility, Giveaway, GiveawayEntry, GiveawayStatus
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.live.once import commit_once
from liveshop.markets.models import Market
from liveshop.markets.service import get_market
from liveshop.notices.service import notify
from liveshop.orders.gifts import place_gift_order
from liveshop.orders.models import Order
from liveshop.realtime.publish import AfterCommit

MIN_ENTRY_S = 10
MAX_ENTRY_S = 3600


def default_terms() -> str:
    return _(
        "One prize per giveaway, drawn at random from the eligible entries with the published "
        "seed. The winner receives the item free of charge, shipped at the shop's cost to "
        "their default delivery address. No purchase is necessary unless the giveaway is for "
        "buyers in this show. The prize cannot be exchanged for cash."
    )


def terms_of(market: Market) -> str:
    return market.giveaway_terms or default_terms()


async def public_name(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    name: str | None = await session.scalar(select(User.display_name).where(User.id == user_id))
    return name


def fields(giveaway: Giveaway, winner_name: str | None = None) -> dict[str, Any]:
    """The giveaway as rooms show it (events, snapshots). The seed only once drawn."""
    drawn = giveaway.status == GiveawayStatus.DRAWN
    return {
        "giveaway_id": giveaway.id,
        "session_id": giveaway.session_id,
        "product_id": giveaway.product_id,
        "sku_id": giveaway.sku_id,
        "title": giveaway.title,
        "eligibility": giveaway.eligibility,
        "status": giveaway.status,
        "seed_sha256": giveaway.seed_sha256,
        "seed": giveaway.seed if drawn else None,
        "entries": giveaway.entry_count,
        "closes_at": giveaway.closes_at.isoformat(),
        "winner_entry": giveaway.winner_entry if drawn else None,
        "winner_id": giveaway.winner_id if drawn else None,
        "winner_name": winner_name if drawn else None,
        "record_url": f"/giveaways/{giveaway.id}",
    }


async def view(session: AsyncSession, giveaway: Giveaway) -> dict[str, Any]:
    return fields(giveaway, await public_name(session, giveaway.winner_id))


async def get_giveaway(session: AsyncSession, giveaway_id: int) -> Giveaway:
    found = await session.get(Giveaway, giveaway_id, populate_existing=True)
    if found is None:
        raise NotFound(
            _("giveaway %(id)s does not exist", id=giveaway_id), code="giveaway-not-found"
        )
    return found


async def room_giveaway(session: AsyncSession, session_id: int) -> Giveaway | None:
    """The room's latest giveaway that is open or drawn (what a joining viewer sees)."""
    found: Giveaway | None = await session.scalar(
        select(Giveaway)
        .where(
            Giveaway.session_id == session_id,
            Giveaway.status.in_([GiveawayStatus.OPEN, GiveawayStatus.DRAWN]),
        )
        .order_by(Giveaway.id.desc())
        .limit(1)
    )
    return found


async def open_giveaway(
    session: AsyncSession,
    live: LiveSession,
    *,
    sku_id: int,
    eligibility: Eligibility,
    entry_seconds: int,
    actor_id: int,
    room: AfterCommit | None = None,
) -> Giveaway:
    """Open a giveaway of one unit of ``sku_id`` for ``entry_seconds``. Commits; given
    ``room``, ``giveaway_opened`` (with the seed's hash) goes out with the commit."""
    if live.status != SessionStatus.LIVE:
        raise Conflict(_("giveaways run only while the show is live"), code="session-not-live")
    if not MIN_ENTRY_S <= entry_seconds <= MAX_ENTRY_S:
        raise Unprocessable(
            _("entries stay open %(low)s to %(high)s seconds", low=MIN_ENTRY_S, high=MAX_ENTRY_S),
            code="bad-entry-window",
        )
    offer = await get_sku_offer(session, sku_id, live.market_code)
    open_one = await session.scalar(
        select(Giveaway.id).where(
            Giveaway.session_id == live.id, Giveaway.status == GiveawayStatus.OPEN
        )
    )
    if open_one is not None:
        raise Conflict(
            _("this room's giveaway is still open: draw it first"),
            code="giveaway-already-open",
            giveaway_id=open_one,
        )
    market = await get_market(session, live.market_code)
    seed = draw.new_seed()
    now = utcnow()
    giveaway = Giveaway(
        session_id=live.id,
        creator_id=live.creator_id,
        market_code=live.market_code,
        product_id=offer.product_id,
        sku_id=sku_id,
        title=offer.title[:200],
        eligibility=eligibility,
        status=GiveawayStatus.OPEN,
        seed=seed,
        seed_sha256=draw.fingerprint(seed),
        terms=terms_of(market),
        entry_count=0,
        created_by=actor_id,
        opens_at=now,
        closes_at=now + timedelta(seconds=entry_seconds),
    )
    session.add(giveaway)
    await session.flush()
    try:
        hold = await inventory.reserve(
            session, sku_id=sku_id, quantity=1, reference=f"giveaway:{giveaway.id}", hold_for=None
        )
    except OutOfStock as exc:
        await session.rollback()
        raise Conflict(
            _("this product is out of stock: nothing to give away"), code="out-of-stock"
        ) from exc
    giveaway.reservation_id = hold.id
    if room is not None:
        room.publish(live.id, EventType.GIVEAWAY_OPENED, {"giveaway": fields(giveaway)})
    await session.commit()
    return giveaway


# --- entering ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entered:
    giveaway: Giveaway
    public_id: str
    entries: int


async def _check_eligible(
    session: AsyncSession, giveaway: Giveaway, live: LiveSession, user_id: int
) -> None:
    if await live_service.is_host(session, user_id, live):
        raise Forbidden(_("hosts cannot enter their own giveaway"), code="host-cannot-enter")
    if giveaway.eligibility == Eligibility.FOLLOWERS and not await is_following(
        session, user_id, creator_id=live.creator_id
    ):
        raise Forbidden(
            _("this giveaway is for the creator's followers: follow them to enter"),
            code="not-eligible",
            eligibility=giveaway.eligibility,
        )
    if giveaway.eligibility == Eligibility.BUYERS:
        bought = await session.scalar(
            select(Order.id)
            .where(
                Order.buyer_id == user_id,
                Order.live_session_id == live.id,
                Order.paid_at.is_not(None),
            )
            .limit(1)
        )
        if bought is None:
            raise Forbidden(
                _("this giveaway is for buyers in this show: buy something here to enter"),
                code="not-eligible",
                eligibility=giveaway.eligibility,
            )
    if await default_address_snapshot(session, user_id, giveaway.market_code) is None:
        raise Conflict(
            _(
                "add a default delivery address in %(country)s first: the prize ships there",
                country=giveaway.market_code,
            ),
            code="address-required",
        )


async def enter(session: AsyncSession, giveaway_id: int, user_id: int) -> Entered:
    """Enter once (409 ``already-entered`` after that; 409 ``giveaway-closed`` once the
    window is over or it was drawn; 403 ``not-eligible``). Commits."""
    giveaway = await get_giveaway(session, giveaway_id)
    live = await live_service.get_session(session, giveaway.session_id)
    if giveaway.status != GiveawayStatus.OPEN or giveaway.closes_at <= utcnow():
        raise Conflict(_("entries are closed"), code="giveaway-closed")
    mine = await session.scalar(
        select(GiveawayEntry.public_id).where(
            GiveawayEntry.giveaway_id == giveaway_id, GiveawayEntry.user_id == user_id
        )
    )
    if mine is not None:
        raise Conflict(_("you have already entered"), code="already-entered", public_id=mine)
    await bans.refuse_banned(session, live.creator_id, user_id)
    await _check_eligible(session, giveaway, live, user_id)
    public_id = draw.new_public_id()
    count = await session.scalar(
        update(Giveaway)
        .where(
            Giveaway.id == giveaway_id,
            Giveaway.status == GiveawayStatus.OPEN,
            Giveaway.closes_at > utcnow(),
        )
        .values(entry_count=Giveaway.entry_count + 1)
        .returning(Giveaway.entry_count)
        .execution_options(synchronize_session=False)
    )
    if count is None:
        await session.rollback()
        raise Conflict(_("entries are closed"), code="giveaway-closed")
    await commit_once(  # a second entry racing the first (or a public id collision)
        session,
        GiveawayEntry(giveaway_id=giveaway_id, user_id=user_id, public_id=public_id),
        Conflict(_("you have already entered"), code="already-entered"),
    )
    return Entered(giveaway, public_id, int(count))


async def my_entry(session: AsyncSession, giveaway_id: int, user_id: int) -> str | None:
    found: str | None = await session.scalar(
        select(GiveawayEntry.public_id).where(
            GiveawayEntry.giveaway_id == giveaway_id, GiveawayEntry.user_id == user_id
        )
    )
    return found


async def published_entries(session: AsyncSession, giveaway_id: int) -> list[str]:
    """The entries as anyone may see them: public ids, sorted (the draw's input)."""
    rows = await session.scalars(
        select(GiveawayEntry.public_id).where(GiveawayEntry.giveaway_id == giveaway_id)
    )
    return sorted(rows.all())


# --- the draw and the prize ------------------------------------------------------------------


async def draw_giveaway(
    session: AsyncSession, giveaway_id: int, *, room: AfterCommit | None = None
) -> Giveaway:
    """Close the entries and draw, once (409 ``giveaway-not-open`` after). Commits; then
    the prize is delivered (``deliver``)."""
    now = utcnow()
    seed = await session.scalar(
        update(Giveaway)
        .where(Giveaway.id == giveaway_id, Giveaway.status == GiveawayStatus.OPEN)
        .values(status=GiveawayStatus.DRAWN, drawn_at=now, closes_at=now)
        .returning(Giveaway.seed)
        .execution_options(synchronize_session=False)
    )
    if seed is None:
        await session.rollback()
        await get_giveaway(session, giveaway_id)
        raise Conflict(_("this giveaway is not open"), code="giveaway-not-open")
    ids = await published_entries(session, giveaway_id)
    won = draw.winner(seed, ids)
    giveaway = await get_giveaway(session, giveaway_id)
    if won is None:
        if giveaway.reservation_id is not None:
            await inventory.release_reservation(
                session, giveaway.reservation_id, reason="giveaway without entries"
            )
    else:
        winner_id = await session.scalar(
            select(GiveawayEntry.user_id).where(
                GiveawayEntry.giveaway_id == giveaway_id, GiveawayEntry.public_id == won
            )
        )
        giveaway.winner_entry = won
        giveaway.winner_id = winner_id
        await session.flush()
    if room is not None:
        drawn = {"giveaway": await view(session, giveaway)}
        room.publish(giveaway.session_id, EventType.GIVEAWAY_DRAWN, drawn)
    await session.commit()
    return giveaway


async def deliver(session: AsyncSession, giveaway: Giveaway) -> Order | None:
    """The winner's zero-price order, shipped to their default address (the same order
    again when it is made already). Commits."""
    if giveaway.winner_id is None or giveaway.reservation_id is None:
        return None
    if giveaway.order_id is not None:
        return await session.get(Order, giveaway.order_id)
    key = f"giveaway-{giveaway.id}"
    reference = f"giveaway:{giveaway.id}:winner"
    prize = await session.scalar(
        select(inventory.Reservation.id).where(inventory.Reservation.reference == reference)
    )
    if prize is None:
        prize = (
            await inventory.split_reservation(
                session,
                giveaway.reservation_id,
                quantity=1,
                reference=reference,
                hold_for=timedelta(minutes=15),
            )
        ).id
    ship_to = await default_address_snapshot(session, giveaway.winner_id, giveaway.market_code)
    order = await place_gift_order(
        session,
        buyer_id=giveaway.winner_id,
        market_code=giveaway.market_code,
        sku_id=giveaway.sku_id,
        quantity=1,
        reservation_id=prize,
        idempotency_key=key,
        ship_to=ship_to,
        note=f"giveaway #{giveaway.id} prize",
    )
    await session.execute(
        update(Giveaway)
        .where(Giveaway.id == giveaway.id)
        .values(order_id=order.id)
        .execution_options(synchronize_session=False)
    )
    await inventory.release_reservation(session, giveaway.reservation_id, reason="giveaway drawn")
    await notify(
        session,
        giveaway.winner_id,
        kind="giveaway.won",
        subject=lazy_gettext("You won %(title)s!", title=giveaway.title),
        body=lazy_gettext(
            "You won the giveaway in the live show. Order #%(order)s costs you nothing and "
            "ships to your default address.",
            order=order.id,
        ),
        link=f"/orders/{order.id}",
        market_code=giveaway.market_code,
    )
    await session.commit()
    giveaway.order_id = order.id
    return order


async def cancel(
    session: AsyncSession, giveaway_id: int, *, room: AfterCommit | None = None
) -> Giveaway:
    """The host calls an open giveaway off: its unit goes back on sale. Commits."""
    done = await session.scalar(
        update(Giveaway)
        .where(Giveaway.id == giveaway_id, Giveaway.status == GiveawayStatus.OPEN)
        .values(status=GiveawayStatus.CANCELLED, closes_at=utcnow())
        .returning(Giveaway.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        await session.rollback()
        await get_giveaway(session, giveaway_id)
        raise Conflict(_("this giveaway is not open"), code="giveaway-not-open")
    giveaway = await get_giveaway(session, giveaway_id)
    if giveaway.reservation_id is not None:
        await inventory.release_reservation(
            session, giveaway.reservation_id, reason="giveaway cancelled"
        )
    if room is not None:
        room.publish(giveaway.session_id, EventType.GIVEAWAY_DRAWN, {"giveaway": fields(giveaway)})
    await session.commit()
    return giveaway


async def cancel_open(session: AsyncSession, session_ids: Sequence[int]) -> None:
    """A closed room gives nothing away: its open giveaway is cancelled (in the caller's
    transaction; ``session_ended`` closes the room, so no room event)."""
    rows = await session.scalars(
        update(Giveaway)
        .where(Giveaway.session_id.in_(session_ids), Giveaway.status == GiveawayStatus.OPEN)
        .values(status=GiveawayStatus.CANCELLED, closes_at=utcnow())
        .returning(Giveaway.reservation_id)
        .execution_options(synchronize_session=False)
    )
    for reservation_id in rows.all():
        if reservation_id is not None:
            await inventory.release_reservation(
                session, reservation_id, reason="giveaway cancelled: the show closed"
            )
