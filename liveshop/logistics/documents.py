"""A shipment's label and packing slip from the database (``labels.render`` draws them)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.addresses.validation import address_lines
from liveshop.catalog.service import get_shop
from liveshop.core.errors import Conflict
from liveshop.core.i18n import gettext as _
from liveshop.logistics.labels import LabelData, SlipLine, render
from liveshop.logistics.models import ReturnRequest, Shipment
from liveshop.markets.service import get_market
from liveshop.orders.completion import load_order
from liveshop.orders.ship_to import order_address


async def label_pdf(session: AsyncSession, shipment: Shipment) -> bytes:
    order = await load_order(session, shipment.order_id)
    ship_to = await order_address(session, order.id)
    if ship_to is None:  # a shipment is never created without one
        raise Conflict(_("the order has no delivery address"), code="no-delivery-address")
    shop = await get_shop(session, shipment.shop_id)
    market = await get_market(session, order.market_code)
    by_id = {line.id: line for line in order.lines}
    lines = []
    for item in shipment.lines:
        line = by_id[item.order_line_id]
        variant = " · ".join(str(v) for v in (line.attributes or {}).values() if v)
        lines.append(SlipLine(line.title, variant, line.sku_code, item.quantity))
    data = LabelData(
        shipment_id=shipment.id,
        order_id=order.id,
        carrier_name=shipment.carrier_name,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
        weight_grams=shipment.weight_grams,
        size_mm=(shipment.length_mm, shipment.width_mm, shipment.height_mm),
        ship_from=[shop.name, market.name],
        ship_to=address_lines(ship_to.fields()),
        phone=ship_to.phone,
        lines=lines,
    )
    return render(data)


async def return_label_pdf(session: AsyncSession, request: ReturnRequest) -> bytes:
    """The label the buyer sticks on the parcel going back: from them to the shop."""
    if request.tracking_number is None:
        raise Conflict(_("the return is not approved"), code="return-changed")
    order = await load_order(session, request.order_id)
    ship_from = await order_address(session, order.id)
    shop = await get_shop(session, request.shop_id)
    market = await get_market(session, order.market_code)
    by_id = {line.id: line for line in order.lines}
    lines = [
        SlipLine(by_id[i.order_line_id].title, "", by_id[i.order_line_id].sku_code, i.quantity)
        for i in request.lines
    ]
    data = LabelData(
        shipment_id=request.id,
        order_id=order.id,
        carrier_name=f"{request.carrier_name} · RETURN",
        service="standard",
        tracking_number=request.tracking_number,
        weight_grams=500,
        size_mm=(250, 180, 80),
        ship_from=address_lines(ship_from.fields()) if ship_from else [_("The buyer")],
        ship_to=[shop.name, _("Returns"), market.name],
        phone="",
        lines=lines,
    )
    return render(data)
