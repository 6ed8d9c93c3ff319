"""Returns: the buyer sends units of a delivered order back within its frozen return window;
the seller approves (a return label is made with the simulated carrier) or rejects with a
reason; when the parcel is received the units go back to the warehouse they were sold from
(an inventory movement) and the buyer is refunded exactly, through the ordinary refund path
(pro-rata ledger reversal, creator commission clawed back, shipping's share) — in one
transaction with the return's own status.

Units already refunded, or asked for by another open return, cannot be asked for again (the
order's row is locked while a request is checked).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.logistics import tell
from liveshop.logistics.carriers import Parcel, SimulatedCarrier, scheduled_at
from liveshop.logistics.models import (
    PROGRESS,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    ReturnTrackingEvent,
    SimulatedCarrierEvent,
    TrackingStatus,
)
from liveshop.logistics.shipments import CarrierEvent, record_once
from liveshop.orders.completion import load_order
from liveshop.orders.models import Order, OrderEvent, Refund
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.refunds import RefundLine, refund
from liveshop.orders.ship_to import order_address
from liveshop.orders.status import OrderStatus

OPEN = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
# An order may be returned while it is delivered (a part already refunded included).
RETURNABLE = frozenset({OrderStatus.DELIVERED})


@dataclass(frozen=True, slots=True)
class ReturnQty:
    order_line_id: int
    quantity: int


async def delivered_at(session: AsyncSession, order_id: int) -> datetime | None:
    found: datetime | None = await session.scalar(
        select(func.max(OrderEvent.created_at)).where(
            OrderEvent.order_id == order_id, OrderEvent.to_status == OrderStatus.DELIVERED
        )
    )
    return found


async def window_ends(session: AsyncSession, order: Order) -> datetime | None:
    """When the order's return window closes (None: not delivered)."""
    at = await delivered_at(session, order.id)
    return None if at is None else at + timedelta(days=order.return_window_days)


async def _asked(session: AsyncSession, order_id: int) -> dict[int, int]:
    """Units of each line in open returns of the order."""
    rows = await session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status.in_(OPEN))
        .group_by(ReturnLine.order_line_id)
    )
    return {int(k): int(v) for k, v in rows.all()}


async def returnable_units(session: AsyncSession, order: Order) -> dict[int, int]:
    asked = await _asked(session, order.id)
    out = {}
    for line in order.lines:
        left = line.quantity - line.refunded_quantity - asked.get(line.id, 0)
        if left > 0:
            out[line.id] = left
    return out


async def request_return(
    session: AsyncSession,
    order_id: int,
    *,
    buyer_id: int,
    lines: Sequence[ReturnQty],
    reason: str,
    note: str = "",
    now: datetime | None = None,
) -> ReturnRequest:
    """The buyer's request (404 for anyone else's order). Commits."""
    now = now or utcnow()
    await session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    order = await load_order(session, order_id)
    if order.buyer_id != buyer_id:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    if order.status not in RETURNABLE:
        raise Conflict(
            _("an order that is %(status)s cannot be returned", status=order.status),
            code="not-returnable",
        )
    ends = await window_ends(session, order)
    if ends is None or now > ends:
        raise Conflict(_("the return window of this order has closed"), code="return-window-closed")
    try:
        why = ReturnReason(reason)
    except ValueError:
        raise Unprocessable(_("choose a reason"), code="bad-return", field="reason") from None
    left = await returnable_units(session, order)
    if not lines:
        raise Unprocessable(_("name at least one item"), code="bad-return", field="lines")
    seen: set[int] = set()
    for item in lines:
        if item.order_line_id in seen or not 1 <= item.quantity <= left.get(item.order_line_id, 0):
            raise Unprocessable(
                _(
                    "line %(order_line_id)s: %(get)s unit(s) can be returned",
                    order_line_id=item.order_line_id,
                    get=left.get(item.order_line_id, 0),
                ),
                code="bad-return",
                field="lines",
            )
        seen.add(item.order_line_id)
    request = ReturnRequest(
        order_id=order.id,
        shop_id=order.shop_id,
        buyer_id=buyer_id,
        status=ReturnStatus.REQUESTED,
        reason=why,
        note=note.strip()[:500],
        created_at=now,
        lines=[ReturnLine(order_line_id=i.order_line_id, quantity=i.quantity) for i in lines],
    )
    session.add(request)
    await session.commit()
    return request


async def get_return(session: AsyncSession, return_id: int) -> ReturnRequest:
    found = await session.get(ReturnRequest, return_id, populate_existing=True)
    if found is None:
        raise NotFound(
            _("return %(return_id)s does not exist", return_id=return_id), code="return-not-found"
        )
    return found


async def order_returns(session: AsyncSession, order_id: int) -> list[ReturnRequest]:
    rows = await session.scalars(
        select(ReturnRequest).where(ReturnRequest.order_id == order_id).order_by(ReturnRequest.id)
    )
    return list(rows)


def _expect(request: ReturnRequest, status: ReturnStatus) -> None:
    if request.status != status:
        raise Conflict(
            _("the return is %(status)s, not %(status2)s", status=request.status, status2=status),
            code="return-changed",
        )


