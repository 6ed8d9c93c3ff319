"""After-commit notifications other domains can listen to (the live room's stock bar and
purchase ticker). A listener's failure is logged, never undoes a committed order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("liveshop.orders.notify")


@dataclass(frozen=True, slots=True)
class PaidLine:
    sku_id: int
    product_id: int
    title: str
    quantity: int
    deal_id: int | None


@dataclass(frozen=True, slots=True)
class OrderPaid:
    order_id: int
    shop_id: int
    market_code: str
    currency: str
    total_minor: int  # what the buyer paid, shipping included
    goods_minor: int  # what the buyer paid for the goods (items − subsidy): a sale's GMV
    live_session_id: int | None
    creator_id: int | None
    lines: tuple[PaidLine, ...]


Listener = Callable[[OrderPaid], Awaitable[None]]


class OrderNotifier:
    """One per app: the live room registers here to show stock and the purchase ticker."""

    def __init__(self) -> None:
        self._paid: list[Listener] = []

    def on_paid(self, listener: Listener) -> Listener:
        if listener not in self._paid:
            self._paid.append(listener)
        return listener

    async def paid(self, event: OrderPaid) -> None:
        for listener in list(self._paid):
            try:
                await listener(event)
            except Exception:
                log.exception("order-paid listener failed", order_id=event.order_id)
