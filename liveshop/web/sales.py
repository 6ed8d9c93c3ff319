"""A shop's recent sales for the seller center: per-day series, totals, creators.

Built from ``orders.queries.list_orders`` (the orders domain's read function) over the shop's
most recent orders; a shop with more than ``SCAN`` orders in the window sees the newest ones.
Amounts are summed per currency — a shop selling into GB and VN has two totals, never one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.markets.models import Market
from liveshop.markets.service import display_price, get_market
from liveshop.orders import queries
from liveshop.orders.models import Order
from liveshop.orders.status import OrderStatus
from liveshop.web.charts import Bar

SCAN = 500
DAYS = 14
# Orders whose money was captured (refunds are subtracted from the amount).
COUNTED = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.FULFILLING,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
        OrderStatus.REFUND_REQUESTED,
        OrderStatus.REFUNDED,
    }
)


@dataclass
class CurrencySales:
    currency: str
    market: Market  # used to format the currency
    per_day: dict[date, int] = field(default_factory=dict)

    @property
    def total_minor(self) -> int:
        return sum(self.per_day.values())

    @property
    def total_display(self) -> str:
        return display_price(self.market, self.total_minor)


@dataclass
class CreatorSales:
    creator_id: int
    orders: int = 0
    amounts: dict[str, int] = field(default_factory=dict)  # currency -> minor units


@dataclass
class ShopSales:
    days: list[date]
    orders_per_day: dict[date, int]
    by_currency: list[CurrencySales]
    to_ship: int
    awaiting_payment: int
    creators: list[CreatorSales]

    @property
    def orders_total(self) -> int:
        return sum(self.orders_per_day.values())

    def order_bars(self) -> list[Bar]:
        return [
            Bar(
                d.strftime("%d %b"),
                self.orders_per_day.get(d, 0),
                f"{d:%d %b}: {self.orders_per_day.get(d, 0)} orders",
            )
            for d in self.days
        ]

    def money_bars(self, sales: CurrencySales) -> list[Bar]:
        return [
            Bar(
                d.strftime("%d %b"),
                sales.per_day.get(d, 0),
                f"{d:%d %b}: {display_price(sales.market, sales.per_day.get(d, 0))}",
            )
            for d in self.days
        ]


def _day(order: Order) -> date:
    moment = order.paid_at or order.created_at
    return moment.astimezone(UTC).date()


async def shop_sales(
    session: AsyncSession, shop_id: int, *, today: date | None = None
) -> ShopSales:
    today = today or datetime.now(UTC).date()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    first = days[0]
    rows: Sequence[Order]
    rows, _ = await queries.list_orders(session, shop_id=shop_id, limit=SCAN)
    per_day: dict[date, int] = defaultdict(int)
    currencies: dict[str, CurrencySales] = {}
    creators: dict[int, CreatorSales] = {}
    to_ship = awaiting = 0
    for order in rows:
        status = OrderStatus(order.status)
        if status in (OrderStatus.PAID, OrderStatus.FULFILLING):
            to_ship += 1
        if status is OrderStatus.PENDING_PAYMENT:
            awaiting += 1
        if status not in COUNTED:
            continue
        amount = order.total_minor - order.refunded_minor
        if order.creator_id is not None:
            c = creators.setdefault(order.creator_id, CreatorSales(order.creator_id))
            c.orders += 1
            c.amounts[order.currency] = c.amounts.get(order.currency, 0) + amount
        day = _day(order)
        if day < first:
            continue
        per_day[day] += 1
        if order.currency not in currencies:
            market = await get_market(session, order.market_code)
            currencies[order.currency] = CurrencySales(order.currency, market)
        sales = currencies[order.currency]
        sales.per_day[day] = sales.per_day.get(day, 0) + amount
    return ShopSales(
        days=days,
        orders_per_day=dict(per_day),
        by_currency=sorted(currencies.values(), key=lambda s: s.currency),
        to_ship=to_ship,
        awaiting_payment=awaiting,
        creators=sorted(creators.values(), key=lambda c: -c.orders),
    )
