"""Shipping an order: parcels with lines, booked with a carrier; tracking events applied
whatever order they arrive in; the order moved to shipped, then delivered.

A shipment's status is a function of the *set* of its events — ``delivered`` if any event
says so, else the latest by carrier time (ties by progress) — so the same events arriving
twice or in any order end in the same state. Each event is recorded once per carrier event
id (a unique row), under a lock of the shipment's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.inventory.models import Reservation, StockLevel, Warehouse
from liveshop.logistics import tell
from liveshop.logistics.carriers import Carrier, Parcel, scheduled_at
from liveshop.logistics.models import (
    PROGRESS,
    Shipment,
    ShipmentLine,
    SimulatedCarrierEvent,
    TrackingEvent,
    TrackingStatus,
)
from liveshop.orders.completion import load_order
from liveshop.orders.models import Order
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.refunds import RefundLine, refund
from liveshop.orders.ship_to import order_address
from liveshop.orders.status import REFUNDABLE, TRANSITIONS, OrderStatus
from liveshop.orders.transitions import move_status

T_CANCELLED = TrackingStatus.CANCELLED
SHIPPABLE = frozenset({OrderStatus.PAID, OrderStatus.FULFILLING, OrderStatus.SHIPPED})
MAX_WEIGHT_GRAMS = 70_000
MAX_SIDE_MM = 2_000


@dataclass(frozen=True, slots=True)
class ParcelIn:
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    service: str = "standard"


@dataclass(frozen=True, slots=True)
class LineQty:
    order_line_id: int
    quantity: int


async def shipped_units(session: AsyncSession, order_id: int) -> dict[int, int]:
    """Units of each order line already in a shipment."""
    rows = await session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id)
        .group_by(ShipmentLine.order_line_id)
    )
    return {int(line_id): int(qty) for line_id, qty in rows.all()}


def unshipped(order: Order, shipped: dict[int, int]) -> dict[int, int]:
    """Units of each line still to ship (refunded units are not shipped)."""
    left = {}
    for line in order.lines:
        n = line.quantity - line.refunded_quantity - shipped.get(line.id, 0)
        if n > 0:
            left[line.id] = n
    return left


@dataclass(frozen=True, slots=True)
class ToPack:
    """Units of an order line still to ship, and the warehouse they were sold from."""

    order_line_id: int
    quantity: int
    warehouse_id: int | None
    warehouse: str


async def to_pack(session: AsyncSession, order: Order) -> list[ToPack]:
    """The order's units still to ship with their warehouse (the stock level the line's
    reservation took them from), grouped by warehouse: one parcel per warehouse is the
    natural split; a seller may split further by what is to hand."""
    left = unshipped(order, await shipped_units(session, order.id))
    reservations = [ln.reservation_id for ln in order.lines if ln.reservation_id is not None]
    where: dict[int, tuple[int, str]] = {}
    if reservations:
        rows = await session.execute(
            select(Reservation.id, Warehouse.id, Warehouse.name)
            .join(StockLevel, StockLevel.id == Reservation.stock_level_id)
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .where(Reservation.id.in_(reservations))
        )
        where = {rid: (wid, name) for rid, wid, name in rows.all()}
    out = []
    for line in order.lines:
        if line.id not in left:
            continue
        wid, name = where.get(line.reservation_id or 0, (None, ""))
        out.append(ToPack(line.id, left[line.id], wid, name))
    return sorted(out, key=lambda p: (p.warehouse_id or 0, p.order_line_id))


def _check_parcel(parcel: ParcelIn) -> None:
    if not 1 <= parcel.weight_grams <= MAX_WEIGHT_GRAMS:
        raise Unprocessable(
            _("weight must be 1 g to %(value)s kg", value=MAX_WEIGHT_GRAMS // 1000),
            code="bad-parcel",
            field="weight_grams",
        )
    for name in ("length_mm", "width_mm", "height_mm"):
        if not 1 <= getattr(parcel, name) <= MAX_SIDE_MM:
            raise Unprocessable(
                _("each side must be 1 to %(max_side_mm)s mm", max_side_mm=MAX_SIDE_MM),
                code="bad-parcel",
                field=name,
            )
    if parcel.service not in ("standard", "express"):
        raise Unprocessable(_("service is standard or express"), code="bad-parcel", field="service")


async def create_shipment(
    session: AsyncSession,
    order_id: int,
    *,
    actor_id: int | None,
    carrier: Carrier,
    parcel: ParcelIn,
    lines: Sequence[LineQty] | None = None,
    tracking_number: str | None = None,
    carrier_name: str | None = None,
    speedup: float = 1.0,
    now: datetime | None = None,
) -> Shipment:
    """Book a parcel of the order's units (default: every unit not yet shipped). Manual:
    the order is shipped at once. Simulated: the label is made; the carrier's webhooks move
    it on. Commits."""
    _check_parcel(parcel)
    now = now or utcnow()
    await session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    order = await load_order(session, order_id)
    if order.status not in SHIPPABLE:
        raise Conflict(
            _("an order that is %(status)s cannot be shipped", status=order.status),
            code="order-not-shippable",
        )
    ship_to = await order_address(session, order_id)
    if ship_to is None:
        raise Conflict(
            _("the order has no delivery address: ask the buyer for one"),
            code="no-delivery-address",
        )
    left = unshipped(order, await shipped_units(session, order_id))
    wanted = [LineQty(k, v) for k, v in left.items()] if lines is None else [*lines]
    if not wanted:
        raise Conflict(_("every unit of this order is already shipped"), code="nothing-to-ship")
    seen: set[int] = set()
    for item in wanted:
        if item.order_line_id in seen or not 1 <= item.quantity <= left.get(item.order_line_id, 0):
            raise Unprocessable(
                _(
                    "line %(order_line_id)s: %(get)s unit(s) to ship",
                    order_line_id=item.order_line_id,
                    get=left.get(item.order_line_id, 0),
                ),
                code="bad-shipment-lines",
                field="lines",
            )
        seen.add(item.order_line_id)
    try:
        booking = carrier.book(
            Parcel(order.market_code, parcel.service, parcel.weight_grams, ship_to.city),
            tracking_number=tracking_number,
        )
    except ValueError as exc:
        raise Unprocessable(str(exc), code="bad-tracking-number", field="tracking_number") from None
    manual = not booking.events
    shipment = Shipment(
        order_id=order.id,
        shop_id=order.shop_id,
        market_code=order.market_code,
        carrier=carrier.code,
        carrier_name=(carrier_name or "").strip()[:60] or carrier.name,
        service=parcel.service,
        tracking_number=booking.tracking_number,
        status=TrackingStatus.PICKED_UP if manual else TrackingStatus.LABEL_CREATED,
        weight_grams=parcel.weight_grams,
        length_mm=parcel.length_mm,
        width_mm=parcel.width_mm,
        height_mm=parcel.height_mm,
        created_by=actor_id,
        created_at=now,
        picked_up_at=now if manual else None,
        last_event_at=now,
        lines=[ShipmentLine(order_line_id=i.order_line_id, quantity=i.quantity) for i in wanted],
    )
    session.add(shipment)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            _("this tracking number is already used"), code="tracking-number-used"
        ) from None
    first = TrackingStatus.PICKED_UP if manual else TrackingStatus.LABEL_CREATED
    session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            carrier=carrier.code,
            event_id=f"liveshop:{shipment.id}:{first}",
            status=first,
            description=f"Handed to {shipment.carrier_name}" if manual else "Label created",
            occurred_at=now,
        )
    )
    for n, planned in enumerate(booking.events):
        session.add(
            SimulatedCarrierEvent(
                event_id=f"{booking.tracking_number}-{n}",
                tracking_number=booking.tracking_number,
                status=planned.status,
                description=planned.description,
                location=planned.location,
                send_at=scheduled_at(now, planned.after, speedup),
            )
        )
    await _move_order(session, order, shipment, actor_id=actor_id)
    if manual:
        await tell.parcel_moved(session, order, shipment)
    await session.commit()
    return shipment


async def _move_order(
    session: AsyncSession, order: Order, shipment: Shipment, *, actor_id: int | None
) -> None:
    """Paid → fulfilling when a parcel is booked; → shipped when a carrier has one;
    → delivered when every unit was shipped and every parcel delivered."""
    status = OrderStatus(order.status)
    if status == OrderStatus.PAID:
        await move_status(session, order, OrderStatus.FULFILLING, actor_id=actor_id)
        order = await load_order(session, order.id)
        status = OrderStatus.FULFILLING
    if status == OrderStatus.FULFILLING and shipment.status != TrackingStatus.LABEL_CREATED:
        await move_status(
            session,
            order,
            OrderStatus.SHIPPED,
            actor_id=actor_id,
            shipping_carrier=shipment.carrier_name,
            tracking_number=shipment.tracking_number,
            note=f"{shipment.carrier_name} {shipment.tracking_number}",
        )
        order = await load_order(session, order.id)
        status = OrderStatus.SHIPPED
    if OrderStatus.DELIVERED not in TRANSITIONS[status] or status == OrderStatus.REFUND_REQUESTED:
        return
    shipments = (await session.scalars(select(Shipment).where(Shipment.order_id == order.id))).all()
    # A lost parcel was refunded (its units are no longer owed); the others must arrive.
    arriving = [s for s in shipments if s.status not in (TrackingStatus.LOST, T_CANCELLED)]
    all_delivered = bool(arriving) and all(s.status == TrackingStatus.DELIVERED for s in arriving)
    if all_delivered and not unshipped(order, await shipped_units(session, order.id)):
        await move_status(
            session, order, OrderStatus.DELIVERED, actor_id=actor_id, note="delivered by carrier"
        )


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    carrier: str
    event_id: str
    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime
    description: str = ""
    location: str = ""

    def row_fields(self) -> dict[str, Any]:
        """The columns a parcel's tracking event row keeps (outbound or return)."""
        return {
            "carrier": self.carrier,
            "event_id": self.event_id,
            "status": self.status,
            "description": self.description[:200],
            "location": self.location[:120],
            "occurred_at": self.occurred_at,
        }