async def _lock(session: AsyncSession, return_id: int) -> ReturnRequest:
    await session.execute(
        select(ReturnRequest.id).where(ReturnRequest.id == return_id).with_for_update()
    )
    return await get_return(session, return_id)


# The simulated carrier's words for a parcel going back to the shop.
_BACK = {
    TrackingStatus.PICKED_UP: "Handed in by the buyer",
    TrackingStatus.OUT_FOR_DELIVERY: "Out for delivery to the shop",
    TrackingStatus.DELIVERED: "Delivered to the shop",
}


async def approve(
    session: AsyncSession,
    return_id: int,
    *,
    actor_id: int | None,
    speedup: float = 1.0,
    now: datetime | None = None,
) -> ReturnRequest:
    """Approved: the return parcel is booked with the simulated carrier (test mode), which
    tracks it back to the shop with signed webhooks like an outbound parcel. Commits."""
    now = now or utcnow()
    request = await _lock(session, return_id)
    _expect(request, ReturnStatus.REQUESTED)
    order = await load_order(session, request.order_id)
    sender = await order_address(session, order.id)
    carrier = SimulatedCarrier("normal")
    number = "RLSX" + secrets.token_hex(5).upper()
    parcel = Parcel(order.market_code, "standard", 500, sender.city if sender else "")
    booking = carrier.book(parcel, tracking_number=number)
    request.status = ReturnStatus.APPROVED
    request.decided_by = actor_id
    request.decided_at = now
    request.carrier = carrier.code
    request.carrier_name = carrier.name
    request.tracking_number = booking.tracking_number
    request.parcel_status = TrackingStatus.LABEL_CREATED
    for n, planned in enumerate(booking.events):
        session.add(
            SimulatedCarrierEvent(
                event_id=f"{booking.tracking_number}-{n}",
                tracking_number=booking.tracking_number,
                status=planned.status,
                description=_BACK.get(planned.status, planned.description),
                location=planned.location,
                send_at=scheduled_at(now, planned.after, speedup),
            )
        )
    await tell.return_decided(session, request)
    await session.commit()
    return request


async def apply_return_event(session: AsyncSession, event: CarrierEvent) -> str:
    """A carrier's tracking event about a return parcel, recorded once; the parcel's status
    from the set of its events (as for outbound parcels: any order, any repeat). The buyer
    is told when it reaches the shop; the seller then checks it in (``receive``). Commits."""
    request = await session.scalar(
        select(ReturnRequest)
        .where(
            ReturnRequest.carrier == event.carrier,
            ReturnRequest.tracking_number == event.tracking_number,
        )
        .with_for_update()
    )
    if request is None:
        await session.rollback()
        return "ignored"
    if not await record_once(
        session, ReturnTrackingEvent(return_id=request.id, **event.row_fields())
    ):
        return "duplicate"
    events = await return_timeline(session, request.id)
    delivered = [e.occurred_at for e in events if e.status == TrackingStatus.DELIVERED]
    latest = max(events, key=lambda e: (e.occurred_at, PROGRESS.get(e.status, 0), e.id))
    was = request.parcel_status
    request.parcel_status = TrackingStatus.DELIVERED if delivered else latest.status
    request.parcel_delivered_at = min(delivered) if delivered else None
    if request.parcel_status == TrackingStatus.DELIVERED != was:
        await tell.return_arrived(session, request)
    await session.commit()
    return "processed"


async def return_timeline(session: AsyncSession, return_id: int) -> list[ReturnTrackingEvent]:
    rows = await session.scalars(
        select(ReturnTrackingEvent)
        .where(ReturnTrackingEvent.return_id == return_id)
        .order_by(ReturnTrackingEvent.occurred_at, ReturnTrackingEvent.id)
    )
    return list(rows)


async def reject(
    session: AsyncSession, return_id: int, *, actor_id: int | None, reason: str
) -> ReturnRequest:
    if not reason.strip():
        raise Unprocessable(_("say why the return is refused"), code="bad-return", field="reason")
    request = await _lock(session, return_id)
    _expect(request, ReturnStatus.REQUESTED)
    request.status = ReturnStatus.REJECTED
    request.decided_by = actor_id
    request.decided_at = utcnow()
    request.decision_note = reason.strip()[:300]
    await tell.return_decided(session, request)
    await session.commit()
    return request


async def receive(
    session: AsyncSession, provider: PaymentProvider, return_id: int, *, actor_id: int | None
) -> ReturnRequest:
    """The parcel is back: its units are restocked and refunded exactly, with the return's
    status, in one transaction (``refunds.refund`` commits it)."""
    request = await _lock(session, return_id)
    _expect(request, ReturnStatus.APPROVED)
    request.status = ReturnStatus.REFUNDED
    request.received_at = utcnow()
    await tell.return_decided(session, request)  # commits with the refund
    lines = [RefundLine(ln.order_line_id, ln.quantity) for ln in request.lines]
    await session.flush()
    reason = f"return #{request.id} received"
    await refund(
        session,
        provider,
        request.order_id,
        lines,
        actor_id=actor_id,
        reason=reason,
        restock=True,
    )
    refund_id = await session.scalar(
        select(func.max(Refund.id)).where(
            Refund.order_id == request.order_id, Refund.reason == reason
        )
    )
    request = await get_return(session, return_id)
    request.refund_id = refund_id
    await session.commit()
    return request
