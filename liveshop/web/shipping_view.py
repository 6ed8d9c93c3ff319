"""An order's parcels and their tracking timelines, as the order pages show them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.logistics import shipments
from liveshop.logistics.models import Shipment, TrackingEvent

STATUS_LABELS = {
    "label_created": "Label created",
    "picked_up": "Picked up",
    "in_transit": "In transit",
    "delayed": "Delayed",
    "out_for_delivery": "Out for delivery",
    "failed_attempt": "Delivery attempt failed",
    "delivered": "Delivered",
    "lost": "Lost",
}


@dataclass(frozen=True, slots=True)
class ParcelView:
    shipment: Shipment
    events: list[TrackingEvent]
    units: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.shipment.status, self.shipment.status)


async def parcels_of(session: AsyncSession, order_id: int) -> list[ParcelView]:
    out = []
    for s in await shipments.order_shipments(session, order_id):
        events = await shipments.tracking_timeline(session, s.id)
        out.append(ParcelView(s, events, sum(ln.quantity for ln in s.lines)))
    return out