async def record_once(session: AsyncSession, row: object) -> bool:
    """Add a carrier's event row; False (rolled back) when the carrier sent it before (the
    unique key on carrier and event id)."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def apply_event(
    session: AsyncSession, event: CarrierEvent, *, provider: PaymentProvider | None
) -> str:
    """Record a carrier's tracking event once and bring the shipment and order up to date.
    'processed', 'duplicate' (seen before) or 'ignored' (no such parcel, or its booking was
    called off). A parcel reported lost is refunded to the buyer through ``provider`` (the
    ordinary refund: exact ledger reversal, commission clawed back), in the event's own
    transaction. Commits."""
    shipment = await session.scalar(
        select(Shipment)
        .where(Shipment.carrier == event.carrier, Shipment.tracking_number == event.tracking_number)
        .with_for_update()
    )
    if shipment is None or shipment.status == T_CANCELLED:
        await session.rollback()
        return "ignored"
    row = TrackingEvent(shipment_id=shipment.id, **event.row_fields())
    if not await record_once(session, row):
        return "duplicate"
    events = (
        await session.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id))
    ).all()
    was = shipment.status
    _fold(shipment, events)
    order = await load_order(session, shipment.order_id)
    await _move_order(session, order, shipment, actor_id=None)
    if shipment.status != was:  # a replay or an older event tells nothing new
        await tell.parcel_moved(session, order, shipment)
    if shipment.status == TrackingStatus.LOST != was and provider is not None:
        await _refund_lost(session, provider, order, shipment)  # commits
        return "processed"
    await session.commit()
    return "processed"


async def _refund_lost(
    session: AsyncSession, provider: PaymentProvider, order: Order, shipment: Shipment
) -> None:
    """The units in a lost parcel (those not refunded already) are refunded in full, not
    restocked (they never came back). Commits (with the caller's changes)."""
    by_id = {line.id: line for line in order.lines}
    lines = []
    for item in shipment.lines:
        line = by_id[item.order_line_id]
        n = min(item.quantity, line.quantity - line.refunded_quantity)
        if n > 0:
            lines.append(RefundLine(line.id, n))
    if not lines or order.status not in REFUNDABLE:
        await session.commit()
        return
    reason = f"parcel {shipment.tracking_number} lost by {shipment.carrier_name}"
    await refund(session, provider, order.id, lines, actor_id=None, reason=reason, restock=False)


async def call_off(
    session: AsyncSession, shipment: Shipment, *, now: datetime | None = None
) -> None:
    """A booking never collected is called off with its carrier (its order is cancelled):
    the simulated carrier's planned webhooks are dropped and the parcel reads 'cancelled';
    a later webhook about it is ignored. The caller commits."""
    if shipment.status != TrackingStatus.LABEL_CREATED:
        return
    await session.execute(
        delete(SimulatedCarrierEvent).where(
            SimulatedCarrierEvent.tracking_number == shipment.tracking_number,
            SimulatedCarrierEvent.sent_at.is_(None),
        )
    )
    now = now or utcnow()
    shipment.status = T_CANCELLED
    shipment.last_event_at = now
    session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            carrier=shipment.carrier,
            event_id=f"liveshop:{shipment.id}:{T_CANCELLED}",
            status=T_CANCELLED,
            description="Booking called off: never collected",
            occurred_at=now,
        )
    )


