"""What the buyer is told at each step of a delivery or a return (``notices``: in the same
transaction as the change it tells about)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.logistics.models import ReturnRequest, Shipment, TrackingStatus
from liveshop.notices.service import notify
from liveshop.orders.models import Order

T = TrackingStatus
_PARCEL: dict[str, tuple[str, str]] = {
    T.PICKED_UP: ("Order #{o} has shipped", "{carrier} has your parcel ({n})."),
    T.DELAYED: ("Order #{o} is delayed", "{carrier} says your parcel ({n}) is running late."),
    T.OUT_FOR_DELIVERY: ("Order #{o} is out for delivery", "It should reach you today ({n})."),
    T.FAILED_ATTEMPT: (
        "We missed you: order #{o}",
        "{carrier} could not deliver your parcel ({n}); it will try again.",
    ),
    T.DELIVERED: ("Order #{o} was delivered", "{carrier} delivered your parcel ({n})."),
    T.LOST: (
        "Order #{o}: your parcel is lost",
        "{carrier} has lost your parcel ({n}). You are refunded in full for what was in it.",
    ),
}


def parcel_moved(session: AsyncSession, order: Order, shipment: Shipment) -> None:
    words = _PARCEL.get(shipment.status)
    if words is None:
        return
    fill = {"o": order.id, "carrier": shipment.carrier_name, "n": shipment.tracking_number}
    notify(
        session,
        order.buyer_id,
        kind=f"parcel.{shipment.status}",
        subject=words[0].format(**fill),
        body=words[1].format(**fill),
        link=f"/orders/{order.id}#parcels",
    )


def return_decided(session: AsyncSession, request: ReturnRequest) -> None:
    link = f"/orders/{request.order_id}#returns"
    if request.status == "approved":
        subject = f"Return approved: order #{request.order_id}"
        body = (
            f"Print the return label and send the parcel back ({request.tracking_number}); "
            "you are refunded when the seller receives it."
        )
    elif request.status == "rejected":
        subject = f"Return refused: order #{request.order_id}"
        body = f"The seller refused the return: {request.decision_note}"
    else:
        subject = f"Refunded: order #{request.order_id}"
        body = "The seller received your return; the money is on its way back to your card."
    notify(
        session,
        request.buyer_id,
        kind=f"return.{request.status}",
        subject=subject,
        body=body,
        link=link,
    )


def cancelled_late(session: AsyncSession, buyer_id: int, order_id: int, reason: str) -> None:
    notify(
        session,
        buyer_id,
        kind="order.cancelled_late",
        subject=f"Order #{order_id} was cancelled and refunded",
        body=f"The seller did not send it in time: {reason}.",
        link=f"/orders/{order_id}",
    )


def return_arrived(session: AsyncSession, request: ReturnRequest) -> None:
    notify(
        session,
        request.buyer_id,
        kind="return.arrived",
        subject=f"Your return reached the shop: order #{request.order_id}",
        body=(
            f"{request.carrier_name} delivered it ({request.tracking_number}); you are "
            "refunded as soon as the seller checks it in."
        ),
        link=f"/orders/{request.order_id}#returns",
    )
