"""Order states and the only transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # placed, stock held until hold_expires_at, not paid
    PAID = "paid"  # money captured, stock sold, ledger posted
    FULFILLING = "fulfilling"  # the seller is packing it
    SHIPPED = "shipped"  # handed to a carrier, has a tracking number
    DELIVERED = "delivered"  # the carrier delivered it; the return window runs
    COMPLETED = "completed"  # return window over; nothing more can change
    CANCELLED = "cancelled"  # ended before shipping; paid money (if any) refunded in full
    REFUND_REQUESTED = "refund_requested"  # the buyer asked for money back; the seller decides
    REFUNDED = "refunded"  # every line refunded in full


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.FULFILLING, S.CANCELLED, S.REFUND_REQUESTED, S.REFUNDED}),
    S.FULFILLING: frozenset({S.SHIPPED, S.CANCELLED, S.REFUND_REQUESTED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUND_REQUESTED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.REFUND_REQUESTED, S.REFUNDED}),
    # A decided request goes back to where the order was, or to refunded.
    S.REFUND_REQUESTED: frozenset({S.PAID, S.FULFILLING, S.SHIPPED, S.DELIVERED, S.REFUNDED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# States in which money has been captured and (part of) it can be refunded.
REFUNDABLE = frozenset({S.PAID, S.FULFILLING, S.SHIPPED, S.DELIVERED, S.REFUND_REQUESTED})
# States in which goods have not left the warehouse: a refund puts units back on sale.
NOT_SHIPPED = frozenset({S.PENDING_PAYMENT, S.PAID, S.FULFILLING})


def ensure_transition(current: str, target: OrderStatus) -> None:
    if target not in TRANSITIONS[OrderStatus(current)]:
        raise Conflict(
            _(
                "an order that is %(current)s cannot become %(target)s",
                current=current,
                target=target,
            ),
            code="illegal-order-transition",
            status_now=current,
            wanted=str(target),
        )
