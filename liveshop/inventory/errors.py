"""Inventory problems other domains catch or let through to the caller."""

from __future__ import annotations

from typing import Any

from liveshop.core.errors import Conflict, Unprocessable


class OutOfStock(Conflict):
    """Not enough units to hold. ``available`` is the most one reservation could get now."""

    code = "out-of-stock"

    def __init__(self, detail: str, *, available: int, **extra: Any) -> None:
        super().__init__(detail, available=available, **extra)
        self.available = available


class ReservationLost(Conflict):
    """A late payment found its hold expired or released and the units already gone."""

    code = "reservation-expired"


class StockWouldGoNegative(Conflict):
    code = "stock-would-go-negative"


class BadQuantity(Unprocessable):
    code = "bad-quantity"
