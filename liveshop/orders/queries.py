"""Read side: who may see an order, and lists for buyers and shops."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.catalog.service import is_shop_staff
from liveshop.core.errors import Forbidden, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.orders.completion import load_order
from liveshop.orders.models import Order, OrderEvent
from liveshop.orders.status import OrderStatus


async def visible_order(
    session: AsyncSession, principal: Principal, order_id: int
) -> tuple[Order, bool]:
    """The order and whether the caller sees its financials (shop staff, admin).

    Anyone else gets 404 — not 403 — so order ids do not leak."""
    order = await load_order(session, order_id)
    if principal.is_admin:
        return order, True
    if await is_shop_staff(session, principal.user_id, order.shop_id):
        return order, True
    if order.buyer_id == principal.user_id:
        return order, False
    raise NotFound(
        _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
    )


async def staff_order(session: AsyncSession, principal: Principal, order_id: int) -> Order:
    order, financials = await visible_order(session, principal, order_id)
    if not financials:
        raise Forbidden(_("only the shop's staff can do this"), code="not-shop-staff")
    return order


async def list_orders(
    session: AsyncSession,
    *,
    buyer_id: int | None = None,
    shop_id: int | None = None,
    status: OrderStatus | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[Sequence[Order], int]:
    query = select(Order)
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    if shop_id is not None:
        query = query.where(Order.shop_id == shop_id)
    if status is not None:
        query = query.where(Order.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Order.id.desc()).limit(limit).offset(offset))
    return rows.all(), total


async def order_events(session: AsyncSession, order_id: int) -> Sequence[OrderEvent]:
    rows = await session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    )
    return rows.all()
