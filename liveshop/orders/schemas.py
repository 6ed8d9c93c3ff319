from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from liveshop.addresses.validation import address_lines
from liveshop.core.types import MAX_ID, BodyId, Line, Text
from liveshop.markets.models import Market
from liveshop.markets.service import display_price
from liveshop.orders.checkout import MAX_LINES, MAX_QUANTITY
from liveshop.orders.models import Order, OrderAddress, OrderEvent, OrderLine
from liveshop.orders.quote import Quote
from liveshop.orders.saved_cards import SavedCard
from liveshop.orders.status import OrderStatus


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, strict=True, le=MAX_ID)
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class AttributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    live_session_id: int | None = Field(default=None, ge=1, strict=True, le=MAX_ID)
    creator_id: int | None = Field(default=None, ge=1, strict=True, le=MAX_ID)


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    market: Line = Field(min_length=2, max_length=2)
    lines: list[LineIn] | None = Field(default=None, min_length=1, max_length=MAX_LINES)
    from_cart: bool = Field(default=False, description="Check out the cart's lines of `shop_id`.")
    shop_id: BodyId | None = None
    attribution: AttributionIn | None = None
    coupon_code: Line | None = Field(
        default=None, min_length=1, max_length=40, description="A seller's coupon code"
    )
    address_id: int | None = Field(
        strict=True,
        default=None,
        ge=1,
        le=2**63 - 1,
        description="One of your addresses in the market's country (default: your default one"
        " there; none: the order has no address until you give it one)",
    )


class CartQuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(ge=0, le=MAX_QUANTITY, description="0 removes the line", strict=True)


class CartLineOut(BaseModel):
    sku_id: int
    quantity: int
    title: str | None
    shop_id: int | None
    unit_price_minor: int | None
    display_price: str | None
    available: bool


class CartOut(BaseModel):
    market: str
    currency: str
    lines: list[CartLineOut]


MAX_ID = 2**63 - 1

CardNumber = Annotated[str, Field(strict=True, min_length=12, max_length=23, pattern=r"^[0-9 -]+$")]
ExpMonth = Annotated[int, Field(strict=True, ge=1, le=12)]
ExpYear = Annotated[int, Field(strict=True, ge=2000, le=2100)]
Cvc = Annotated[str, Field(strict=True, pattern=r"^[0-9]{3,4}$")]
SavedCardId = Annotated[
    int, Field(strict=True, ge=1, le=MAX_ID, description="One of your saved cards")
]


class PayIn(BaseModel):
    """Pay one way: a card's number, one of your saved cards, or your default card."""

    model_config = ConfigDict(extra="forbid")
    card_number: str | None = Field(
        default=None, min_length=12, max_length=23, pattern=r"^[0-9 -]+$"
    )
    exp_month: int | None = Field(default=None, ge=1, le=12, strict=True)
    exp_year: int | None = Field(default=None, ge=2000, le=2100, strict=True)
    cvc: str | None = Field(default=None, pattern=r"^[0-9]{3,4}$")
    saved_card_id: SavedCardId | None = None
    use_default_card: bool = Field(
        default=False, strict=True, description="Pay with your default saved card"
    )


class SavedCardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_number: CardNumber
    exp_month: ExpMonth
    exp_year: ExpYear
    cvc: Cvc | None = Field(default=None, description="Checked, never stored")
    make_default: bool = Field(
        default=False, strict=True, description="Your first card is the default anyway"
    )


class SavedCardOut(BaseModel):
    """A card kept by the payment provider: liveshop holds only these details."""

    id: int
    brand: str = Field(description="visa | mastercard | amex | discover | unknown")
    brand_name: str = Field(description="'Visa'")
    last4: str
    exp_month: int
    exp_year: int
    expired: bool
    is_default: bool
    label: str = Field(description="'Visa •••• 4242'")
    created_at: datetime

    @classmethod
    def of(cls, card: SavedCard) -> SavedCardOut:
        return cls(
            id=card.id,
            brand=card.brand,
            brand_name=card.brand_name,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            expired=card.expired(),
            is_default=card.is_default,
            label=card.label,
            created_at=card.created_at,
        )


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(default="", max_length=300)


class ShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: Line = Field(min_length=1, max_length=60)
    tracking_number: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9-]+$")


class RefundLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_id: int = Field(ge=1, strict=True, le=MAX_ID)
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[RefundLineIn] = Field(min_length=1, max_length=MAX_LINES)
    reason: Text = Field(default="", max_length=300)
    restock: bool | None = Field(
        default=None, description="Put units back on sale (default: only if not yet shipped)"
    )


class LineOut(BaseModel):
    id: int
    sku_id: int
    product_id: int
    title: str
    sku_code: str
    attributes: dict[str, Any]
    image_url: str | None
    quantity: int
    refunded_quantity: int
    list_price_minor: int
    unit_price_minor: int
    gross_minor: int
    tax_minor: int
    deal_id: int | None
    # Shown to the shop and admins only:
    platform_commission_minor: int | None = None
    creator_commission_minor: int | None = None
    seller_net_minor: int | None = None


class OrderOut(BaseModel):
    id: int
    status: OrderStatus
    buyer_id: int
    shop_id: int
    market: str
    currency: str
    items_minor: int = Field(description="Subtotal: the goods, tax included, after coupons")
    subsidy_minor: int = Field(description="Discount on the goods paid by the platform")
    shipping_minor: int = Field(description="The market's flat shipping fee, tax included")
    shipping_subsidy_minor: int = Field(description="Shipping paid by a free-shipping campaign")
    shipping_tax_minor: int = Field(description="Tax inside shipping_minor")
    tax_minor: int = Field(description="All tax on the order: goods and shipping")
    total_minor: int = Field(
        description="What the buyer pays: items − subsidy + shipping − shipping subsidy"
    )
    refunded_minor: int
    display_total: str
    live_session_id: int | None
    creator_id: int | None
    hold_expires_at: datetime | None
    shipping_carrier: str | None
    tracking_number: str | None
    cancel_reason: str | None
    created_at: datetime
    paid_at: datetime | None
    lines: list[LineOut]
    payment_mode: str = Field(description="'test' while the sandbox provider is used")

    @classmethod
    def of(
        cls, order: Order, market: Market, *, financials: bool, payment_mode: str = "test"
    ) -> OrderOut:
        return cls(
            id=order.id,
            status=OrderStatus(order.status),
            buyer_id=order.buyer_id,
            shop_id=order.shop_id,
            market=order.market_code,
            currency=order.currency,
            items_minor=order.items_minor,
            subsidy_minor=order.subsidy_minor,
            shipping_minor=order.shipping_minor,
            shipping_subsidy_minor=order.shipping_subsidy_minor,
            shipping_tax_minor=order.shipping_tax_minor,
            tax_minor=order.tax_minor,
            total_minor=order.total_minor,
            refunded_minor=order.refunded_minor,
            display_total=display_price(market, order.total_minor),
            live_session_id=order.live_session_id,
            creator_id=order.creator_id,
            hold_expires_at=order.hold_expires_at,
            shipping_carrier=order.shipping_carrier,
            tracking_number=order.tracking_number,
            cancel_reason=order.cancel_reason,
            created_at=order.created_at,
            paid_at=order.paid_at,
            lines=[_line(ln, financials) for ln in order.lines],
            payment_mode=payment_mode,
        )


def _line(ln: OrderLine, financials: bool) -> LineOut:
    out = LineOut(
        id=ln.id,
        sku_id=ln.sku_id,
        product_id=ln.product_id,
        title=ln.title,
        sku_code=ln.sku_code,
        attributes=dict(ln.attributes or {}),
        image_url=ln.image_url,
        quantity=ln.quantity,
        refunded_quantity=ln.refunded_quantity,
        list_price_minor=ln.list_price_minor,
        unit_price_minor=ln.unit_price_minor,
        gross_minor=ln.gross_minor,
        tax_minor=ln.tax_minor,
        deal_id=ln.deal_id,
    )
    if financials:
        out.platform_commission_minor = ln.platform_commission_minor
        out.creator_commission_minor = ln.creator_commission_minor
        out.seller_net_minor = ln.seller_net_minor
    return out


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


class OrderEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_status: str | None
    to_status: str
    actor_id: int | None
    note: str
    created_at: datetime

    @classmethod
    def of(cls, e: OrderEvent) -> OrderEventOut:
        return cls.model_validate(e)


