"""The seller's shipping: the to-ship queue (``/seller/to-ship``), booking a parcel from an
order page (simulated carrier or by hand), and its label and packing slip as a PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from liveshop.accounts.deps import SellerPrincipal, SessionDep
from liveshop.core.errors import Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line
from liveshop.logistics import shipments, sla
from liveshop.logistics.documents import label_pdf
from liveshop.logistics.router import carrier_of, speedup_of
from liveshop.orders import queries, ship_to
from liveshop.web.flash import redirect
from liveshop.web.pages_seller import ShopParam, _names, _no_shop, _pick_shop
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(prefix="/seller", tags=["pages"])

Size = Annotated[int, Form(ge=1, le=2_000)]


@router.get("/to-ship")
async def to_ship_page(
    request: Request, session: SessionDep, principal: SellerPrincipal, shop_id: ShopParam = None
) -> Response:
    shop, shops = await _pick_shop(session, principal, shop_id)
    if shop is None:
        return await _no_shop(request, session, principal)
    due = await sla.queue(session, shop.id)
    addresses = {d.order.id: await ship_to.order_address(session, d.order.id) for d in due}
    context = {
        "title": _("To ship · %(name)s", name=shop.name),
        "shop": shop,
        "shops": shops,
        "section": "to-ship",
        "due": due,
        "late": sum(1 for d in due if d.late),
        "on_time": await sla.on_time_rate(session, shop.id),
        "rate_days": sla.RATE_DAYS,
        "addresses": addresses,
        "buyers": await _names(session, {d.order.buyer_id for d in due}),
    }
    return await render(request, session, principal, "seller/to_ship.html", context)


@router.post("/orders/{order_id}/shipments")
async def book_parcel(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: SellerPrincipal,
    carrier: Annotated[str, Form(pattern="^(manual|simulated)$")],
    weight_grams: Annotated[int, Form(ge=1, le=70_000)],
    length_mm: Size,
    width_mm: Size,
    height_mm: Size,
    service: Annotated[str, Form(pattern="^(standard|express)$")] = "standard",
    tracking_number: Annotated[Line, Form(max_length=80)] = "",
    carrier_name: Annotated[Line, Form(max_length=60)] = "",
) -> Response:
    """The units in this parcel: one ``qty-<order line id>`` field per line still to ship
    (a line left out, or at 0, stays for another parcel); without any, every unit."""
    back = f"/seller/orders/{order_id}"
    await queries.staff_order(session, principal, order_id)
    form = await request.form()
    lines: list[shipments.LineQty] | None = None
    asked = {k: v for k, v in form.items() if k.startswith("qty-")}
    if asked:
        lines = []
        for key, value in asked.items():
            line_id, count = key[4:], str(value).strip() or "0"
            if not (line_id.isdigit() and count.isdigit()) or len(line_id + count) > 30:
                return redirect(f"{back}#ship-parcel", flash=("error", _("Units must be numbers.")))
            if int(count):
                lines.append(shipments.LineQty(int(line_id), int(count)))
        if not lines:
            return redirect(
                f"{back}#ship-parcel", flash=("error", _("Put at least one unit in the parcel."))
            )
    try:
        shipment = await shipments.create_shipment(
            session,
            order_id,
            actor_id=principal.user_id,
            carrier=carrier_of(request, carrier),
            parcel=shipments.ParcelIn(weight_grams, length_mm, width_mm, height_mm, service),
            lines=lines,
            tracking_number=tracking_number or None,
            carrier_name=carrier_name or None,
            speedup=speedup_of(request),
        )
    except Problem as exc:
        if exc.status >= 500:
            raise
        await session.rollback()
        return redirect(f"{back}#parcels", flash=("error", exc.detail))
    return redirect(
        f"{back}#parcel-{shipment.id}",
        flash=(
            "success",
            _(
                "Parcel booked: %(carrier_name)s %(tracking_number)s.",
                carrier_name=shipment.carrier_name,
                tracking_number=shipment.tracking_number,
            ),
        ),
    )


@router.get("/shipments/{shipment_id}/label.pdf")
async def label(shipment_id: Id, session: SessionDep, principal: SellerPrincipal) -> Response:
    shipment = await shipments.get_shipment(session, shipment_id)
    await queries.staff_order(session, principal, shipment.order_id)
    return Response(
        await label_pdf(session, shipment),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{shipment.tracking_number}.pdf"'},
    )


@router.post("/shipments/{shipment_id}/delivered")
async def confirm_delivery(
    shipment_id: Id, session: SessionDep, principal: SellerPrincipal
) -> Response:
    """A parcel sent with another carrier arrived (the seller confirms it)."""
    shipment = await shipments.get_shipment(session, shipment_id)
    await queries.staff_order(session, principal, shipment.order_id)
    await shipments.confirm_manual_delivery(session, shipment_id)
    return redirect(
        f"/seller/orders/{shipment.order_id}#parcel-{shipment_id}",
        flash=(
            "success",
            _("Parcel %(tracking_number)s delivered.", tracking_number=shipment.tracking_number),
        ),
    )
