from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime

TITLE_MAX = 200


class ProductStatus(StrEnum):
    DRAFT = "draft"  # only the shop's staff see it
    PUBLISHED = "published"  # everyone can see it; can be sold where it has a price
    ARCHIVED = "archived"  # kept for old orders, hidden from listings


class ShopStaffRole(StrEnum):
    OWNER = "owner"  # created the shop; may add staff
    STAFF = "staff"  # manages the shop's catalog


class Category(StrEnum):
    """The fixed list of product categories (also the key of per-category commission rates)."""

    BEAUTY = "beauty"  # skincare, make-up, fragrance
    FASHION = "fashion"  # clothing, shoes, accessories
    ELECTRONICS = "electronics"  # gadgets, audio, phone accessories
    GROCERY = "grocery"  # food, drinks, snacks
    HOME = "home"  # kitchen, decor, household
    SPORTS = "sports"  # fitness and outdoor
    TOYS = "toys"  # toys and games


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    home_market: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    logo_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Whether creators may put this shop's products in their live showcase.
    allow_creators: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[list[ShopStaff]] = relationship(
        back_populates="shop", cascade="all, delete-orphan", lazy="selectin"
    )


class ShopStaff(Base):
    __tablename__ = "shop_staff"
    __table_args__ = (
        UniqueConstraint("shop_id", "user_id"),
        Index("ix_shop_staff_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10), default=ShopStaffRole.STAFF)
    shop: Mapped[Shop] = relationship(back_populates="staff")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (Index("ix_products_shop_status", "shop_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=ProductStatus.DRAFT)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", cascade="all, delete-orphan", lazy="selectin", order_by="Sku.id"
    )


class Sku(Base):
    """A variant that can be stocked and sold (e.g. 'Serum 30 ml' or 'Tee, M, black')."""

    __tablename__ = "skus"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    # Denormalised from the product so (shop, code) can be unique.
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    product: Mapped[Product] = relationship(back_populates="skus")
    prices: Mapped[list[SkuPrice]] = relationship(
        back_populates="sku",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="SkuPrice.market_code",
    )


class SkuPrice(Base):
    """The price a buyer sees in one market, in that market's currency and minor unit.

    Tax-inclusive where the market shows prices with tax (GB, EU, SEA); before tax in the US.
    """

    __tablename__ = "sku_prices"
    __table_args__ = (
        UniqueConstraint("sku_id", "market_code"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        Index("ix_sku_prices_market", "market_code"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    # Availability per market: a price can be kept but switched off for that market.
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)

    sku: Mapped[Sku] = relationship(back_populates="prices")
