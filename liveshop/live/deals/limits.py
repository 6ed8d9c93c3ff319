"""Per-buyer limits on flash deals: how many of a deal's units one buyer may take.

The creator (or their moderator) may cap what one buyer takes from a deal when it starts
(``FlashDeal.per_buyer_limit``, 1..units, fixed for the deal's life). A buyer's units of a
limited deal live in one ``flash_deal_buyers`` row, moved only by guarded statements inside
the buy's own transaction:

- the row is inserted with 0 units on the buyer's first tap (``ON CONFLICT DO NOTHING`` on
  the (deal, buyer) primary key), then
- ``UPDATE … SET units = units + n WHERE … AND units + n <= limit`` claims the tap's units.

The database decides (the row lock serialises one buyer's concurrent taps; no count is read
into Python and written back), so a buyer tapping on two connections at once never ends up
with more than the limit. The claim commits or rolls back with the order and the deal units it
takes: a refused or failed buy leaves the allowance as it was.

What counts, and what comes back. Like the flash sales of TikTok Shop and Shopee, the limit
counts a buyer's *purchases* of the deal: units held for a pending order and units paid for.

- An order cancelled **before it was paid** (by the buyer, by staff, or because its hold ran
  out: ``orders.events.OrderCancelledUnpaid``) bought nothing; its units went back into the
  deal for anyone to buy, so they come back to the buyer's allowance in the same transaction.
- A **refund** (a paid order's cancellation included) does **not** give the allowance back.
  A refunded unit goes back to the shop's ordinary stock, not into the deal, and usually long
  after the drop; giving the allowance back would let "buy the limit, refund, buy the limit
  again" take more of the deal's scarce units than any other viewer could — the unfairness
  the limit exists to stop.
- A pending order that is paid late after its hold expired keeps its units counted (it is
  still the buyer's order until it is cancelled).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live.deals.models import FlashDeal, FlashDealBuyer
from liveshop.orders.events import OrderCancelledUnpaid

LIMIT_REACHED = "deal-limit-reached"


def check_limit(per_buyer_limit: int | None, units: int) -> None:
    """A limit is 1..units (a limit above the deal's units would limit nothing)."""
    if per_buyer_limit is not None and not 1 <= per_buyer_limit <= units:
        raise Unprocessable(
            _("the per-buyer limit must be 1 to %(units)s (the deal's units)", units=units),
            code="bad-per-buyer-limit",
            units=units,
        )


def check_product_limit(per_product_limit: int | None) -> None:
    if per_product_limit is not None and not 1 <= per_product_limit <= 10_000:
        raise Unprocessable(
            _("the per-product limit must be 1 to 10000"), code="bad-per-product-limit"
        )


def limited(deal: FlashDeal) -> bool:
    return deal.per_buyer_limit is not None or deal.per_product_limit is not None


async def product_units(
    session: AsyncSession, deal: FlashDeal, buyer_ids: list[int]
) -> dict[int, int]:
    """Units each buyer holds or bought on the show's *other* deals of this deal's product
    (what a per-product limit counts besides this deal)."""
    if deal.per_product_limit is None or not buyer_ids:
        return {}
    rows = await session.execute(
        select(FlashDealBuyer.buyer_id, func.sum(FlashDealBuyer.units))
        .join(FlashDeal, FlashDeal.id == FlashDealBuyer.deal_id)
        .where(
            FlashDeal.session_id == deal.session_id,
            FlashDeal.product_id == deal.product_id,
            FlashDeal.id != deal.id,
            FlashDealBuyer.buyer_id.in_(sorted(set(buyer_ids))),
        )
        .group_by(FlashDealBuyer.buyer_id)
    )
    return {int(b): int(u or 0) for b, u in rows.all()}


def room_left(deal: FlashDeal, here: int, elsewhere: int) -> int | None:
    """What a buyer with ``here`` units of this deal and ``elsewhere`` of its product's other
    deals may still take (None: no limit applies)."""
    lefts = []
    if deal.per_buyer_limit is not None:
        lefts.append(deal.per_buyer_limit - here)
    if deal.per_product_limit is not None:
        lefts.append(deal.per_product_limit - here - elsewhere)
    return max(0, min(lefts)) if lefts else None


async def units_taken(session: AsyncSession, deal_id: int, buyer_id: int) -> int:
    taken = await session.scalar(
        select(FlashDealBuyer.units).where(
            FlashDealBuyer.deal_id == deal_id, FlashDealBuyer.buyer_id == buyer_id
        )
    )
    return int(taken or 0)


async def remaining_for(session: AsyncSession, deal: FlashDeal, buyer_id: int | None) -> int | None:
    """Units this buyer may still take from the deal (None: no limit, or nobody signed in)."""
    if not limited(deal) or buyer_id is None:
        return None
    elsewhere = (await product_units(session, deal, [buyer_id])).get(buyer_id, 0)
    return room_left(deal, await units_taken(session, deal.id, buyer_id), elsewhere)


def limit_reached(deal: FlashDeal, remaining: int) -> Conflict:
    """409 ``deal-limit-reached``: the limit, and how many this buyer may still take."""
    more = (
        _("you may buy %(remaining)s more", remaining=remaining)
        if remaining
        else _("you have reached it")
    )
    return Conflict(
        _("%(limit)s: %(more)s", limit=limit_text(deal), more=more),
        code=LIMIT_REACHED,
        deal_id=deal.id,
        per_buyer_limit=deal.per_buyer_limit,
        per_product_limit=deal.per_product_limit,
        remaining=remaining,
    )


def limit_text(deal: FlashDeal) -> str:
    parts = []
    if deal.per_buyer_limit is not None:
        parts.append(_("%(limit)s per buyer", limit=deal.per_buyer_limit))
    if deal.per_product_limit is not None:
        parts.append(
            _("%(limit)s of this product per buyer in this show", limit=deal.per_product_limit)
        )
    return _("this flash deal is limited to %(limits)s", limits=_(" and ").join(parts))


async def check_allowance(
    session: AsyncSession, deal: FlashDeal, buyer_id: int | None, quantity: int
) -> None:
    """What :func:`claim_allowance` would answer now, read-only (for a quote)."""
    remaining = await remaining_for(session, deal, buyer_id)
    if remaining is not None and quantity > remaining:
        raise limit_reached(deal, remaining)
    most = room_left(deal, 0, 0)
    if most is not None and quantity > most:
        raise limit_reached(deal, most)


async def claim_allowance(
    session: AsyncSession, deal: FlashDeal, buyer_id: int, quantity: int
) -> None:
    """Count ``quantity`` units against the buyer's limit, or raise 409 ``deal-limit-reached``
    (after rolling back: nothing of the buy is kept). Flushes; the buy commits."""
    if not limited(deal):
        return
    limit = deal.per_buyer_limit
    if deal.per_product_limit is not None:
        # Across deals no single row can guard it: the deal's row lock queues this deal's buys
        # (the show runs one deal at a time; other deals' units only ever go down meanwhile).
        await session.execute(select(FlashDeal.id).where(FlashDeal.id == deal.id).with_for_update())
        elsewhere = (await product_units(session, deal, [buyer_id])).get(buyer_id, 0)
        here = await units_taken(session, deal.id, buyer_id)
        left = room_left(deal, here, elsewhere)
        if left is not None and quantity > left:
            refusal = limit_reached(deal, left)
            await session.rollback()
            raise refusal
    insert: Any = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    await session.execute(
        insert(FlashDealBuyer)
        .values(deal_id=deal.id, buyer_id=buyer_id, units=0)
        .on_conflict_do_nothing(index_elements=["deal_id", "buyer_id"])
    )
    guard = [] if limit is None else [FlashDealBuyer.units + quantity <= limit]
    claimed = await session.execute(
        update(FlashDealBuyer)
        .where(
            FlashDealBuyer.deal_id == deal.id,
            FlashDealBuyer.buyer_id == buyer_id,
            *guard,
        )
        .values(units=FlashDealBuyer.units + quantity)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) == 1:
        return
    refusal = limit_reached(
        deal, max(0, (limit or 0) - await units_taken(session, deal.id, buyer_id))
    )
    await session.rollback()  # built first: the rollback expires ``deal``
    raise refusal


async def give_back_unpaid(session: AsyncSession, event: OrderCancelledUnpaid) -> None:
    """An unpaid order was cancelled: its deal units return to the buyer's allowance (in the
    cancelling transaction; see the module docstring for why a refund does not)."""
    for line in event.deal_units:
        await session.execute(
            update(FlashDealBuyer)
            .where(
                FlashDealBuyer.deal_id == line.deal_id,
                FlashDealBuyer.buyer_id == event.buyer_id,
                FlashDealBuyer.units >= line.quantity,
            )
            .values(units=FlashDealBuyer.units - line.quantity)
            .execution_options(synchronize_session=False)
        )
