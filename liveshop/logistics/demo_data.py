"""Demo logistics: delivery addresses for most demo buyers, and each demo shop's past
deliveries in its home market (so ETAs and on-time rates are real on ``make run``).

Written through the services (checkout, payment, shipment, tracking event) and then dated
in the past; safe to run again (orders are found by their idempotency keys, addresses by
their owner).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.addresses import service as addresses
from liveshop.core.clock import utcnow
from liveshop.logistics import shipments
from liveshop.logistics.calendar import add_working_days
from liveshop.logistics.carriers import ManualCarrier
from liveshop.logistics.models import Shipment, TrackingEvent, TrackingStatus
from liveshop.notices.models import Notice
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order, OrderEvent
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails, PaymentProvider
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from liveshop.orders.status import OrderStatus

# buyer number -> address (buyers 16-20 have none: they try the address book themselves)
GB_STREETS = ["12 Elm Row", "4 Canal Street", "77 Bold Street", "9 Park Lane", "31 High Street"]
GB_TOWNS = [("Edinburgh", "EH7 4AH"), ("Manchester", "M1 3HU"), ("Liverpool", "L1 4DQ"),
            ("London", "W1K 7TN"), ("Oxford", "OX1 4AR")]  # fmt: skip


def _address(n: int, market: str, name: str) -> dict[str, str | None]:
    if market == "ID":
        return {
            "country_code": "ID",
            "full_name": name,
            "phone": f"0812 3456 {7000 + n}",
            "street_address": f"Jl. Kemang Raya No. {n}",
            "city": "Jakarta Selatan",
            "country_area": "DKI Jakarta",
            "postal_code": "12730",
        }
    if market == "VN":
        return {
            "country_code": "VN",
            "full_name": name,
            "phone": f"0912 345 {600 + n}",
            "street_address": f"{n} Lý Thường Kiệt",
            "city": "Hoàn Kiếm",
            "country_area": "Hà Nội",
        }
    town, postcode = GB_TOWNS[n % len(GB_TOWNS)]
    return {
        "country_code": "GB",
        "full_name": name,
        "phone": f"07911 {123400 + n}",
        "street_address": GB_STREETS[n % len(GB_STREETS)],
        "city": town,
        "postal_code": postcode,
    }


@dataclass(frozen=True, slots=True)
class Buyer:
    user_id: int
    market: str
    name: str


async def ensure_addresses(session: AsyncSession, buyers: list[Buyer]) -> int:
    """A default address for each buyer who has none in their market; how many were made."""
    made = 0
    for n, b in enumerate(buyers, start=1):
        if await addresses.default_address(session, b.user_id, b.market) is None:
            await addresses.add_address(
                session, user_id=b.user_id, data=_address(n, b.market, b.name)
            )
            made += 1
    return made


HISTORY_ORDERS = 6  # per shop: just over eta.MIN_HISTORY, so every shop has a real ETA


async def ensure_deliveries(
    session: AsyncSession,
    provider: PaymentProvider,
    *,
    shop_slug: str,
    market: str,
    sku_id: int,
    buyers: list[Buyer],
    now: datetime | None = None,
) -> int:
    """The shop's past deliveries in ``market`` (paid 5-60 days ago; dispatched after 0-3
    working days, in transit 1-4); how many this run made."""
    now = now or utcnow()
    made = 0
    for n in range(HISTORY_ORDERS):
        key = f"demo-delivery-{shop_slug}-{n}"
        buyer = buyers[n % len(buyers)]
        existing = await session.scalar(
            select(Order).where(Order.buyer_id == buyer.user_id, Order.idempotency_key == key)
        )
        if existing is not None:
            continue
        rng = random.Random(key)
        placed = await place_order(
            session,
            buyer_id=buyer.user_id,
            market_code=market,
            lines=[CheckoutLine(sku_id=sku_id, quantity=1)],
            idempotency_key=key,
            ship_to=await addresses.default_address_snapshot(session, buyer.user_id, market),
        )
        order_id = placed.order.id
        await pay_order(
            session,
            provider,
            order_id=order_id,
            buyer_id=buyer.user_id,
            card=CardDetails(CARD_SUCCEEDS, 12, now.year + 2, "123"),
        )
        shipment = await shipments.create_shipment(
            session,
            order_id,
            actor_id=None,
            carrier=ManualCarrier(),
            parcel=shipments.ParcelIn(400 + 50 * n, 250, 180, 80),
            tracking_number=f"DEMO{shop_slug[:3].upper()}{n:03d}",
            carrier_name="Royal Mail" if market == "GB" else "JNE",
        )
        await shipments.apply_event(
            session,
            provider=None,  # delivered, never lost
            event=shipments.CarrierEvent(
                carrier="manual",
                event_id=f"{key}-delivered",
                tracking_number=shipment.tracking_number,
                status=TrackingStatus.DELIVERED,
                occurred_at=now,
                description="Delivered",
            ),
        )
        # Dated in the past: paid, handed over, delivered.
        paid = now - timedelta(days=rng.randint(5, 60), hours=rng.randint(0, 8))
        handed = add_working_days(paid.date(), rng.choice([0, 1, 1, 1, 2, 2, 3]), market)
        arrived = add_working_days(handed, rng.choice([1, 1, 2, 2, 2, 3, 4]), market)
        picked_at = datetime.combine(handed, paid.timetz()) + timedelta(hours=3)
        delivered_at = datetime.combine(arrived, paid.timetz()).replace(hour=11)
        await _backdate(session, order_id, shipment.id, paid, picked_at, delivered_at)
        made += 1
    return made


async def _backdate(
    session: AsyncSession,
    order_id: int,
    shipment_id: int,
    paid: datetime,
    picked: datetime,
    delivered: datetime,
) -> None:
    at = {
        OrderStatus.PENDING_PAYMENT: paid - timedelta(minutes=2),
        OrderStatus.PAID: paid,
        OrderStatus.FULFILLING: picked - timedelta(hours=1),
        OrderStatus.SHIPPED: picked,
        OrderStatus.DELIVERED: delivered,
    }
    await session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(created_at=at[OrderStatus.PENDING_PAYMENT], paid_at=paid, updated_at=delivered)
    )
    for status, when in at.items():
        await session.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.to_status == status)
            .values(created_at=when)
        )
    await session.execute(
        update(Shipment)
        .where(Shipment.id == shipment_id)
        .values(
            created_at=picked - timedelta(hours=1),
            picked_up_at=picked,
            delivered_at=delivered,
            last_event_at=delivered,
        )
    )
    for step, when in ((TrackingStatus.PICKED_UP, picked), (TrackingStatus.DELIVERED, delivered)):
        await session.execute(
            update(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment_id, TrackingEvent.status == step)
            .values(occurred_at=when, received_at=when)
        )
    await session.execute(
        update(Notice)
        .where(Notice.link.like(f"/orders/{order_id}#%"))
        .values(created_at=delivered, read_at=delivered)
    )
    await session.commit()
