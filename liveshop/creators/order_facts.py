"""What the creator economy needs to know about orders: commission per order, net of refunds,
and whether it is still pending (return window open) or payable.

TEMPORARY: this reads the orders tables directly because the orders domain has no read
function for "an attributed order's commission and delivery date" yet. Everything outside this
module goes through these functions, so moving them to ``liveshop.orders.queries`` is one edit.

Amounts net of refunds use the same cumulative floors as the refund postings
(``x − x·r//q`` for r of q units refunded), so they equal what the ledger holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.orders.models import Order, OrderEvent, OrderLine
from liveshop.orders.status import OrderStatus

# A commission becomes payable once the goods are delivered and the order's return window has
# passed without a refund request (or when the order is completed earlier). The window is the
# market's ``return_window_days`` *when the order was placed*, frozen on the order
# (``Order.return_window_days``), so the "payable on" date a creator is shown never moves: an
# admin's later change of the market's window applies to orders placed after it.

PENDING = "pending"  # paid, not yet delivered + return window
PAYABLE = "payable"  # delivered and the return window is over (or completed)


@dataclass(frozen=True, slots=True)
class OrderCommission:
    order_id: int
    creator_id: int
    shop_id: int
    live_session_id: int | None
    currency: str
    created_at: datetime
    paid_at: datetime
    status: str
    accrual: str  # PENDING or PAYABLE
    gmv_minor: int  # goods kept by the buyer (gross, net of refunds)
    commission_minor: int  # creator commission net of refunds, before any agency share
    return_window_days: int  # frozen when the order was placed
    delivered_at: datetime | None
    payable_on: datetime | None  # delivered_at + the window; None until delivered


@dataclass(frozen=True, slots=True)
class Accrual:
    """An order's accrual as of a moment: its state and, once delivered, the date it is (or
    became) payable."""

    state: str  # PENDING or PAYABLE
    live_session_id: int | None
    return_window_days: int
    delivered_at: datetime | None
    payable_on: datetime | None


@dataclass(frozen=True, slots=True)
class SessionSales:
    orders: int
    gmv_minor: int
    commission_minor: int


def _net(x: int, refunded: int, quantity: int) -> int:
    return x - x * refunded // quantity


def payable_on(delivered_at: datetime | None, return_window_days: int) -> datetime | None:
    """When a delivered order's commission becomes payable (its own frozen window)."""
    if delivered_at is None:
        return None
    return delivered_at + timedelta(days=return_window_days)


def accrual_of(
    status: str, delivered_at: datetime | None, now: datetime, return_window_days: int
) -> str:
    if status == OrderStatus.COMPLETED:
        return PAYABLE
    if status == OrderStatus.DELIVERED and delivered_at is not None:
        due = payable_on(delivered_at, return_window_days)
        return PAYABLE if due is not None and due <= now else PENDING
    return PENDING


async def _delivered_at(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, datetime]:
    if not order_ids:
        return {}
    rows = await session.execute(
        select(OrderEvent.order_id, func.max(OrderEvent.created_at))
        .where(
            OrderEvent.order_id.in_(list(order_ids)),
            OrderEvent.to_status == OrderStatus.DELIVERED,
        )
        .group_by(OrderEvent.order_id)
    )
    return {int(oid): at for oid, at in rows.all()}


