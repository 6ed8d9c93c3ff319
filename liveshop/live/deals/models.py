"""Flash deals: a deal price on units allocated out of real stock for a limited time."""

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
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class DealStatus(StrEnum):
    ACTIVE = "active"  # on sale in the room until ends_at or sold out
    ENDED = "ended"  # over (sold out, timed out or ended early); unsold units released


class DealPolicy(StrEnum):
    """How a drop shares its units when more people tap than there are units
    (``live.deals.policies`` explains each; the page ``/drops/fairness`` shows it to buyers)."""

    HOLD_THEN_PAY = "hold_then_pay"  # a tap holds units for the deal's hold time
    FIRST_PAID_WINS = "first_paid_wins"  # no hold: units are taken when the payment goes in
    QUEUE = "queue"  # sold out: wait in line; units given back go to the next in line
    LOTTERY = "lottery"  # enter during a window; a committed-seed draw picks who gets a hold


class DealEndReason(StrEnum):
    SOLD_OUT = "sold_out"
    EXPIRED = "expired"
    ENDED_EARLY = "ended_early"


class FlashDeal(Base):
    """``reservation_id`` holds the deal's units (inventory reference ``deal:<id>``); each
    buyer's units are split off it, so the room can never sell more than was allocated."""

    __tablename__ = "flash_deals"
    __table_args__ = (
        Index("ix_flash_deals_session_status", "session_id", "status"),
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("sold >= 0 AND sold <= units", name="sold_within_units"),
        CheckConstraint(
            "per_buyer_limit IS NULL OR (per_buyer_limit >= 1 AND per_buyer_limit <= units)",
            name="per_buyer_limit_within_units",
        ),
        CheckConstraint(
            "per_product_limit IS NULL OR per_product_limit >= 1",
            name="per_product_limit_positive",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    price_minor: Mapped[int] = mapped_column(MinorUnits)
    regular_price_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    units: Mapped[int] = mapped_column(Integer)
    # Units one buyer may take from this deal (None: no limit). Fixed when the deal starts.
    per_buyer_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Units of this product one buyer may take across all of this show's deals on it (this one
    # included; each deal's SKU may differ: colours, sizes). Fixed when the deal starts.
    per_product_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    policy: Mapped[str] = mapped_column(
        String(16), default=DealPolicy.HOLD_THEN_PAY, server_default=DealPolicy.HOLD_THEN_PAY
    )
    # How long a buyer's claim holds units (hold then pay, queue, lottery winners).
    hold_seconds: Mapped[int] = mapped_column(Integer, default=300, server_default="300")
    # Lottery: entries until ``draw_at``; the seed's SHA-256 is public from the start, the seed
    # itself only from ``drawn_at`` on (``live.deals.lottery``).
    draw_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lottery_seed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lottery_seed_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Raised by every claim batch, so a room can drop a stock figure older than one it showed.
    stock_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Queue (and a drawn lottery): the highest place in line served so far.
    served_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reservation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=DealStatus.ACTIVE)
    end_reason: Mapped[str | None] = mapped_column(String(12), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FlashDealBuyer(Base):
    """How many of a limited deal's units one buyer holds or bought (``live.deals.limits``).

    Only the guarded ``UPDATE … SET units = units + n WHERE units + n <= limit`` moves it up,
    so two taps of one buyer on two connections can never together pass the deal's limit."""

    __tablename__ = "flash_deal_buyers"
    __table_args__ = (CheckConstraint("units >= 0", name="units_not_negative"),)

    deal_id: Mapped[int] = mapped_column(
        ForeignKey("flash_deals.id", ondelete="CASCADE"), primary_key=True
    )
    buyer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    units: Mapped[int] = mapped_column(Integer, default=0)


class ClaimStatus(StrEnum):
    HELD = "held"  # the buyer's units are held until expires_at: pay within the hold
    ORDERED = "ordered"  # checked out: the order (order_id) holds the units now
    EXPIRED = "expired"  # not checked out in time: the units went back into the deal
    RELEASED = "released"  # given up by the buyer, or the deal ended first


class DealClaim(Base):
    """Units of a deal one buyer claimed with a tap (``live.deals.claims``): a HELD child of
    the deal's hold (``reservation_id``) until it is checked out or runs out."""

    __tablename__ = "deal_claims"
    __table_args__ = (
        Index("ix_deal_claims_deal_buyer", "deal_id", "buyer_id"),
        Index("ix_deal_claims_status_expires", "status", "expires_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("flash_deals.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reservation_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=ClaimStatus.HELD)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EntryStatus(StrEnum):
    WAITING = "waiting"  # in line (queue), or entered and not yet drawn / not yet reached
    SERVED = "served"  # reached: got a claim (claim_id)
    SKIPPED = "skipped"  # reached, but over the buyer's limit by then: passed over
    CLOSED = "closed"  # the deal ended before this place was reached


class DealEntry(Base):
    """A place in a queue drop's line, or an entry in a lottery drop (one per buyer).

    ``seq`` numbers a deal's entries 1, 2, 3 … in arrival order (public: the lottery's
    published entries list and the queue's positions use it). ``rank`` is the order served
    in: ``seq`` in a queue, the draw's order in a lottery (NULL until the draw)."""

    __tablename__ = "deal_entries"
    __table_args__ = (
        UniqueConstraint("deal_id", "seq", name="uq_deal_entries_deal_seq"),
        UniqueConstraint("deal_id", "buyer_id", name="uq_deal_entries_deal_buyer"),
        Index("ix_deal_entries_deal_status_rank", "deal_id", "status", "rank"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("flash_deals.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=EntryStatus.WAITING)
    claim_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShelfClaim(Base):
    """Units of a product shown in a live room (pinned or in the showcase, no deal) one buyer
    claimed with a tap (``live.deals.shelf``): a plain HELD reservation of the SKU at the list
    price, paid through checkout like a deal's claim. Its state is its reservation's (held
    until it expires, or given up) and ``order_id`` once checked out."""

    __tablename__ = "shelf_claims"
    __table_args__ = (
        Index("ix_shelf_claims_buyer_session", "buyer_id", "session_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    product_id: Mapped[int] = mapped_column(BigInteger)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reservation_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
