"""Moving an order along its status machine: one guarded step, shared by every operation.

The UPDATE is conditional on the status read (the WHERE is the guard), so two concurrent
actions cannot both move the same order; the loser gets 409 ``order-changed``.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.orders.models import Order, OrderEvent
from liveshop.orders.status import OrderStatus, ensure_transition


async def move_status(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    *,
    actor_id: int | None,
    note: str = "",
    **values: object,
) -> None:
    """Conditional status change (the WHERE on the old status is the guard). Does not commit."""
    current = order.status
    ensure_transition(current, target)
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == current)
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(_("the order changed meanwhile; reload it"), code="order-changed")
    session.add(
        OrderEvent(
            order_id=order.id, from_status=current, to_status=target, actor_id=actor_id, note=note
        )
    )
