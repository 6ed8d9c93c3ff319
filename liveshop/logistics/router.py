"""Shipments over the API: book a parcel (shop staff), read an order's parcels and tracking
(buyer, shop staff, admins), the label PDF (shop staff), the to-ship queue, and carriers'
signed tracking webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from sqlalchemy import select

from liveshop.accounts.deps import (
    BuyerPrincipal,
    CurrentPrincipal,
    MaybePrincipal,
    SellerPrincipal,
    SessionDep,
)
from liveshop.accounts.service import Principal
from liveshop.addresses.service import default_address_snapshot
from liveshop.addresses.validation import address_lines
from liveshop.catalog.models import Product
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.i18n import gettext
from liveshop.core.types import Id, Line
from liveshop.logistics import returns, shipments, sla
from liveshop.logistics.carriers import Carrier
from liveshop.logistics.documents import label_pdf
from liveshop.logistics.eta import shop_eta
from liveshop.logistics.schemas import (
    DecisionIn,
    DeliveryOut,
    EtaOut,
    ReturnIn,
    ReturnOut,
    ShipmentIn,
    ShipmentOut,
    ToShipOut,
)
from liveshop.logistics.signing import secret_for
from liveshop.logistics.webhooks import handle_tracking_webhook
from liveshop.markets.service import get_market
from liveshop.orders import queries
from liveshop.orders.payments.provider import PaymentProvider

router = APIRouter(prefix="/api/v1", tags=["logistics"], responses=PROBLEM_RESPONSES)


def carrier_of(request: Request, code: str) -> Carrier:
    carriers: dict[str, Carrier] = request.app.state.carriers
    if code not in carriers:
        raise NotFound(gettext("no carrier %(code)s", code=repr(code)), code="unknown-carrier")
    return carriers[code]


def provider_of(request: Request) -> PaymentProvider:
    providers: dict[str, PaymentProvider] = request.app.state.payment_providers
    return providers["sandbox"]


def speedup_of(request: Request) -> float:
    return float(request.app.state.settings.simulated_carrier_speedup)


async def _out(session: SessionDep, shipment_id: Id) -> ShipmentOut:
    shipment = await shipments.get_shipment(session, shipment_id)
    return ShipmentOut.of(shipment, await shipments.tracking_timeline(session, shipment.id))


@router.post("/orders/{order_id}/shipments", status_code=status.HTTP_201_CREATED)
async def create_shipment(
    order_id: Id,
    body: ShipmentIn,
    request: Request,
    principal: SellerPrincipal,
    session: SessionDep,
) -> ShipmentOut:
    """Book a parcel of the order (the shop's staff). Manual: with the carrier's tracking
    number, shipped at once. Simulated: a label now, tracking webhooks as it travels."""
    await queries.staff_order(session, principal, order_id)
    shipment = await shipments.create_shipment(
        session,
        order_id,
        actor_id=principal.user_id,
        carrier=carrier_of(request, body.carrier),
        parcel=shipments.ParcelIn(
            weight_grams=body.weight_grams,
            length_mm=body.length_mm,
            width_mm=body.width_mm,
            height_mm=body.height_mm,
            service=body.service,
        ),
        lines=None
        if body.lines is None
        else [shipments.LineQty(ln.order_line_id, ln.quantity) for ln in body.lines],
        tracking_number=body.tracking_number,
        carrier_name=body.carrier_name,
        speedup=speedup_of(request),
    )
    return await _out(session, shipment.id)


@router.get("/orders/{order_id}/shipments")
async def list_shipments(
    order_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> list[ShipmentOut]:
    """The order's parcels and their tracking (buyer, the shop's staff, admins)."""
    await queries.visible_order(session, principal, order_id)
    found = await shipments.order_shipments(session, order_id)
    return [await _out(session, s.id) for s in found]


@router.get("/shipments/{shipment_id}/label.pdf", response_class=Response)
async def shipment_label(
    shipment_id: Id, principal: SellerPrincipal, session: SessionDep
) -> Response:
    """The label (tracking barcode and QR code) and packing slip, as a PDF."""
    shipment = await shipments.get_shipment(session, shipment_id)
    await queries.staff_order(session, principal, shipment.order_id)
    pdf = await label_pdf(session, shipment)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{shipment.tracking_number}.pdf"'},
    )


@router.post("/shipments/{shipment_id}/delivered")
async def confirm_delivery(
    shipment_id: Id, principal: SellerPrincipal, session: SessionDep
) -> ShipmentOut:
    """A parcel sent with another carrier (manual) arrived: the shop's staff confirm it."""
    shipment = await shipments.get_shipment(session, shipment_id)
    await queries.staff_order(session, principal, shipment.order_id)
    await shipments.confirm_manual_delivery(session, shipment_id)
    return await _out(session, shipment_id)


