"""Giveaways: one unit of a SKU given to one entrant, drawn so that anyone can check it."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime


class GiveawayStatus(StrEnum):
    OPEN = "open"  # taking entries until closes_at (the host may draw earlier)
    DRAWN = "drawn"  # the seed is out and the winner named (none when nobody entered)
    CANCELLED = "cancelled"  # the host called it off, or the room closed first


class Eligibility(StrEnum):
    ROOM = "room"  # anyone signed in, in the room
    FOLLOWERS = "followers"  # followers of the show's creator
    BUYERS = "buyers"  # viewers who bought (a paid order) in this show


class Giveaway(Base):
    """A giveaway in a live room. Its unit is held from stock when it opens
    (``giveaway:<id>``), the seed is drawn then and only its SHA-256 shown until the draw.
    ``entry_count`` moves with each entry through a guarded UPDATE (``status = 'open' AND
    closes_at > now``); the draw is the guarded UPDATE ``open → drawn``, so no entry lands
    after the entries the draw read."""

    __tablename__ = "giveaways"
    __table_args__ = (
        Index("ix_giveaways_session_status", "session_id", "status"),
        CheckConstraint("entry_count >= 0", name="entries_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(BigInteger)  # the host: never an entrant
    market_code: Mapped[str] = mapped_column(String(2))
    product_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    title: Mapped[str] = mapped_column(String(200))
    eligibility: Mapped[str] = mapped_column(String(10), default=Eligibility.ROOM)
    status: Mapped[str] = mapped_column(String(10), default=GiveawayStatus.OPEN)
    seed: Mapped[str] = mapped_column(String(64))  # secret until the draw
    seed_sha256: Mapped[str] = mapped_column(String(64))
    terms: Mapped[str] = mapped_column(Text)  # the market's terms as they were at opening
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    reservation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    winner_entry: Mapped[str | None] = mapped_column(String(32), nullable=True)
    winner_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class GiveawayEntry(Base):
    """One entrant (once: the unique constraint is the guard). ``public_id`` is what the
    published entries list shows — random, so it names nobody; the entrant is told theirs."""

    __tablename__ = "giveaway_entries"
    __table_args__ = (
        UniqueConstraint("giveaway_id", "user_id", name="uq_giveaway_entries_user"),
        UniqueConstraint("giveaway_id", "public_id", name="uq_giveaway_entries_public"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    giveaway_id: Mapped[int] = mapped_column(ForeignKey("giveaways.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    public_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