def _fold(shipment: Shipment, events: Sequence[TrackingEvent]) -> None:
    """The shipment's state from all its events (order-independent)."""
    delivered = [e for e in events if e.status == TrackingStatus.DELIVERED]
    latest = max(events, key=lambda e: (e.occurred_at, PROGRESS.get(e.status, 0), e.id))
    shipment.status = TrackingStatus.DELIVERED if delivered else latest.status
    shipment.delivered_at = min(e.occurred_at for e in delivered) if delivered else None
    moving = [e.occurred_at for e in events if e.status != TrackingStatus.LABEL_CREATED]
    shipment.picked_up_at = min(moving) if moving else None
    shipment.last_event_at = latest.occurred_at


async def order_shipments(session: AsyncSession, order_id: int) -> list[Shipment]:
    rows = await session.scalars(
        select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
    )
    return list(rows)


async def tracking_timeline(session: AsyncSession, shipment_id: int) -> list[TrackingEvent]:
    rows = await session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    )
    return list(rows)


async def get_shipment(session: AsyncSession, shipment_id: int) -> Shipment:
    found = await session.get(Shipment, shipment_id)
    if found is None:
        raise NotFound(
            _("shipment %(shipment_id)s does not exist", shipment_id=shipment_id),
            code="shipment-not-found",
        )
    return found


