"""Where an order goes: reading its address copy, and changing it before it ships.

Only the buyer, the shop's staff and admins see it (``queries.visible_order``: anyone else
gets 404, as for the order itself) — never a creator, an agency, another shop or another
buyer.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.addresses.service import ShipTo
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.orders.checkout import ship_to_row
from liveshop.orders.completion import load_order
from liveshop.orders.models import OrderAddress
from liveshop.orders.queries import visible_order
from liveshop.orders.status import NOT_SHIPPED, OrderStatus


async def order_address(session: AsyncSession, order_id: int) -> OrderAddress | None:
    found: OrderAddress | None = await session.scalar(
        select(OrderAddress).where(OrderAddress.order_id == order_id)
    )
    return found


async def visible_order_address(
    session: AsyncSession, principal: Principal, order_id: int
) -> OrderAddress | None:
    """The order's address for its buyer, its shop's staff or an admin; 404 for anyone else."""
    await visible_order(session, principal, order_id)
    return await order_address(session, order_id)


async def change_order_address(
    session: AsyncSession, *, buyer_id: int, order_id: int, ship_to: ShipTo
) -> OrderAddress:
    """The buyer sends a not yet shipped order elsewhere (the buy sheet's "change"). Commits."""
    order = await load_order(session, order_id)
    if order.buyer_id != buyer_id:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    if order.status not in NOT_SHIPPED or order.status == OrderStatus.FULFILLING:
        raise Conflict(
            _("an order that is %(status)s can no longer change its address", status=order.status),
            code="too-late-to-change-address",
        )
    if ship_to.address.country_code != order.market_code:
        raise Unprocessable(
            _("the delivery address is not in this market's country"),
            code="address-wrong-country",
            field="address_id",
        )
    await session.execute(delete(OrderAddress).where(OrderAddress.order_id == order_id))
    row = ship_to_row(order_id, ship_to)
    session.add(row)
    await session.commit()
    return row
