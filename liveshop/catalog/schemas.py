"""Catalog request and response bodies.

Inputs forbid unknown fields, so a typo is a 422 rather than a silently ignored value.
Money is an integer count of minor units (``strict``: ``12.5`` or ``"1250"`` is refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from liveshop.catalog.models import (
    TITLE_MAX,
    Category,
    Product,
    ProductStatus,
    ShopStaffRole,
    Sku,
    SkuPrice,
)
from liveshop.catalog.search import PriceRange
from liveshop.core.i18n import gettext
from liveshop.core.types import MAX_ID, Line, Text
from liveshop.markets.models import Market
from liveshop.markets.service import display_price

MAX_AMOUNT_MINOR = 10**13  # exclusive; ~ 10^11 of a 2-exponent currency, well inside BIGINT


def _upper(value: str) -> str:
    return value.upper()


def _image_url(value: str) -> str:
    """An absolute http(s) URL, or a path under this site's ``/static/`` (bundled images) or
    ``/media/`` (uploaded ones, ``catalog.images``)."""
    if value.startswith(("/static/", "/media/")):
        if ".." in value or "//" in value or any(c.isspace() for c in value):
            raise ValueError(gettext("must be a clean /static/ or /media/ path"))
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError(gettext("must be an http(s) URL (or a /static/ path)"))
    return value


MarketCode = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2}$", examples=["GB"]), AfterValidator(_upper)
]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Za-z]{3}$", examples=["GBP"]), AfterValidator(_upper)
]
AmountMinor = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        lt=MAX_AMOUNT_MINOR,
        description="Integer in the currency's minor unit (pence, đồng, sen)",
        examples=[1299],
    ),
]
ImageUrl = Annotated[Line, Field(min_length=1, max_length=500), AfterValidator(_image_url)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")]
SkuCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
AttrKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
AttrValue = Annotated[Line, Field(min_length=1, max_length=100)]
Title = Annotated[Line, Field(min_length=1, max_length=TITLE_MAX)]
Description = Annotated[Text, Field(max_length=10_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- shops ---------------------------------------------------------------------------------


class ShopIn(_In):
    name: Line = Field(min_length=1, max_length=120)
    slug: Slug
    description: Description = ""
    home_market: MarketCode
    allow_creators: bool = True
    logo_url: ImageUrl | None = None


class ShopUpdateIn(_In):
    name: Line | None = Field(default=None, min_length=1, max_length=120)
    description: Description | None = None
    home_market: MarketCode | None = None
    allow_creators: bool | None = None
    logo_url: ImageUrl | None = None


class StaffIn(_In):
    user_id: int = Field(ge=1, strict=True, le=MAX_ID)
    role: ShopStaffRole = ShopStaffRole.STAFF


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    shop_id: int
    user_id: int
    role: ShopStaffRole


class ShopOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    slug: str
    name: str
    description: str
    home_market: str
    logo_url: str | None
    allow_creators: bool
    created_at: datetime


class MyShopOut(ShopOut):
    my_role: ShopStaffRole


class ShopPage(BaseModel):
    items: list[ShopOut]
    total: int
    limit: int
    offset: int


# --- products, SKUs, prices ----------------------------------------------------------------


class PriceSetIn(_In):
    """Body of ``PUT /skus/{id}/prices/{market}``: the currency must be the market's."""

    currency: CurrencyCode
    amount_minor: AmountMinor
    is_available: bool = True


class PriceIn(PriceSetIn):
    market: MarketCode


class SkuIn(_In):
    code: SkuCode
    attributes: dict[AttrKey, AttrValue] = Field(default_factory=dict, max_length=20)
    is_active: bool = True
    prices: list[PriceIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_price_per_market(self) -> SkuIn:
        markets = [p.market for p in self.prices]
        if len(markets) != len(set(markets)):
            raise ValueError(gettext("prices: each market at most once"))
        return self


class SkuUpdateIn(_In):
    code: SkuCode | None = None
    attributes: dict[AttrKey, AttrValue] | None = Field(default=None, max_length=20)
    is_active: bool | None = None


class ProductIn(_In):
    title: Title
    description: Description = ""
    category: Category
    images: list[ImageUrl] = Field(default_factory=list, max_length=12)
    status: Literal["draft", "published"] = "draft"
    skus: list[SkuIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _unique_sku_codes(self) -> ProductIn:
        codes = [s.code for s in self.skus]
        if len(codes) != len(set(codes)):
            raise ValueError(gettext("skus: codes must be unique"))
        return self


class ProductUpdateIn(_In):
    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    images: list[ImageUrl] | None = Field(default=None, max_length=12)


class PriceOut(BaseModel):
    market: str
    currency: str
    amount_minor: int
    is_available: bool
    display: str = Field(description="Formatted for the market's locale, e.g. '£12.99'")

    @classmethod
    def of(cls, price: SkuPrice, markets: Mapping[str, Market]) -> PriceOut:
        return cls(
            market=price.market_code,
            currency=price.currency,
            amount_minor=price.amount_minor,
            is_available=price.is_available,
            display=display_price(markets[price.market_code], price.amount_minor),
        )


class SkuOut(BaseModel):
    id: int
    product_id: int
    code: str
    attributes: dict[str, str]
    is_active: bool
    prices: list[PriceOut]

    @classmethod
    def of(cls, sku: Sku, markets: Mapping[str, Market]) -> SkuOut:
        return cls(
            id=sku.id,
            product_id=sku.product_id,
            code=sku.code,
            attributes=dict(sku.attributes or {}),
            is_active=sku.is_active,
            prices=[
                PriceOut.of(p, markets) for p in sorted(sku.prices, key=lambda p: p.market_code)
            ],
        )


class ProductOut(BaseModel):
    id: int
    shop_id: int
    title: str
    description: str
    category: str
    status: ProductStatus
    images: list[str]
    skus: list[SkuOut]
    created_at: datetime
    updated_at: datetime
    # Filled when a market was asked for: available prices of active SKUs in that market.
    market: str | None = None
    currency: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    price_display: str | None = None

    @classmethod
    def of(
        cls,
        product: Product,
        markets: Mapping[str, Market],
        *,
        staff_view: bool,
        price_range: PriceRange | None = None,
    ) -> ProductOut:
        """Buyers see active SKUs only; the shop's staff see every SKU."""
        skus = [s for s in product.skus if staff_view or s.is_active]
        return cls(
            id=product.id,
            shop_id=product.shop_id,
            title=product.title,
            description=product.description,
            category=product.category,
            status=ProductStatus(product.status),
            images=list(product.images or []),
            skus=[SkuOut.of(s, markets) for s in skus],
            created_at=product.created_at,
            updated_at=product.updated_at,
            market=price_range.market if price_range else None,
            currency=price_range.currency if price_range else None,
            price_min=price_range.min_minor if price_range else None,
            price_max=price_range.max_minor if price_range else None,
            price_display=price_range.display if price_range else None,
        )


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int
