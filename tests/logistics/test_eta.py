"""The delivery estimate: working days and holidays, percentiles equal to a hand computation
on a history that crosses Christmas, and the market default when there is too little."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select, update

from liveshop.catalog.models import Sku
from liveshop.core.db import Database
from liveshop.logistics.calendar import add_working_days, working_days_between
from liveshop.logistics.eta import date_range, estimate, percentile, promise_for, shop_eta
from liveshop.logistics.models import Shipment, TrackingStatus
from liveshop.orders.models import Order
from tests.logistics.conftest import MakeSold

# (paid, delivered) in December 2026, GB. 25 Dec is a Friday, 28 Dec is Boxing Day (observed).
HISTORY = [
    ((7, 10), (9, 15)),  # Mon 7 → Wed 9: 8, 9 = 2 working days
    ((8, 10), (10, 15)),  # Tue 8 → Thu 10: 9, 10 = 2
    ((11, 10), (15, 15)),  # Fri 11 → Tue 15: 14, 15 = 2
    ((14, 10), (18, 15)),  # Mon 14 → Fri 18: 15, 16, 17, 18 = 4
    ((17, 10), (21, 15)),  # Thu 17 → Mon 21: 18, 21 = 2
    ((23, 10), (29, 15)),  # Wed 23 → Tue 29: 24, 29 = 2 (25, 28 holidays; 4 without them)
    ((24, 10), (30, 15)),  # Thu 24 → Wed 30: 29, 30 = 2 (4 without holidays)
    ((22, 10), (31, 15)),  # Tue 22 → Thu 31: 23, 24, 29, 30, 31 = 5 (7 without)
    ((7, 11), (10, 15)),  # Mon 7 → Thu 10: 8, 9, 10 = 3
    ((1, 10), (7, 15)),  # Tue 1 → Mon 7: 2, 3, 4, 7 = 4
]
BY_HAND = [2, 2, 2, 4, 2, 2, 2, 5, 3, 4]  # sorted: 2 2 2 2 2 2 3 4 4 5 → P50 2, P90 4


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_working_days_skip_weekends_and_holidays() -> None:
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 29), "GB") == 2
    assert add_working_days(date(2026, 12, 24), 1, "GB") == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 26), 0, "GB") == date(2026, 12, 29)
    # Vietnam's National Day (2 Sep 2026, a Wednesday) is not a working day there.
    assert add_working_days(date(2026, 9, 1), 1, "VN") == date(2026, 9, 3)


def test_percentiles_and_range_text() -> None:
    assert percentile(BY_HAND, 50) == 2 and percentile(BY_HAND, 90) == 4
    assert percentile([7], 90) == 7
    assert date_range(date(2026, 12, 8), date(2026, 12, 10)) == "Tue 8 – Thu 10 Dec"
    assert date_range(date(2026, 12, 30), date(2027, 1, 4)) == "Wed 30 Dec – Mon 4 Jan"
    few = estimate([1, 1], market="GB", today=date(2026, 12, 7))
    assert not few.from_history and "estimate" in few.basis
    # GB default: 1 day to dispatch + 1 in transit … 2 to dispatch + 2 in transit.
    assert (few.earliest, few.latest) == (date(2026, 12, 9), date(2026, 12, 11))


async def test_eta_from_the_shops_history_equals_the_hand_computation(
    db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    first = await make_sold(quantity=1)
    orders = [first.order_id]
    for _ in HISTORY[1:]:
        more = await make_sold(quantity=1, store=first.store)
        orders.append(more.order_id)
    async with db.session() as s:
        shop_id = first.store.shop_id
        for n, (order_id, ((pd, ph), (dd, dh))) in enumerate(zip(orders, HISTORY, strict=True)):
            await s.execute(update(Order).where(Order.id == order_id).values(paid_at=_at(pd, ph)))
            s.add(
                Shipment(
                    order_id=order_id,
                    shop_id=shop_id,
                    market_code="GB",
                    carrier="manual",
                    carrier_name="Royal Mail",
                    service="standard",
                    tracking_number=f"RM{n}",
                    status=TrackingStatus.DELIVERED,
                    weight_grams=300,
                    length_mm=100,
                    width_mm=100,
                    height_mm=50,
                    picked_up_at=_at(pd, ph + 2),
                    delivered_at=_at(dd, dh),
                )
            )
        await s.commit()
    async with db.session(deferred=True) as s:
        eta = await shop_eta(s, shop_id, "GB", "Europe/London", now=_at(23, 12))
    assert (eta.p50_days, eta.p90_days, eta.deliveries) == (2, 4, 10)
    assert eta.from_history
    # Paid Wed 23 Dec: 2 working days → Tue 29 (24, then 29); 4 → Thu 31.
    assert eta.text == "arrives Tue 29 – Thu 31 Dec"

    # The promise made to the order paid Tue 22 Dec, from the 7 deliveries known then
    # (P50 2, P90 4: Thu 24 – Wed 30 Dec), against its delivery on Thu 31 Dec.
    async with db.session(deferred=True) as s:
        order = await s.get(Order, orders[7])
        assert order is not None
        promise = await promise_for(s, order, _at(31, 15), "Europe/London")
    assert promise is not None and promise.eta.deliveries == 7
    assert (
        promise.text
        == "We estimated Thu 24 – Wed 30 Dec; it arrived Thu 31 Dec, 1 working day late."
    )


async def test_the_product_page_says_when_it_arrives(
    db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    sold = await make_sold(quantity=1)  # no delivery yet: the market's default, said so
    async with db.session(deferred=True) as s:
        product_id = await s.scalar(select(Sku.product_id).where(Sku.id == sold.store.sku_id))
    page = await client.get(f"/p/{product_id}?market=GB")
    found = re.search(r'id="eta"><strong>([^<]+)</strong>', page.text)
    assert found is not None, page.text
    assert re.fullmatch(
        r"Arrives [A-Z][a-z]{2} \d{1,2}( [A-Z][a-z]{2})? – [A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}",
        found.group(1),
    )
    assert "an estimate from the market&#39;s usual delivery times" in page.text
    api = await client.get(f"/api/v1/products/{product_id}/delivery?market=GB")
    assert api.json()["eta"]["from_history"] is False and api.json()["ship_to"] is None