async def to_ship(session: AsyncSession, shop_id: int, *, limit: int = 100) -> list[Order]:
    """The shop's paid orders with units still to ship, oldest first."""
    rows = await session.scalars(
        select(Order)
        .where(
            Order.shop_id == shop_id,
            Order.status.in_([OrderStatus.PAID, OrderStatus.FULFILLING]),
        )
        .order_by(Order.paid_at, Order.id)
        .limit(limit)
    )
    return list(rows)


async def confirm_manual_delivery(
    session: AsyncSession, shipment_id: int, *, now: datetime | None = None
) -> str:
    """The seller says a parcel sent with another carrier arrived (no carrier tells us):
    recorded as that carrier's ``delivered`` event, so the order and the ETA history follow
    as for any carrier. Once only (a repeat is a ``duplicate``)."""
    shipment = await get_shipment(session, shipment_id)
    if shipment.carrier != "manual":
        raise Conflict(
            _("the carrier reports this parcel's delivery itself"), code="carrier-tracked"
        )
    return await apply_event(
        session,
        provider=None,  # a manual parcel is never reported lost by a carrier
        event=CarrierEvent(
            carrier=shipment.carrier,
            event_id=f"liveshop:{shipment.id}:delivered",
            tracking_number=shipment.tracking_number,
            status=TrackingStatus.DELIVERED,
            occurred_at=now or utcnow(),
            description="Delivered (confirmed by the seller)",
        ),
    )
