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

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Conflict, Unprocessable
from liveshop.live.deals.models import FlashDeal, FlashDealBuyer
from liveshop.orders.events import OrderCancelledUnpaid

LIMIT_REACHED = "deal-limit-reached"


def check_limit(per_buyer_limit: int | None, units: int) -> None:
    """A limit is 1..units (a limit above the deal's units would limit nothing)."""
    if per_buyer_limit is not None and not 1 <= per_buyer_limit <= units:
        raise Unprocessable(
            f"the per-buyer limit must be 1 to {units} (the deal's units)",
            code="bad-per-buyer-limit",
            units=units,
        )


async def units_taken(session: AsyncSession, deal_id: int, buyer_id: int) -> int:
    taken = await session.scalar(
        select(FlashDealBuyer.units).where(
            FlashDealBuyer.deal_id == deal_id, FlashDealBuyer.buyer_id == buyer_id
        )
    )
    return int(taken or 0)


async def remaining_for(session: AsyncSession, deal: FlashDeal, buyer_id: int | None) -> int | None:
    """Units this buyer may still take from the deal (None: no limit, or nobody signed in)."""
    if deal.per_buyer_limit is None or buyer_id is None:
        return None
    return max(0, deal.per_buyer_limit - await units_taken(session, deal.id, buyer_id))


def limit_reached(deal: FlashDeal, remaining: int) -> Conflict:
    """409 ``deal-limit-reached``: the limit, and how many this buyer may still take."""
    limit = deal.per_buyer_limit
    more = f"you may buy {remaining} more" if remaining else "you have reached it"
    return Conflict(
        f"this flash deal is limited to {limit} per buyer: {more}",
        code=LIMIT_REACHED,
        deal_id=deal.id,
        per_buyer_limit=limit,
        remaining=remaining,
    )


async def check_allowance(
    session: AsyncSession, deal: FlashDeal, buyer_id: int | None, quantity: int
) -> None:
    """What :func:`claim_allowance` would answer now, read-only (for a quote)."""
    remaining = await remaining_for(session, deal, buyer_id)
    if remaining is not None and quantity > remaining:
        raise limit_reached(deal, remaining)
    if deal.per_buyer_limit is not None and quantity > deal.per_buyer_limit:
        raise limit_reached(deal, deal.per_buyer_limit)


async def claim_allowance(
    session: AsyncSession, deal: FlashDeal, buyer_id: int, quantity: int
) -> None:
    """Count ``quantity`` units against the buyer's limit, or raise 409 ``deal-limit-reached``
    (after rolling back: nothing of the buy is kept). Flushes; the buy commits."""
    limit = deal.per_buyer_limit
    if limit is None:
        return
    insert: Any = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    await session.execute(
        insert(FlashDealBuyer)
        .values(deal_id=deal.id, buyer_id=buyer_id, units=0)
        .on_conflict_do_nothing(index_elements=["deal_id", "buyer_id"])
    )
    claimed = await session.execute(
        update(FlashDealBuyer)
        .where(
            FlashDealBuyer.deal_id == deal.id,
            FlashDealBuyer.buyer_id == buyer_id,
            FlashDealBuyer.units + quantity <= limit,
        )
        .values(units=FlashDealBuyer.units + quantity)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) == 1:
        return
    refusal = limit_reached(deal, max(0, limit - await units_taken(session, deal.id, buyer_id)))
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
