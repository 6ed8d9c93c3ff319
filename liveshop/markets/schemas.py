from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from liveshop.core.types import Text
from liveshop.markets.models import (
    MAX_AUTO_CANCEL_DAYS,
    MAX_DISPATCH_DAYS,
    MAX_RETURN_WINDOW_DAYS,
    MAX_SHIPPING_FEE_MINOR,
    LaunchState,
    Market,
)


class MarketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    currency: str
    currency_exponent: int
    locale: str
    timezone: str
    tax_name: str
    tax_rate_bp: int = Field(description="Basis points: 2000 = 20 %")
    prices_include_tax: bool
    platform_commission_bp: int
    launch_state: LaunchState
    sellable: bool
    return_window_days: int = Field(
        description="Days after delivery a buyer may return goods; creator commission is "
        "pending until they have passed. Frozen on each order when it is placed"
    )
    shipping_fee_minor: int = Field(
        description="Flat shipping per shop order in minor units, written like prices "
        "(tax included where prices include tax)"
    )
    dispatch_days: int = Field(
        description="Working days after payment a seller has to hand an order to a carrier"
    )
    auto_cancel_days: int = Field(
        description="Working days after the dispatch deadline an order still not with a "
        "carrier is cancelled and refunded"
    )
    giveaway_terms: str | None = Field(
        default=None,
        description="The terms of the market's live giveaways (none: the platform's default)",
    )

    @classmethod
    def of(cls, m: Market) -> MarketOut:
        return cls(
            code=m.code,
            name=m.name,
            currency=m.currency,
            currency_exponent=m.currency_exponent,
            locale=m.locale,
            timezone=m.timezone,
            tax_name=m.tax_name,
            tax_rate_bp=m.tax_rate_bp,
            prices_include_tax=m.prices_include_tax,
            platform_commission_bp=m.platform_commission_bp,
            launch_state=LaunchState(m.launch_state),
            sellable=m.launch_state in ("pilot", "live"),
            return_window_days=m.return_window_days,
            shipping_fee_minor=m.shipping_fee_minor,
            dispatch_days=m.dispatch_days,
            auto_cancel_days=m.auto_cancel_days,
            giveaway_terms=m.giveaway_terms,
        )


class LaunchStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: LaunchState
    reason: Text = Field(default="", max_length=500)


class RatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tax_rate_bp: int | None = Field(default=None, ge=0, le=10000, strict=True)
    platform_commission_bp: int | None = Field(default=None, ge=0, le=10000, strict=True)
    return_window_days: int | None = Field(
        default=None,
        ge=0,
        le=MAX_RETURN_WINDOW_DAYS,
        description="Days after delivery a buyer may still return goods, for orders placed "
        "from now on (an order keeps the window it was placed with)",
        strict=True,
    )
    shipping_fee_minor: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SHIPPING_FEE_MINOR,
        description="Flat shipping per shop order, minor units, for orders placed from now on",
        strict=True,
    )
    dispatch_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DISPATCH_DAYS,
        description="Working days after payment a seller has to hand an order to a carrier "
        "(orders already paid included: the deadline is read when it is checked)",
        strict=True,
    )
    auto_cancel_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_AUTO_CANCEL_DAYS,
        description="Working days after the dispatch deadline before an order still not "
        "with a carrier is cancelled and refunded",
        strict=True,
    )
    giveaway_terms: Text | None = Field(
        default=None,
        max_length=4000,
        description="The terms shown on the market's live giveaways, for giveaways opened "
        "from now on (an empty text: the platform's default)",
    )


class LaunchEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_state: LaunchState
    to_state: LaunchState
    changed_by: int | None
    reason: str
    changed_at: datetime


class CommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_bp: int = Field(ge=0, le=10000, description="Basis points: 500 = 5 %", strict=True)


class CommissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    market_code: str
    category: str
    rate_bp: int
    updated_at: datetime