class QuoteLineOut(BaseModel):
    sku_id: int
    product_id: int
    title: str
    quantity: int
    list_price_minor: int = Field(description="Per unit: the SKU's price in the market")
    unit_price_minor: int = Field(description="Per unit: what it sells at here (a deal price)")
    gross_minor: int = Field(description="The line, tax included, after a seller's coupon")
    subsidy_minor: int = Field(description="Of it, paid by a platform campaign")
    tax_minor: int
    deal_id: int | None


class QuoteDisplay(BaseModel):
    """The amounts formatted for the market (babel, like every page), all positive."""

    items: str
    items_before_coupon: str = Field(description="The goods before the seller's coupon")
    coupon: str = Field(description="The seller's coupon (already off items)")
    subsidy: str
    shipping: str
    shipping_subsidy: str
    tax: str
    total: str


class QuoteOut(BaseModel):
    """What buying these lines now would charge — the same amounts the order would carry."""

    market: str
    currency: str
    tax_name: str = Field(description="VAT, GST, sales tax… as the market names it")
    prices_include_tax: bool = Field(description="True: tax_minor is inside the prices")
    lines: list[QuoteLineOut]
    items_minor: int = Field(description="Subtotal: the goods, tax included, after coupons")
    coupon_minor: int = Field(description="The seller's coupon, already off items_minor")
    subsidy_minor: int = Field(description="Discount on the goods paid by the platform")
    shipping_minor: int = Field(description="The market's flat shipping fee, tax included")
    shipping_subsidy_minor: int = Field(description="Shipping paid by a free-shipping campaign")
    shipping_tax_minor: int = Field(description="Tax inside shipping_minor")
    tax_minor: int = Field(description="All tax on the order: goods and shipping")
    total_minor: int = Field(
        description="What the buyer pays: items − subsidy + shipping − shipping subsidy"
    )
    display: QuoteDisplay

    @classmethod
    def of(cls, quote: Quote) -> QuoteOut:
        market, t = quote.market, quote.totals

        def shown(amount: int) -> str:
            return display_price(market, amount)

        return cls(
            market=market.code,
            currency=market.currency,
            tax_name=market.tax_name,
            prices_include_tax=market.prices_include_tax,
            lines=[QuoteLineOut.model_validate(ln, from_attributes=True) for ln in quote.lines],
            items_minor=t.items_minor,
            coupon_minor=quote.coupon_minor,
            subsidy_minor=t.subsidy_minor,
            shipping_minor=t.shipping_minor,
            shipping_subsidy_minor=t.shipping_subsidy_minor,
            shipping_tax_minor=t.shipping_tax_minor,
            tax_minor=t.tax_minor,
            total_minor=t.total_minor,
            display=QuoteDisplay(
                items=shown(t.items_minor),
                items_before_coupon=shown(t.items_minor + quote.coupon_minor),
                coupon=shown(quote.coupon_minor),
                subsidy=shown(t.subsidy_minor),
                shipping=shown(t.shipping_minor),
                shipping_subsidy=shown(t.shipping_subsidy_minor),
                tax=shown(t.tax_minor),
                total=shown(t.total_minor),
            ),
        )


class OrderAddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address_id: int = Field(strict=True, ge=1, le=MAX_ID, description="One of your addresses")


class OrderAddressOut(BaseModel):
    """Where the order goes (the copy taken at checkout)."""

    order_id: int
    country_code: str
    full_name: str
    company_name: str
    phone: str
    street_address: str
    city: str
    city_area: str
    country_area: str
    postal_code: str
    sorting_code: str
    lines: list[str]

    @classmethod
    def of(cls, row: OrderAddress) -> OrderAddressOut:
        fields = row.fields()
        return cls(order_id=row.order_id, lines=address_lines(fields), **fields)


class OrderCouponIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    coupon_code: Line = Field(min_length=1, max_length=40, description="A seller's coupon code")
    dry_run: bool = Field(
        default=False, strict=True, description="only say what the order would cost"
    )


class OrderRequoteOut(BaseModel):
    coupon_code: str
    discount_minor: int
    items_minor: int
    tax_minor: int
    total_minor: int = Field(description="what the order costs with the coupon")
    was_total_minor: int
    applied: bool = Field(description="False for a dry run")
