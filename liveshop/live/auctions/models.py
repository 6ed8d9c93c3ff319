"""Live auctions: a lot (units of one SKU held from stock) sold to the highest bidder."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class AuctionStatus(StrEnum):
    LIVE = "live"  # taking bids until ends_at
    SETTLING = "settling"  # the hammer fell: the winner (or a runner-up) is being charged
    SOLD = "sold"  # paid for: order_id is the winner's order
    UNSOLD = "unsold"  # no bid, or no bidder could pay: the lot went back on sale
    CANCELLED = "cancelled"  # the room closed (or the host stopped it) before the hammer


class AuctionMode(StrEnum):
    ANTI_SNIPE = "anti_snipe"  # a bid in the last N seconds resets the timer to N
    SUDDEN_DEATH = "sudden_death"  # the timer never moves


class Auction(Base):
    """One lot. Bids only ever raise it, through one guarded UPDATE per batch of bids
    (``status = 'live' AND ends_at > now``); the hammer is the guarded UPDATE the other
    way (``ends_at <= now``), so no bid is accepted after it and exactly one bidder leads
    when it falls. ``leader_max_minor`` is the leader's maximum (proxy) bid, never shown;
    ``current_minor`` is the price the room sees (per unit of the lot)."""

    __tablename__ = "auctions"
    __table_args__ = (
        Index("ix_auctions_session_status", "session_id", "status"),
        Index("ix_auctions_status_ends", "status", "ends_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("start_minor > 0", name="start_positive"),
        CheckConstraint(
            "leader_id IS NULL OR (current_minor >= start_minor "
            "AND leader_max_minor >= current_minor)",
            name="leader_consistent",
        ),
        CheckConstraint("snipe_seconds >= 0", name="snipe_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(BigInteger)  # the host: never a bidder
    market_code: Mapped[str] = mapped_column(String(2))
    product_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    title: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    start_minor: Mapped[int] = mapped_column(MinorUnits)
    # [[from_minor, increment_minor], …] ascending: the step above a price of at least from.
    increments: Mapped[list[list[int]]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16), default=AuctionMode.ANTI_SNIPE)
    snipe_seconds: Mapped[int] = mapped_column(Integer, default=10)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=AuctionStatus.LIVE)
    current_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    leader_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    leader_max_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    # Raised by every batch of bids: a room never goes back to an older state.
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    reservation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    winner_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    hammer_minor: Mapped[int | None] = mapped_column(MinorUnits, nullable=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settling_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuctionBid(Base):
    """An accepted bid: a bidder's maximum at that moment (one row per accepted bid)."""

    __tablename__ = "auction_bids"
    __table_args__ = (
        Index("ix_auction_bids_auction_max", "auction_id", "max_minor"),
        CheckConstraint("max_minor > 0", name="max_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    max_minor: Mapped[int] = mapped_column(MinorUnits)
    # The room's price right after this bid (what it made the others pay to lead).
    price_after_minor: Mapped[int] = mapped_column(MinorUnits)
    leading_after: Mapped[bool] = mapped_column(default=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfferStatus(StrEnum):
    PENDING = "pending"  # order placed, being paid
    PAID = "paid"
    FAILED = "failed"  # the card declined (or none was left): the lot goes to the next bidder


class AuctionOffer(Base):
    """The lot offered to one bidder at the hammer: the winner first, then, if their card
    fails, the runner-up at their own highest bid, and so on."""

    __tablename__ = "auction_offers"
    __table_args__ = (UniqueConstraint("auction_id", "bidder_id", name="uq_auction_offers_bidder"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(MinorUnits)
    status: Mapped[str] = mapped_column(String(10), default=OfferStatus.PENDING)
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failure: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
