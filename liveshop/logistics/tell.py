"""What the buyer is told at each step of a delivery or a return (``notices``: in the same
transaction as the change it tells about), worded in the buyer's language (``notify`` renders
the lazy words in it; the order's market is the language of a buyer who chose none)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy, lazy_gettext
from liveshop.logistics.eta import date_range
from liveshop.logistics.models import ReturnRequest, Shipment, TrackingStatus
from liveshop.notices.service import notify
from liveshop.orders.models import Order

T = TrackingStatus
_PARCEL: dict[str, tuple[object, object]] = {
    T.PICKED_UP: (
        lazy_gettext("Order #%(o)s has shipped"),
        lazy_gettext("%(carrier)s has your parcel (%(n)s)."),
    ),
    T.DELAYED: (
        lazy_gettext("Order #%(o)s is delayed"),
        lazy_gettext("%(carrier)s says your parcel (%(n)s) is running late."),
    ),
    T.OUT_FOR_DELIVERY: (
        lazy_gettext("Order #%(o)s is out for delivery"),
        lazy_gettext("It should reach you today (%(n)s)."),
    ),
    T.FAILED_ATTEMPT: (
        lazy_gettext("We missed you: order #%(o)s"),
        lazy_gettext("%(carrier)s could not deliver your parcel (%(n)s); it will try again."),
    ),
    T.DELIVERED: (
        lazy_gettext("Order #%(o)s was delivered"),
        lazy_gettext("%(carrier)s delivered your parcel (%(n)s)."),
    ),
    T.LOST: (
        lazy_gettext("Order #%(o)s: your parcel is lost"),
        lazy_gettext(
            "%(carrier)s has lost your parcel (%(n)s). You are refunded in full for what was in it."
        ),
    ),
}


async def _market_of(session: AsyncSession, order_id: int) -> str | None:
    return await session.scalar(select(Order.market_code).where(Order.id == order_id))


async def parcel_moved(session: AsyncSession, order: Order, shipment: Shipment) -> None:
    words = _PARCEL.get(shipment.status)
    if words is None:
        return
    fill = {"o": order.id, "carrier": shipment.carrier_name, "n": shipment.tracking_number}
    subject, body = words
    await notify(
        session,
        order.buyer_id,
        kind=f"parcel.{shipment.status}",
        subject=lazy(lambda: str(subject) % fill),
        body=lazy(lambda: str(body) % fill),
        link=f"/orders/{order.id}#parcels",
        market_code=order.market_code,
    )


async def return_decided(session: AsyncSession, request: ReturnRequest) -> None:
    link = f"/orders/{request.order_id}#returns"
    if request.status == "approved":
        subject = lazy_gettext("Return approved: order #%(order)s", order=request.order_id)
        body = lazy_gettext(
            "Print the return label and send the parcel back (%(tracking)s); "
            "you are refunded when the seller receives it.",
            tracking=request.tracking_number,
        )
    elif request.status == "rejected":
        subject = lazy_gettext("Return refused: order #%(order)s", order=request.order_id)
        body = lazy_gettext("The seller refused the return: %(note)s", note=request.decision_note)
    else:
        subject = lazy_gettext("Refunded: order #%(order)s", order=request.order_id)
        body = lazy_gettext(
            "The seller received your return; the money is on its way back to your card."
        )
    await notify(
        session,
        request.buyer_id,
        kind=f"return.{request.status}",
        subject=subject,
        body=body,
        link=link,
        market_code=await _market_of(session, request.order_id),
    )


async def cancelled_late(
    session: AsyncSession, buyer_id: int, order_id: int, deadline: date
) -> None:
    """The overdue sweeper cancelled the order (no request: the buyer's language, and the
    deadline as it is written in it)."""
    await notify(
        session,
        buyer_id,
        kind="order.cancelled_late",
        subject=lazy_gettext("Order #%(order)s was cancelled and refunded", order=order_id),
        body=lazy(
            lambda: _(
                "The seller did not send it by %(deadline)s, so we cancelled the order and "
                "refunded you in full.",
                deadline=date_range(deadline, deadline),
            )
        ),
        link=f"/orders/{order_id}",
        market_code=await _market_of(session, order_id),
    )


async def return_arrived(session: AsyncSession, request: ReturnRequest) -> None:
    await notify(
        session,
        request.buyer_id,
        kind="return.arrived",
        subject=lazy_gettext(
            "Your return reached the shop: order #%(order)s", order=request.order_id
        ),
        body=lazy_gettext(
            "%(carrier)s delivered it (%(tracking)s); you are "
            "refunded as soon as the seller checks it in.",
            carrier=request.carrier_name,
            tracking=request.tracking_number,
        ),
        link=f"/orders/{request.order_id}#returns",
        market_code=await _market_of(session, request.order_id),
    )
