"""The seller's to-ship queue, booking a parcel from the order page, its label PDF; the
buyer's order page showing the tracking timeline, over HTTP on both databases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.inventory import stock
from liveshop.logistics import signing
from liveshop.logistics.carriers import SimulatedCarrier
from liveshop.logistics.simulator import send_due
from tests.addresses.examples import address
from tests.logistics.conftest import MakeSold
from tests.orders.conftest import Store, checkout, pay
from tests.support import MakeActor
from tests.web.test_pages import csrf_of, page_login


async def test_seller_ships_and_buyer_tracks(
    app: Any, db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("delayed")
    sold = await make_sold()
    await page_login(client, sold.store.seller)
    queue = await client.get(f"/seller/to-ship?shop={sold.store.shop_id}")
    assert queue.status_code == 200 and f'id="to-ship-{sold.order_id}"' in queue.text
    assert "SW1A 2AA" in queue.text

    page = await client.get(f"/seller/orders/{sold.order_id}")
    assert "Ship a parcel" in page.text and "Not shipped yet." in page.text
    booked = await client.post(
        f"/seller/orders/{sold.order_id}/shipments",
        data={
            "csrf_token": csrf_of(page),
            "carrier": "simulated",
            "service": "standard",
            "weight_grams": "500",
            "length_mm": "250",
            "width_mm": "180",
            "height_mm": "80",
        },
    )
    assert booked.status_code == 303, booked.text
    page = await client.get(f"/seller/orders/{sold.order_id}")
    assert "Label created" in page.text and "Ship a parcel" not in page.text
    label_url = page.text.split('href="/seller/shipments/')[1].split('"')[0]
    pdf = await client.get(f"/seller/shipments/{label_url}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    queue = await client.get(f"/seller/to-ship?shop={sold.store.shop_id}")
    assert f'id="to-ship-{sold.order_id}"' in queue.text  # packing: still to hand over

    async def deliver(body: bytes, headers: dict[str, str]) -> str:
        answer = await client.post(
            "/api/v1/logistics/webhooks/simulated", content=body, headers=headers
        )
        return str(answer.json()["result"])

    secret = signing.secret_for("test-secret", "simulated")
    client.cookies.clear()  # a carrier has no session
    await send_due(db, secret, deliver, now=utcnow() + timedelta(days=30))
    await page_login(client, sold.buyer)
    mine = await client.get(f"/orders/{sold.order_id}")
    assert mine.status_code == 200
    for text in ("Delivered", "Out for delivery", "Delayed at the hub", "Collected from"):
        assert text in mine.text
    assert "label.pdf" not in mine.text  # the buyer gets no label link
    assert 'id="promise">We estimated' in mine.text  # the ETA at payment, against the delivery


async def test_a_parcel_sent_by_hand_is_confirmed_delivered_by_the_seller(
    client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    sold = await make_sold(quantity=1)
    await page_login(client, sold.store.seller)
    page = await client.get(f"/seller/orders/{sold.order_id}")
    booked = await client.post(
        f"/seller/orders/{sold.order_id}/shipments",
        data={
            "csrf_token": csrf_of(page),
            "carrier": "manual",
            "carrier_name": "Royal Mail",
            "tracking_number": "RM0001GB",
            "weight_grams": "300",
            "length_mm": "200",
            "width_mm": "100",
            "height_mm": "50",
        },
    )
    assert booked.status_code == 303
    page = await client.get(f"/seller/orders/{sold.order_id}")
    assert "Handed to Royal Mail" in page.text and "Mark this parcel delivered" in page.text
    shipment_id = page.text.split('action="/seller/shipments/')[1].split("/")[0]
    done = await client.post(
        f"/seller/shipments/{shipment_id}/delivered", data={"csrf_token": csrf_of(page)}
    )
    assert done.status_code == 303
    page = await client.get(f"/seller/orders/{sold.order_id}")
    assert "Delivered (confirmed by the seller)" in page.text
    assert "Mark this parcel delivered" not in page.text


async def test_buyer_sends_a_paid_order_elsewhere_until_it_is_packed(
    app: Any, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    """A paid order (a drop paid at the desk goes to the default address) can still go to
    another of the buyer's addresses from its page; not once the seller has booked a parcel."""
    sold = await make_sold()
    work = await client.post(
        "/api/v1/me/addresses",
        json=address("GB", street_address="1 Work Lane"),
        headers=sold.buyer.headers,
    )
    await page_login(client, sold.buyer)
    page = await client.get(f"/orders/{sold.order_id}")
    assert "Send to another address" in page.text and "1 Work Lane" in page.text
    moved = await client.post(
        f"/orders/{sold.order_id}/address",
        data={"csrf_token": csrf_of(page), "address_id": str(work.json()["id"])},
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"/orders/{sold.order_id}"
    page = await client.get(f"/orders/{sold.order_id}")
    assert "1 Work Lane" in page.text.split('id="ship-to"')[1].split("</address>")[0]

    app.state.carriers["simulated"] = SimulatedCarrier("normal")
    booked = await client.post(
        f"/api/v1/orders/{sold.order_id}/shipments",
        json={"carrier": "simulated", "weight_grams": 300, "length_mm": 200}
        | {"width_mm": 150, "height_mm": 50},
        headers=sold.store.seller.headers,
    )
    assert booked.status_code == 201, booked.text
    page = await client.get(f"/orders/{sold.order_id}")
    assert "Send to another address" not in page.text
    late = await client.post(
        f"/orders/{sold.order_id}/address",
        data={"csrf_token": csrf_of(page), "address_id": str(work.json()["id"])},
    )
    assert late.status_code == 409


async def test_an_order_split_by_warehouse(
    app: Any,
    db: Database,
    client: httpx.AsyncClient,
    make_actor: MakeActor,
    make_store: Callable[..., Awaitable[Store]],
) -> None:
    """Units sold from two warehouses: the seller's form fills in the first warehouse's for
    this parcel and says so; the rest go in a second parcel."""
    app.state.carriers["simulated"] = SimulatedCarrier("normal")
    store = await make_store(other_stock=0)
    async with db.session() as s:
        leeds = await stock.create_warehouse(s, store.shop_id, name="Leeds")
        await stock.receive(
            s,
            sku_id=store.other_sku_id,
            quantity=5,
            reason="t",
            actor_id=None,
            warehouse_id=leeds.id,
        )
        await s.commit()
    buyer = await make_actor(Role.BUYER)
    await client.post("/api/v1/me/addresses", json=address("GB"), headers=buyer.headers)
    items = [{"sku_id": store.sku_id, "quantity": 2}, {"sku_id": store.other_sku_id, "quantity": 1}]
    placed = await checkout(client, buyer, items, key="split")
    order_id = placed.json()["id"]
    paid = (await pay(client, buyer, order_id)).json()
    main_line, leeds_line = (ln["id"] for ln in paid["lines"])

    await page_login(client, store.seller)
    page = await client.get(f"/seller/orders/{order_id}")
    assert 'id="split-hint"' in page.text and "from Leeds" in page.text
    leeds_input = page.text.split(f'name="qty-{leeds_line}"')[1].split(">")[0]
    assert 'value="0"' in leeds_input  # not in this parcel
    form = {"csrf_token": csrf_of(page), "carrier": "simulated", "weight_grams": "500"}
    form |= {"length_mm": "250", "width_mm": "180", "height_mm": "80"}
    first = await client.post(
        f"/seller/orders/{order_id}/shipments",
        data=form | {f"qty-{main_line}": "2", f"qty-{leeds_line}": "0"},
    )
    assert first.status_code == 303, first.text
    page = await client.get(f"/seller/orders/{order_id}")
    assert 'id="split-hint"' not in page.text and f'name="qty-{main_line}"' not in page.text
    second = await client.post(
        f"/seller/orders/{order_id}/shipments", data=form | {f"qty-{leeds_line}": "1"}
    )
    assert second.status_code == 303
    parcels = (
        await client.get(f"/api/v1/orders/{order_id}/shipments", headers=buyer.headers)
    ).json()
    assert [p["lines"] for p in parcels] == [
        [{"order_line_id": main_line, "quantity": 2}],
        [{"order_line_id": leeds_line, "quantity": 1}],
    ]
