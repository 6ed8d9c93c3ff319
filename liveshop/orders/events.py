"""Domain events the orders domain announces (see ``liveshop.core.domain_events``).

Orders sits below the creator economy and never calls it: what a higher domain must do when
an order changes (reverse a live session's GMV bonus a refund took it below) it does in a
handler subscribed to these events, inside the order's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core import domain_events
from liveshop.core.domain_events import DomainEvent
from liveshop.orders.models import Order


@dataclass(frozen=True, slots=True)
class OrderRefunded(DomainEvent):
    """Some units of a paid order were refunded (a paid order's cancellation included).

    Announced inside the refund's transaction, after the refunded units, the subsidy returns
    and the ledger reversal are written and before the order's status moves, so a handler
    reads the order as refunded and what it writes commits (or rolls back) with the refund.
    """

    order_id: int
    refund_id: int
    amount_minor: int  # what the buyer gets back for this refund
    live_session_id: int | None  # the session the order was bought in, if any
    creator_id: int | None  # the creator it was attributed to, if any
    market_code: str = ""
    shop_id: int = 0
    buyer_id: int = 0


@dataclass(frozen=True, slots=True)
class DealUnits:
    deal_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderCancelledUnpaid(DomainEvent):
    """An order that was never paid was cancelled (by the buyer or staff, or because its hold
    ran out): nothing was bought. Announced inside the cancelling transaction, after the
    status moved and the holds were released, so a flash deal can give the buyer's units back
    to their per-buyer allowance in the same commit."""

    order_id: int
    buyer_id: int
    deal_units: tuple[DealUnits, ...]  # the order's flash-deal lines (none: not a deal order)


async def announce_unpaid_cancel(session: AsyncSession, order: Order) -> None:
    """``OrderCancelledUnpaid`` in the cancelling transaction (a deal gives back the buyer's
    per-buyer allowance with the same commit). Every path that cancels an unpaid order calls
    it: the buyer's or staff's cancellation, the expiry sweeper, and a payment that arrived
    after the units sold out."""
    event = OrderCancelledUnpaid(
        order_id=order.id,
        buyer_id=order.buyer_id,
        deal_units=tuple(
            DealUnits(deal_id=line.deal_id, quantity=line.quantity)
            for line in order.lines
            if line.deal_id is not None
        ),
    )
    await domain_events.announce(session, event)


@dataclass(frozen=True, slots=True)
class ShowSales:
    live_session_id: int
    currency: str
    orders: int
    goods_minor: int  # what the buyers paid for the goods (items − subsidy): the show's GMV


@dataclass(frozen=True, slots=True)
class PaidOrderFacts:
    """One paid order, as analytics counts it (its buyer, where and what it was worth)."""

    order_id: int
    buyer_id: int
    shop_id: int
    market_code: str
    live_session_id: int | None
    creator_id: int | None
    goods_minor: int


@dataclass(frozen=True, slots=True)
class OrdersPaid(DomainEvent):
    """Orders were paid — one, or a batch of a drop's. Announced inside the paying
    transaction, just before its commit, summed per show and per flash deal: a higher domain
    keeps its figures of the sales (a show's orders and GMV, a deal's units sold) in the same
    commit as the sale — one update per row for a whole batch, never counted twice, never lost
    to a crash after the commit. (``notify.OrderPaid`` is the after-commit news for rooms.)"""

    shows: tuple[ShowSales, ...]
    deal_units: tuple[DealUnits, ...]
    orders: tuple[PaidOrderFacts, ...] = ()


async def announce_paid(session: AsyncSession, orders: Sequence[Order]) -> None:
    shows: dict[int, list[int]] = {}
    currency: dict[int, str] = {}
    units: dict[int, int] = {}
    for order in orders:
        if order.live_session_id is not None:
            show = shows.setdefault(order.live_session_id, [0, 0])
            show[0] += 1
            show[1] += order.items_minor - order.subsidy_minor
            currency[order.live_session_id] = order.currency
        for line in order.lines:
            if line.deal_id is not None:
                units[line.deal_id] = units.get(line.deal_id, 0) + line.quantity
    await domain_events.announce(
        session,
        OrdersPaid(
            shows=tuple(
                ShowSales(live_session_id=sid, currency=currency[sid], orders=n, goods_minor=gmv)
                for sid, (n, gmv) in sorted(shows.items())
            ),
            deal_units=tuple(DealUnits(deal_id=d, quantity=q) for d, q in sorted(units.items())),
            orders=tuple(_facts(o) for o in orders),
        ),
    )


def _facts(o: Order) -> PaidOrderFacts:
    return PaidOrderFacts(
        order_id=o.id,
        buyer_id=o.buyer_id,
        shop_id=o.shop_id,
        market_code=o.market_code,
        live_session_id=o.live_session_id,
        creator_id=o.creator_id,
        goods_minor=o.items_minor - o.subsidy_minor,
    )


@dataclass(frozen=True, slots=True)
class OrdersPlaced(DomainEvent):
    """Orders were placed (checked out, not yet paid): one from a checkout, or a batch of a
    drop's paying buyers. Announced in the placing transaction; analytics counts them after
    the commit (``PaidOrderFacts``: the same facts, ``goods_minor`` what they would pay)."""

    orders: tuple[PaidOrderFacts, ...]


async def announce_placed(session: AsyncSession, orders: Sequence[Order]) -> None:
    await domain_events.announce(session, OrdersPlaced(orders=tuple(_facts(o) for o in orders)))
