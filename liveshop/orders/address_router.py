"""An order's delivery address over the API: read it (buyer, the shop's staff, admins) and
change it before the seller starts packing (buyer)."""

from __future__ import annotations

from fastapi import APIRouter

from liveshop.accounts.deps import BuyerPrincipal, CurrentPrincipal, SessionDep
from liveshop.addresses import service as addresses
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id
from liveshop.orders import ship_to
from liveshop.orders.completion import load_order
from liveshop.orders.schemas import OrderAddressIn, OrderAddressOut

router = APIRouter(prefix="/api/v1", tags=["orders"], responses=PROBLEM_RESPONSES)


@router.get("/orders/{order_id}/address")
async def get_order_address(
    order_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> OrderAddressOut | None:
    """Where the order goes (null: no address yet). The buyer, the shop's staff and admins
    only; anyone else (creators, agencies, other shops, other buyers) gets 404."""
    row = await ship_to.visible_order_address(session, principal, order_id)
    return None if row is None else OrderAddressOut.of(row)


@router.put("/orders/{order_id}/address")
async def change_order_address(
    order_id: Id, body: OrderAddressIn, principal: BuyerPrincipal, session: SessionDep
) -> OrderAddressOut:
    """Send a not yet packed order to another of your addresses in its market's country."""
    order = await load_order(session, order_id)
    if order.buyer_id != principal.user_id:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    target = await addresses.address_snapshot(
        session, principal.user_id, body.address_id, order.market_code
    )
    row = await ship_to.change_order_address(
        session, buyer_id=principal.user_id, order_id=order_id, ship_to=target
    )
    return OrderAddressOut.of(row)