async def attributed_orders(
    session: AsyncSession,
    *,
    creator_id: int | None = None,
    live_session_ids: Sequence[int] | None = None,
    shop_id: int | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[OrderCommission]:
    """Paid orders (ever) with their commission net of refunds and their accrual state."""
    query = select(Order).where(Order.paid_at.is_not(None))
    if creator_id is not None:
        query = query.where(Order.creator_id == creator_id)
    if live_session_ids is not None:
        if not live_session_ids:
            return []
        query = query.where(Order.live_session_id.in_(list(live_session_ids)))
    if shop_id is not None:
        query = query.where(Order.shop_id == shop_id)
    if since is not None:
        query = query.where(Order.paid_at >= since)
    orders = (await session.scalars(query.order_by(Order.id))).all()
    delivered = await _delivered_at(session, [o.id for o in orders])
    when = now or utcnow()
    out = []
    for o in orders:
        gmv = sum(_net(ln.gross_minor, ln.refunded_quantity, ln.quantity) for ln in o.lines)
        commission = sum(
            _net(ln.creator_commission_minor, ln.refunded_quantity, ln.quantity) for ln in o.lines
        )
        assert o.paid_at is not None
        out.append(
            OrderCommission(
                order_id=o.id,
                creator_id=o.creator_id or 0,
                shop_id=o.shop_id,
                live_session_id=o.live_session_id,
                currency=o.currency,
                created_at=o.created_at,
                paid_at=o.paid_at,
                status=o.status,
                accrual=accrual_of(o.status, delivered.get(o.id), when, o.return_window_days),
                gmv_minor=gmv,
                commission_minor=commission,
                return_window_days=o.return_window_days,
                delivered_at=delivered.get(o.id),
                payable_on=payable_on(delivered.get(o.id), o.return_window_days),
            )
        )
    return out


async def session_sales(session: AsyncSession, live_session_id: int) -> SessionSales:
    orders = await attributed_orders(session, live_session_ids=[live_session_id])
    return SessionSales(
        orders=sum(1 for o in orders if o.gmv_minor > 0),
        gmv_minor=sum(o.gmv_minor for o in orders),
        commission_minor=sum(o.commission_minor for o in orders),
    )


def by_session(orders: Sequence[OrderCommission]) -> dict[int | None, list[OrderCommission]]:
    grouped: dict[int | None, list[OrderCommission]] = defaultdict(list)
    for o in orders:
        grouped[o.live_session_id].append(o)
    return grouped


async def accrual_by_order(
    session: AsyncSession, order_ids: Sequence[int], now: datetime | None = None
) -> dict[int, Accrual]:
    """Order id -> its accrual (state, live session, frozen window, payable-on date)."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(Order.id, Order.status, Order.live_session_id, Order.return_window_days).where(
            Order.id.in_(list(order_ids))
        )
    )
    found = rows.all()
    delivered = await _delivered_at(session, [int(r[0]) for r in found])
    when = now or utcnow()
    out = {}
    for oid, status, live_id, days in found:
        at = delivered.get(int(oid))
        out[int(oid)] = Accrual(
            state=accrual_of(status, at, when, int(days)),
            live_session_id=live_id,
            return_window_days=int(days),
            delivered_at=at,
            payable_on=payable_on(at, int(days)),
        )
    return out


async def accrual_as_of(
    session: AsyncSession, order_ids: Sequence[int], at: datetime
) -> dict[int, Accrual]:
    """Order id -> its accrual *as it stood at* ``at``, from the order's history alone.

    The status is the one its last event before ``at`` moved it to, and the delivery the
    latest one before ``at`` — never the order's status now — so a statement for a period
    ending at ``at`` reads the same whenever it is made: a refund request, a refund, a
    completion or a delivery after ``at`` changes nothing here, and a commission whose window
    passes after ``at`` was pending at ``at``. (The amounts come from the ledger up to ``at``.)
    An order with no event before ``at`` is pending.
    """
    if not order_ids:
        return {}
    ids = list(order_ids)
    found = (
        await session.execute(
            select(Order.id, Order.live_session_id, Order.return_window_days).where(
                Order.id.in_(ids)
            )
        )
    ).all()
    events = await session.execute(
        select(OrderEvent.order_id, OrderEvent.to_status, OrderEvent.created_at)
        .where(OrderEvent.order_id.in_(ids), OrderEvent.created_at < at)
        .order_by(OrderEvent.order_id, OrderEvent.id)
    )
    # An order's status changes are serialized (each is a conditional UPDATE on the status
    # read), so its events' ids are the order of its transitions.
    status_then: dict[int, str] = {}
    delivered: dict[int, datetime] = {}
    for oid, to_status, created_at in events.all():
        status_then[int(oid)] = to_status
        if to_status == OrderStatus.DELIVERED:
            seen = delivered.get(int(oid))
            delivered[int(oid)] = created_at if seen is None else max(seen, created_at)
    out = {}
    for oid, live_id, days in found:
        when = delivered.get(int(oid))
        out[int(oid)] = Accrual(
            state=accrual_of(
                status_then.get(int(oid), OrderStatus.PENDING_PAYMENT), when, at, int(days)
            ),
            live_session_id=live_id,
            return_window_days=int(days),
            delivered_at=when,
            payable_on=payable_on(when, int(days)),
        )
    return out


@dataclass(frozen=True, slots=True)
class SoldLine:
    """One line of an attributed, paid order with the commission rate frozen on it."""

    order_id: int
    creator_id: int
    shop_id: int
    live_session_id: int | None
    currency: str
    created_at: datetime
    product_id: int
    category: str
    title: str
    quantity: int
    refunded_quantity: int
    gross_minor: int  # net of refunds
    commission_bp: int  # frozen at checkout
    commission_minor: int  # net of refunds, before any agency share


def _sold(o: Order, ln: OrderLine) -> SoldLine:
    return SoldLine(
        order_id=o.id,
        creator_id=o.creator_id or 0,
        shop_id=o.shop_id,
        live_session_id=o.live_session_id,
        currency=o.currency,
        created_at=o.created_at,
        product_id=ln.product_id,
        category=ln.category,
        title=ln.title,
        quantity=ln.quantity,
        refunded_quantity=ln.refunded_quantity,
        gross_minor=_net(ln.gross_minor, ln.refunded_quantity, ln.quantity),
        commission_bp=ln.creator_commission_bp,
        commission_minor=_net(ln.creator_commission_minor, ln.refunded_quantity, ln.quantity),
    )


async def recent_lines(
    session: AsyncSession, creator_id: int, *, limit: int = 20
) -> list[SoldLine]:
    """The lines of the creator's latest paid orders, newest order first."""
    orders = (
        await session.scalars(
            select(Order)
            .where(Order.creator_id == creator_id, Order.paid_at.is_not(None))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
        )
    ).all()
    return [_sold(o, ln) for o in orders for ln in o.lines]


async def shop_lines(
    session: AsyncSession,
    shop_id: int,
    *,
    since: datetime,
    until: datetime | None,
    product_ids: Sequence[int],
    categories: Sequence[str],
) -> list[SoldLine]:
    """Attributed, paid lines of the shop's orders placed in ``[since, until)`` on these
    products or categories (with a commission)."""
    if not product_ids and not categories:
        return []
    query = (
        select(Order, OrderLine)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.shop_id == shop_id,
            Order.creator_id.is_not(None),
            Order.paid_at.is_not(None),
            Order.created_at >= since,
            OrderLine.creator_commission_bp > 0,
            or_(
                OrderLine.product_id.in_(list(product_ids)),
                OrderLine.category.in_(list(categories)),
            ),
        )
        .order_by(Order.id, OrderLine.id)
    )
    if until is not None:
        query = query.where(Order.created_at < until)
    rows = await session.execute(query)
    return [_sold(o, ln) for o, ln in rows.all()]


def order_id_of(reference: str) -> int | None:
    """``order:<id>:...`` -> id (the sale and refund postings of an order)."""
    parts = reference.split(":")
    if len(parts) >= 3 and parts[0] == "order" and parts[1].isdigit():
        return int(parts[1])
    return None


def live_id_of(reference: str) -> int | None:
    """``live:<id>:...`` -> id (base fees and bonuses of a session)."""
    parts = reference.split(":")
    if len(parts) >= 3 and parts[0] == "live" and parts[1].isdigit():
        return int(parts[1])
    return None
