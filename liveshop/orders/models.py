"""Carts, orders (a price/tax snapshot), payments, refunds and processed webhooks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime
from liveshop.markets.models import MAX_RETURN_WINDOW_DAYS
from liveshop.orders.status import OrderStatus


class PaymentStatus(StrEnum):
    PROCESSING = "processing"  # sent to the provider, no answer yet
    PENDING = "pending"  # the provider will answer later by webhook
    SUCCEEDED = "succeeded"  # captured
    FAILED = "failed"  # declined or errored; the order stays payable with another card


class RefundStatus(StrEnum):
    PENDING = "pending"  # ledger reversed, money not yet returned by the provider
    SUCCEEDED = "succeeded"  # the provider returned the money
    FAILED = "failed"  # the provider refused; refunds_payable still shows what is owed


class Cart(Base):
    __tablename__ = "carts"
    __table_args__ = (UniqueConstraint("buyer_id", "market_code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lines: Mapped[list[CartLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CartLine.id"
    )


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("cart_id", "sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)


class Order(Base):
    """One shop's goods for one buyer in one market; money in that market's minor units."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("buyer_id", "idempotency_key"),
        Index("ix_orders_shop_status", "shop_id", "status"),
        Index("ix_orders_buyer", "buyer_id"),
        Index("ix_orders_live_session", "live_session_id"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("shipping_minor >= 0", name="shipping_not_negative"),
        CheckConstraint(
            "shipping_tax_minor >= 0 AND shipping_tax_minor <= shipping_minor",
            name="shipping_tax_within",
        ),
        CheckConstraint(
            "shipping_subsidy_minor >= 0 AND shipping_subsidy_minor <= shipping_minor",
            name="shipping_subsidy_within",
        ),
        CheckConstraint(
            f"return_window_days >= 0 AND return_window_days <= {MAX_RETURN_WINDOW_DAYS}",
            name="return_window_range",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT)
    items_minor: Mapped[int] = mapped_column(MinorUnits)  # Σ line gross (tax included)
    subsidy_minor: Mapped[int] = mapped_column(MinorUnits, default=0)  # platform-funded discount
    tax_minor: Mapped[int] = mapped_column(MinorUnits)  # Σ line tax + shipping tax
    # Shipping, one flat fee per order (the market's), tax included; the seller ships, so it
    # goes to the seller net of its tax. A free-shipping campaign pays shipping_subsidy_minor.
    shipping_minor: Mapped[int] = mapped_column(MinorUnits, default=0, server_default="0")
    shipping_tax_minor: Mapped[int] = mapped_column(MinorUnits, default=0, server_default="0")
    shipping_subsidy_minor: Mapped[int] = mapped_column(MinorUnits, default=0, server_default="0")
    # The market's return window when the order was placed: days after delivery the buyer may
    # still return it, and the creator's commission on it stays pending. Frozen like the
    # prices, so the date a creator is shown never moves: a market's later change applies to
    # orders placed after it.
    return_window_days: Mapped[int] = mapped_column(Integer)
    # What the buyer pays: items − subsidy + shipping − shipping subsidy.
    total_minor: Mapped[int] = mapped_column(MinorUnits)
    refunded_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    # Attribution: the live session / creator through whom it was bought (commissions).
    live_session_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shipping_carrier: Mapped[str | None] = mapped_column(String(60), nullable=True)
    tracking_number: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status_before_request: Mapped[str | None] = mapped_column(String(20), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lines: Mapped[list[OrderLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrderLine.id"
    )


class OrderLine(Base):
    """A frozen snapshot: later price, tax or commission changes never rewrite it.

    gross = tax + platform_commission + creator_commission + seller_net (exactly).
    """

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_qty"
        ),
        CheckConstraint(
            "gross_minor = tax_minor + platform_commission_minor + creator_commission_minor"
            " + seller_net_minor",
            name="gross_splits_exactly",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    product_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    sku_code: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    category: Mapped[str] = mapped_column(String(40))
    image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    list_price_minor: Mapped[int] = mapped_column(MinorUnits)  # the SKU's normal price
    unit_price_minor: Mapped[int] = mapped_column(MinorUnits)  # what was charged (deal price)
    gross_minor: Mapped[int] = mapped_column(MinorUnits)  # buyer-facing line total with tax
    subsidy_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    tax_minor: Mapped[int] = mapped_column(MinorUnits)
    platform_commission_bp: Mapped[int] = mapped_column(Integer)
    platform_commission_minor: Mapped[int] = mapped_column(MinorUnits)
    creator_commission_bp: Mapped[int] = mapped_column(Integer, default=0)
    creator_commission_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    seller_net_minor: Mapped[int] = mapped_column(MinorUnits)
    reservation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deal_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)


class OrderEvent(Base):
    """Every status change, who made it and why (the order's history)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_provider_ref", "provider", "provider_ref"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=PaymentStatus.PROCESSING)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    status: Mapped[str] = mapped_column(String(12), default=RefundStatus.PENDING)
    provider_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    lines: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessedWebhook(Base):
    """A provider event handled once: a redelivered webhook finds its row and does nothing."""

    __tablename__ = "processed_webhooks"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderAddress(Base):
    """Where an order goes: a copy of the buyer's address as it was at checkout. The address
    book may change or lose the address (``address_id`` then names nothing); this row never
    changes. Seen by the buyer, the shop's staff and admins only (``queries.visible_order``).
    """

    __tablename__ = "order_addresses"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    address_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    country_code: Mapped[str] = mapped_column(String(2))
    full_name: Mapped[str] = mapped_column(String(120))
    company_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20))
    street_address: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(120), default="")
    city_area: Mapped[str] = mapped_column(String(120), default="")
    country_area: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    sorting_code: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def fields(self) -> dict[str, str]:
        return {
            "country_code": self.country_code,
            "full_name": self.full_name,
            "company_name": self.company_name,
            "phone": self.phone,
            "street_address": self.street_address,
            "city": self.city,
            "city_area": self.city_area,
            "country_area": self.country_area,
            "postal_code": self.postal_code,
            "sorting_code": self.sorting_code,
        }