@router.get("/shops/{shop_id}/to-ship")
async def to_ship(shop_id: Id, principal: SellerPrincipal, session: SessionDep) -> list[ToShipOut]:
    """The shop's paid orders not yet with a carrier, soonest dispatch deadline first."""
    await ensure_shop_staff(session, principal, shop_id)
    return [
        ToShipOut(order_id=d.order.id, deadline=d.deadline, late=d.late, cancels_at=d.cancels_at)
        for d in await sla.queue(session, shop_id)
    ]


@router.post("/logistics/webhooks/{carrier}")
async def tracking_webhook(
    carrier: Line, request: Request, session: SessionDep, _: MaybePrincipal
) -> dict[str, str]:
    """A carrier's tracking event, authenticated by its HMAC signature (``Carrier-Signature:
    t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``), not by a user. A redelivered event
    changes nothing; events may arrive in any order."""
    carrier_of(request, carrier)
    result = await handle_tracking_webhook(
        session,
        carrier=carrier,
        secret=secret_for(request.app.state.settings.secret_key, carrier),
        body=await request.body(),
        headers=request.headers,
        provider=provider_of(request),
    )
    return {"result": result}


@router.get("/products/{product_id}/delivery")
async def product_delivery(
    product_id: Id,
    session: SessionDep,
    principal: MaybePrincipal,
    market: Annotated[Line, Query(min_length=2, max_length=2)],
) -> DeliveryOut:
    """When it would arrive if paid now (P50–P90 from the shop's deliveries in the market,
    in working days; the market's default when there are too few), and where (your default
    address there, when you are signed in)."""
    shop_id = await session.scalar(select(Product.shop_id).where(Product.id == product_id))
    if shop_id is None:
        raise NotFound(
            gettext("product %(product_id)s does not exist", product_id=product_id),
            code="product-not-found",
        )
    m = await get_market(session, market.upper())
    eta = await shop_eta(session, int(shop_id), m.code, m.timezone, now=utcnow())
    lines = None
    if principal is not None:
        mine = await default_address_snapshot(session, principal.user_id, m.code)
        lines = None if mine is None else address_lines(mine.address.as_dict())
    return DeliveryOut(eta=EtaOut.of(eta), ship_to=lines)


# -- returns ----------------------------------------------------------------------------------
@router.post("/orders/{order_id}/returns", status_code=status.HTTP_201_CREATED)
async def request_return(
    order_id: Id, body: ReturnIn, principal: BuyerPrincipal, session: SessionDep
) -> ReturnOut:
    """Send units of a delivered order back, within its return window."""
    made = await returns.request_return(
        session,
        order_id,
        buyer_id=principal.user_id,
        lines=[returns.ReturnQty(ln.order_line_id, ln.quantity) for ln in body.lines],
        reason=body.reason,
        note=body.note,
    )
    return ReturnOut.of(await returns.get_return(session, made.id))


@router.get("/orders/{order_id}/returns")
async def list_returns(
    order_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> list[ReturnOut]:
    """The order's returns (buyer, the shop's staff, admins)."""
    await queries.visible_order(session, principal, order_id)
    return [ReturnOut.of(r) for r in await returns.order_returns(session, order_id)]


async def _staff_return(session: SessionDep, principal: Principal, return_id: Id) -> int:
    found = await returns.get_return(session, return_id)
    await queries.staff_order(session, principal, found.order_id)
    return found.order_id


@router.post("/returns/{return_id}/approve")
async def approve_return(
    return_id: Id, request: Request, principal: SellerPrincipal, session: SessionDep
) -> ReturnOut:
    """The shop's staff: the return parcel is booked with the simulated carrier (a label
    for the buyer; tracked back to the shop by its webhooks)."""
    await _staff_return(session, principal, return_id)
    done = await returns.approve(
        session, return_id, actor_id=principal.user_id, speedup=speedup_of(request)
    )
    return ReturnOut.of(done)


@router.post("/returns/{return_id}/reject")
async def reject_return(
    return_id: Id, body: DecisionIn, principal: SellerPrincipal, session: SessionDep
) -> ReturnOut:
    await _staff_return(session, principal, return_id)
    done = await returns.reject(session, return_id, actor_id=principal.user_id, reason=body.reason)
    return ReturnOut.of(done)


@router.post("/returns/{return_id}/receive")
async def receive_return(
    return_id: Id, request: Request, principal: SellerPrincipal, session: SessionDep
) -> ReturnOut:
    """The parcel is back: the units are restocked and the buyer refunded exactly."""
    await _staff_return(session, principal, return_id)
    done = await returns.receive(
        session, provider_of(request), return_id, actor_id=principal.user_id
    )
    return ReturnOut.of(done)
