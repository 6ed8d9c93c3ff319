"""Inventory tables: warehouses, stock levels, reservations and the movement audit trail.

Invariants the database itself enforces (CHECK constraints), so no code path can break them:

- ``available >= 0``, ``held >= 0``, ``sold >= 0`` on every stock level;
- ``received = available + held + sold`` on every stock level.

Invariants the service keeps (and the tests check):

- a stock level's ``held`` equals the sum of ``quantity`` over its HELD reservations;
- summing a stock level's movements' ``*_delta`` columns gives its current counts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime

DEFAULT_WAREHOUSE_NAME = "Main warehouse"


class ReservationStatus(StrEnum):
    HELD = "held"  # units are set aside (counted in stock_levels.held) until resolved
    COMMITTED = "committed"  # paid: the units moved from held to sold
    RELEASED = "released"  # cancelled: the units went back to available (or to the parent)
    EXPIRED = "expired"  # the hold ran out before payment: units went back like a release


class MovementKind(StrEnum):
    RECEIVE = "receive"  # units arrived: received and available go up
    ADJUST = "adjust"  # count correction, damage, loss: received and available move by delta
    RESERVE = "reserve"  # available -> held (a new reservation)
    COMMIT = "commit"  # held -> sold (a reservation was paid)
    RELEASE = "release"  # held -> available, or back into the parent reservation (cancelled)
    EXPIRE = "expire"  # held -> available, or back into the parent reservation (hold ran out)
    RETURN = "return"  # sold -> available (refund restock)
    SPLIT = "split"  # held -> held: units moved from one reservation into a new child


class Warehouse(Base):
    """Where a shop keeps stock. Every shop that has stock has exactly one default."""

    __tablename__ = "warehouses"
    __table_args__ = (
        # At most one default warehouse per shop: concurrent "first receive" races resolve here.
        Index(
            "uq_warehouses_default_per_shop",
            "shop_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockLevel(Base):
    """Counts of one SKU in one warehouse. Only conditional UPDATEs in the service change it."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "sku_id"),
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("sold >= 0", name="sold_not_negative"),
        CheckConstraint("received = available + held + sold", name="counts_balance"),
        Index("ix_stock_levels_sku", "sku_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    sold: Mapped[int] = mapped_column(BigInteger, default=0)


class Reservation(Base):
    """Units of one SKU set aside in one stock level for a reference ("order:42", "deal:7").

    ``quantity`` is what the reservation holds *now*: a split moves units out of it into a
    child (``parent_id`` points back), and a released child gives them back to a HELD parent.
    """

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_reservations_status_expires", "status", "expires_at"),
        Index("ix_reservations_sku_status", "sku_id", "status"),
        Index("ix_reservations_reference", "reference"),
        Index("ix_reservations_parent", "parent_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    stock_level_id: Mapped[int] = mapped_column(ForeignKey("stock_levels.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="SET NULL"), nullable=True
    )
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=ReservationStatus.HELD)
    reference: Mapped[str] = mapped_column(String(64))
    # None: held until committed or released explicitly (flash-deal allocations).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A payment for these units is in flight (its charge may still succeed): the hold does not
    # expire, whatever ``expires_at`` says, until the payment is resolved and this is cleared.
    paying: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StockMovement(Base):
    """One row per change to stock, append-only.

    ``quantity`` is the number of units the movement is about (ADJUST: the signed delta).
    The ``*_delta`` columns say exactly what it did to the stock level's counts, so the counts
    can be rebuilt from this table alone (received moves by their sum).
    """

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_sku", "sku_id", "id"),
        Index("ix_stock_movements_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    stock_level_id: Mapped[int] = mapped_column(ForeignKey("stock_levels.id", ondelete="CASCADE"))
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(BigInteger)
    available_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    held_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    sold_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
