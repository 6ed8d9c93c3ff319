from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from liveshop.core.types import Line, Text
from liveshop.logistics import wording
from liveshop.logistics.eta import Eta
from liveshop.logistics.models import ReturnReason, ReturnRequest, Shipment, TrackingEvent


class ShipmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_line_id: int = Field(strict=True, ge=1, le=2**63 - 1)
    quantity: int = Field(strict=True, ge=1, le=999)


class ShipmentIn(BaseModel):
    """A parcel: weight and size, the carrier and its service, and (default: every unit not
    yet shipped) which units are in it."""

    model_config = ConfigDict(extra="forbid")
    carrier: str = Field(pattern="^(manual|simulated)$", examples=["simulated"])
    service: str = Field(default="standard", pattern="^(standard|express)$")
    weight_grams: int = Field(strict=True, ge=1, le=70_000)
    length_mm: int = Field(strict=True, ge=1, le=2_000)
    width_mm: int = Field(strict=True, ge=1, le=2_000)
    height_mm: int = Field(strict=True, ge=1, le=2_000)
    tracking_number: Line | None = Field(
        default=None, min_length=3, max_length=80, description="manual carrier only"
    )
    carrier_name: Line | None = Field(
        default=None, max_length=60, description="manual: whose tracking number it is"
    )
    lines: list[ShipmentLineIn] | None = Field(default=None, min_length=1, max_length=50)


class TrackingEventOut(BaseModel):
    status: str
    text: str = Field(description="what happened, in the request's language")
    description: str = Field(description="the carrier's own words, as it sent them")
    location: str
    occurred_at: datetime

    @classmethod
    def of(cls, e: TrackingEvent) -> TrackingEventOut:
        return cls(
            status=e.status,
            text=wording.event_words(e.status, e.description).text,
            description=e.description,
            location=e.location,
            occurred_at=e.occurred_at,
        )


class ShipmentOut(BaseModel):
    id: int
    order_id: int
    carrier: str
    carrier_name: str
    service: str
    tracking_number: str
    status: str
    weight_grams: int
    size_mm: tuple[int, int, int]
    lines: list[ShipmentLineIn]
    picked_up_at: datetime | None
    delivered_at: datetime | None
    events: list[TrackingEventOut]

    @classmethod
    def of(cls, s: Shipment, events: list[TrackingEvent]) -> ShipmentOut:
        return cls(
            id=s.id,
            order_id=s.order_id,
            carrier=s.carrier,
            carrier_name=s.carrier_name,
            service=s.service,
            tracking_number=s.tracking_number,
            status=s.status,
            weight_grams=s.weight_grams,
            size_mm=(s.length_mm, s.width_mm, s.height_mm),
            lines=[
                ShipmentLineIn(order_line_id=ln.order_line_id, quantity=ln.quantity)
                for ln in s.lines
            ],
            picked_up_at=s.picked_up_at,
            delivered_at=s.delivered_at,
            events=[TrackingEventOut.of(e) for e in events],
        )


class EtaOut(BaseModel):
    text: str = Field(examples=["arrives Tue 9 – Thu 11 Dec"])
    earliest: date
    latest: date
    p50_days: int = Field(description="working days from payment, median")
    p90_days: int
    deliveries: int = Field(description="past deliveries the estimate is based on")
    from_history: bool = Field(description="false: the market's default estimate")
    basis: str

    @classmethod
    def of(cls, eta: Eta) -> EtaOut:
        return cls(
            text=eta.text,
            earliest=eta.earliest,
            latest=eta.latest,
            p50_days=eta.p50_days,
            p90_days=eta.p90_days,
            deliveries=eta.deliveries,
            from_history=eta.from_history,
            basis=eta.basis,
        )


class DeliveryOut(BaseModel):
    """What the buy sheet shows: when it would arrive and (signed in) where it would go."""

    eta: EtaOut
    ship_to: list[str] | None = Field(description="your default address in the market's country")


class ToShipOut(BaseModel):
    order_id: int
    deadline: datetime = Field(description="hand it to a carrier by then")
    late: bool
    cancels_at: datetime = Field(description="still not shipped then: cancelled and refunded")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=50)
    reason: ReturnReason
    note: Text = Field(default="", max_length=500)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=300)


class ReturnOut(BaseModel):
    id: int
    order_id: int
    status: str
    reason: str
    note: str
    decision_note: str
    carrier_name: str | None
    tracking_number: str | None
    parcel_status: str | None = Field(
        description="The return parcel's tracking status (its carrier's webhooks)"
    )
    parcel_delivered_at: datetime | None
    refund_id: int | None
    lines: list[ShipmentLineIn]
    created_at: datetime
    decided_at: datetime | None
    received_at: datetime | None

    @classmethod
    def of(cls, r: ReturnRequest) -> ReturnOut:
        return cls(
            id=r.id,
            order_id=r.order_id,
            status=r.status,
            reason=r.reason,
            note=r.note,
            decision_note=r.decision_note,
            carrier_name=r.carrier_name,
            tracking_number=r.tracking_number,
            parcel_status=r.parcel_status,
            parcel_delivered_at=r.parcel_delivered_at,
            refund_id=r.refund_id,
            lines=[
                ShipmentLineIn(order_line_id=ln.order_line_id, quantity=ln.quantity)
                for ln in r.lines
            ],
            created_at=r.created_at,
            decided_at=r.decided_at,
            received_at=r.received_at,
        )
