"""Shipments of an order, their lines and tracking events; the simulated carrier's outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime


class TrackingStatus(StrEnum):
    LABEL_CREATED = "label_created"  # booked with the carrier, not collected yet
    PICKED_UP = "picked_up"  # the carrier has it: the order is shipped
    IN_TRANSIT = "in_transit"
    DELAYED = "delayed"  # in transit, later than planned
    OUT_FOR_DELIVERY = "out_for_delivery"
    FAILED_ATTEMPT = "failed_attempt"  # nobody in: it will be tried again
    DELIVERED = "delivered"  # final
    LOST = "lost"  # final unless a later "delivered" arrives; the buyer is refunded
    CANCELLED = "cancelled"  # booked, never collected, called off (the order was cancelled)


# The order in which a parcel moves; two events at the same instant rank by it.
PROGRESS: dict[str, int] = {
    TrackingStatus.LABEL_CREATED: 0,
    TrackingStatus.PICKED_UP: 1,
    TrackingStatus.IN_TRANSIT: 2,
    TrackingStatus.DELAYED: 3,
    TrackingStatus.OUT_FOR_DELIVERY: 4,
    TrackingStatus.FAILED_ATTEMPT: 5,
    TrackingStatus.LOST: 6,
    TrackingStatus.DELIVERED: 7,
    TrackingStatus.CANCELLED: 8,
}


class Shipment(Base):
    """One parcel of an order, booked with one carrier service."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number"),
        Index("ix_shipments_order", "order_id"),
        CheckConstraint("weight_grams > 0", name="weight_positive"),
        CheckConstraint("length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    market_code: Mapped[str] = mapped_column(String(2))
    carrier: Mapped[str] = mapped_column(String(20))  # "manual", "simulated"
    carrier_name: Mapped[str] = mapped_column(String(60))  # what the buyer reads
    service: Mapped[str] = mapped_column(String(20))  # "standard", "express"
    tracking_number: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=TrackingStatus.LABEL_CREATED)
    weight_grams: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lines: Mapped[list[ShipmentLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ShipmentLine.id"
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)


class TrackingEvent(Base):
    """What the carrier said, once per carrier event id (a redelivered webhook finds it)."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier", "event_id"),
        Index("ix_tracking_events_shipment", "shipment_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimulatedCarrierEvent(Base):
    """The simulated carrier's own outbox: the tracking webhooks it will send, and when (it
    emulates an external carrier, whose plans outlive a restart of liveshop)."""

    __tablename__ = "sim_carrier_events"
    __table_args__ = (Index("ix_sim_carrier_events_due", "sent_at", "send_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    tracking_number: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReturnStatus(StrEnum):
    REQUESTED = "requested"  # the buyer asked; the seller decides
    APPROVED = "approved"  # a return label was made; the buyer sends the parcel back
    REJECTED = "rejected"  # the seller said no, with a reason
    REFUNDED = "refunded"  # received back: restocked and refunded


class ReturnReason(StrEnum):
    CHANGED_MIND = "changed_mind"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    DOES_NOT_FIT = "does_not_fit"
    OTHER = "other"


class ReturnRequest(Base):
    """A buyer's return of some units of a delivered order, within its return window."""

    __tablename__ = "return_requests"
    __table_args__ = (Index("ix_return_requests_order", "order_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), default=ReturnStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    carrier_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    tracking_number: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # The return parcel, tracked like an outbound one (its carrier's webhooks).
    carrier: Mapped[str | None] = mapped_column(String(20), nullable=True)
    parcel_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    parcel_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refund_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lines: Mapped[list[ReturnLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ReturnLine.id"
    )


class ReturnTrackingEvent(Base):
    """What the carrier said about a return parcel, once per carrier event id."""

    __tablename__ = "return_tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier", "event_id"),
        Index("ix_return_tracking_events_return", "return_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_requests.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (
        UniqueConstraint("return_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_requests.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
