"""An order's parcels and their tracking timelines, as the order pages show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.i18n import lazy_gettext
from liveshop.logistics import eta, returns, shipments, wording
from liveshop.logistics.models import (
    ReturnRequest,
    ReturnTrackingEvent,
    Shipment,
    TrackingEvent,
)
from liveshop.orders.models import Order

STATUS_LABELS = wording.PARCEL_STATUS


@dataclass(frozen=True, slots=True)
class ParcelView:
    shipment: Shipment
    events: list[TrackingEvent]
    units: int

    @property
    def status_label(self) -> str:
        return wording.status_label(self.shipment.status)


async def parcels_of(session: AsyncSession, order_id: int) -> list[ParcelView]:
    out = []
    for s in await shipments.order_shipments(session, order_id):
        events = await shipments.tracking_timeline(session, s.id)
        out.append(ParcelView(s, events, sum(ln.quantity for ln in s.lines)))
    return out


@dataclass(frozen=True, slots=True)
class ReturnsView:
    items: list[ReturnRequest]
    returnable: dict[int, int]  # order line id → units the buyer may still send back
    window_ends: datetime | None  # None: not delivered
    open_now: bool  # the buyer may ask now
    reasons: dict[str, Any]  # code → its label (lazy: the viewer's language)
    timelines: dict[int, list[ReturnTrackingEvent]]  # return id → its parcel's events
    status_labels: dict[str, Any]


RETURN_REASONS = {
    "changed_mind": lazy_gettext("Changed my mind"),
    "damaged": lazy_gettext("Arrived damaged"),
    "wrong_item": lazy_gettext("Wrong item"),
    "not_as_described": lazy_gettext("Not as described"),
    "does_not_fit": lazy_gettext("Does not fit"),
    "other": lazy_gettext("Other"),
}


async def returns_of(session: AsyncSession, order: Order) -> ReturnsView:
    ends = await returns.window_ends(session, order)
    left = await returns.returnable_units(session, order)
    open_now = (
        order.status in returns.RETURNABLE and ends is not None and utcnow() <= ends and bool(left)
    )
    items = await returns.order_returns(session, order.id)
    timelines = {r.id: await returns.return_timeline(session, r.id) for r in items}
    return ReturnsView(items, left, ends, open_now, RETURN_REASONS, timelines, STATUS_LABELS)


async def promise_of(session: AsyncSession, order: Order, tz: str) -> str | None:
    """After delivery: the estimate shown when the order was paid, against the delivery."""
    if order.status not in ("delivered", "completed", "refunded", "refund_requested"):
        return None
    delivered = [
        p.shipment.delivered_at
        for p in await parcels_of(session, order.id)
        if p.shipment.delivered_at is not None
    ]
    if not delivered:
        return None
    promise = await eta.promise_for(session, order, max(delivered), tz)
    return None if promise is None else promise.text
