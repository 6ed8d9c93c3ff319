"""Shipping a paid order: the simulated carrier's signed webhooks move the parcel and the
order to delivered, whatever order they arrive in and however often; the label PDF; manual
shipments; who may see what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.logistics import signing
from liveshop.logistics.carriers import SimulatedCarrier
from liveshop.logistics.models import SimulatedCarrierEvent, TrackingStatus
from liveshop.logistics.shipments import CarrierEvent
from liveshop.logistics.simulator import send_due
from liveshop.logistics.webhooks import body_of, parse
from liveshop.notices.models import Notice
from tests.logistics.conftest import MakeSold, Sold
from tests.support import MakeActor, assert_problem

PARCEL = {"weight_grams": 450, "length_mm": 220, "width_mm": 160, "height_mm": 80}
HOOK = "/api/v1/logistics/webhooks/simulated"


def _secret() -> str:
    return signing.secret_for("test-secret", "simulated")


async def _ship(client: httpx.AsyncClient, sold: Sold, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/orders/{sold.order_id}/shipments",
        json={"carrier": "simulated", **PARCEL, **body},
        headers=sold.store.seller.headers,
    )


async def _post_signed(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    headers = {signing.SIGNATURE_HEADER: signing.sign(_secret(), body)}
    return await client.post(HOOK, content=body, headers=headers)


async def _order(client: httpx.AsyncClient, sold: Sold) -> dict[str, Any]:
    got = await client.get(f"/api/v1/orders/{sold.order_id}", headers=sold.buyer.headers)
    return dict(got.json())


async def _tracking(client: httpx.AsyncClient, sold: Sold) -> list[dict[str, Any]]:
    got = await client.get(f"/api/v1/orders/{sold.order_id}/shipments", headers=sold.buyer.headers)
    assert got.status_code == 200, got.text
    return list(got.json())


async def _planned(db: Database, tracking_number: str) -> list[bytes]:
    """The carrier's planned webhooks of a parcel, as it would send them."""
    async with db.session(deferred=True) as s:
        rows = (
            await s.scalars(
                select(SimulatedCarrierEvent)
                .where(SimulatedCarrierEvent.tracking_number == tracking_number)
                .order_by(SimulatedCarrierEvent.id)
            )
        ).all()

    return [
        body_of(
            CarrierEvent(
                "simulated",
                r.event_id,
                r.tracking_number,
                TrackingStatus(r.status),
                r.send_at,
                r.description,
                r.location,
            )
        )
        for r in rows
    ]


async def test_a_parcel_travels_to_delivered(
    app: Any, db: Database, client: httpx.AsyncClient, make_sold: MakeSold, make_actor: MakeActor
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("normal")
    sold = await make_sold()
    booked = await _ship(client, sold)
    assert booked.status_code == 201, booked.text
    shipment = booked.json()
    assert shipment["status"] == "label_created"
    assert shipment["lines"] == [{"order_line_id": sold.line_ids[0], "quantity": 2}]
    assert (await _order(client, sold))["status"] == "fulfilling"

    label = await client.get(
        f"/api/v1/shipments/{shipment['id']}/label.pdf", headers=sold.store.seller.headers
    )
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF") and label.content.count(b"/Type /Page\n") == 2
    other_seller = await make_actor(Role.SELLER)
    assert label.status_code == 200
    denied = await client.get(
        f"/api/v1/shipments/{shipment['id']}/label.pdf", headers=other_seller.headers
    )
    assert denied.status_code == 404

    async def deliver(body: bytes, headers: dict[str, str]) -> str:
        answer = await client.post(HOOK, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["result"])

    sent = await send_due(db, _secret(), deliver, now=utcnow() + timedelta(days=30))
    assert sent == 4
    [parcel] = await _tracking(client, sold)
    assert [e["status"] for e in parcel["events"]] == [
        "label_created",
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert parcel["status"] == "delivered" and parcel["delivered_at"]
    order = await _order(client, sold)
    assert order["status"] == "delivered"
    assert order["tracking_number"] == parcel["tracking_number"]
    assert await send_due(db, _secret(), deliver, now=utcnow() + timedelta(days=30)) == 0
    async with db.session(deferred=True) as s:  # what the buyer was told, in their inbox
        told = (await s.scalars(select(Notice).where(Notice.user_id == sold.buyer.id))).all()
    assert [n.kind for n in told] == [
        "parcel.picked_up",
        "parcel.out_for_delivery",
        "parcel.delivered",
    ]
    assert told[-1].subject == f"Order #{sold.order_id} was delivered"

    creator = await make_actor(Role.CREATOR)
    assert_problem(
        await client.get(f"/api/v1/orders/{sold.order_id}/shipments", headers=creator.headers),
        404,
    )


async def test_webhooks_twice_and_out_of_order_end_in_the_right_state(
    app: Any, db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("failed_attempt")
    sold = await make_sold()
    parcel = (await _ship(client, sold)).json()
    bodies = await _planned(db, parcel["tracking_number"])
    assert [parse("simulated", b).status for b in bodies] == [
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "failed_attempt",
        "out_for_delivery",
        "delivered",
    ]
    # A forged one changes nothing.
    forged = await client.post(
        HOOK, content=bodies[-1], headers={signing.SIGNATURE_HEADER: signing.sign("x", bodies[-1])}
    )
    assert_problem(forged, 400, "bad-signature")
    stale = await client.post(
        HOOK,
        content=bodies[-1],
        headers={signing.SIGNATURE_HEADER: signing.sign(_secret(), bodies[-1], at=1_700_000_000)},
    )
    assert_problem(stale, 400, "stale-webhook")
    assert (await _tracking(client, sold))[0]["status"] == "label_created"

    # The last first: delivered at once; the rest only fill in the timeline.
    results = []
    for body in [bodies[-1], *reversed(bodies), bodies[0], bodies[-1]]:
        answer = await _post_signed(client, body)
        assert answer.status_code == 200, answer.text
        results.append(answer.json()["result"])
    assert results == ["processed"] + ["duplicate"] + ["processed"] * 5 + ["duplicate"] * 2
    [tracked] = await _tracking(client, sold)
    assert tracked["status"] == "delivered"
    async with db.session(deferred=True) as s:  # late news of an older step tells nothing
        told = (await s.scalars(select(Notice.kind).where(Notice.user_id == sold.buyer.id))).all()
    assert told == ["parcel.delivered"]
    statuses = [e["status"] for e in tracked["events"]]
    assert statuses == ["label_created", *[parse("simulated", b).status for b in bodies]]
    assert (await _order(client, sold))["status"] == "delivered"


async def test_lost_parcel_and_unknown_parcel(
    app: Any, db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("lost")
    sold = await make_sold()
    parcel = (await _ship(client, sold)).json()
    for body in await _planned(db, parcel["tracking_number"]):
        assert (await _post_signed(client, body)).status_code == 200
    [tracked] = await _tracking(client, sold)
    assert tracked["status"] == "lost"
    order = await _order(client, sold)  # refunded in full (tests/logistics/test_lost_parcel.py)
    assert (order["status"], order["refunded_minor"]) == ("refunded", order["total_minor"])
    unknown = body_of(
        parse("simulated", (await _planned(db, parcel["tracking_number"]))[0])
    ).replace(parcel["tracking_number"].encode(), b"LSXNOSUCH")
    assert (await _post_signed(client, unknown)).json()["result"] == "ignored"


async def test_manual_split_and_refusals(
    app: Any, db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("normal")
    no_address = await make_sold(with_address=False)
    assert_problem(await _ship(client, no_address), 409, "no-delivery-address")

    sold = await make_sold(quantity=3)
    line = sold.line_ids[0]
    assert_problem(await _ship(client, sold, carrier="manual"), 422, "bad-tracking-number")
    too_many = await _ship(client, sold, lines=[{"order_line_id": line, "quantity": 4}])
    assert_problem(too_many, 422, "bad-shipment-lines")
    by_hand = await _ship(
        client,
        sold,
        carrier="manual",
        carrier_name="Royal Mail",
        tracking_number="RM123456789GB",
        lines=[{"order_line_id": line, "quantity": 1}],
    )
    assert by_hand.status_code == 201, by_hand.text
    assert by_hand.json()["status"] == "picked_up"
    order = await _order(client, sold)
    assert order["status"] == "shipped" and order["tracking_number"] == "RM123456789GB"
    rest = await _ship(client, sold)
    assert rest.json()["lines"] == [{"order_line_id": line, "quantity": 2}]
    assert_problem(await _ship(client, sold), 409, "nothing-to-ship")
    for body in await _planned(db, rest.json()["tracking_number"]):
        await _post_signed(client, body)
    # The simulated parcel arrived; the manual one has no carrier to say so: the seller does.
    assert (await _order(client, sold))["status"] == "shipped"
    h = sold.store.seller.headers
    tracked = await client.post(f"/api/v1/shipments/{rest.json()['id']}/delivered", headers=h)
    assert_problem(tracked, 409, "carrier-tracked")
    by_hand_id = by_hand.json()["id"]
    assert_problem(
        await client.post(f"/api/v1/shipments/{by_hand_id}/delivered", headers=sold.buyer.headers),
        403,
    )
    confirmed = await client.post(f"/api/v1/shipments/{by_hand_id}/delivered", headers=h)
    assert confirmed.json()["status"] == "delivered"
    assert (await _order(client, sold))["status"] == "delivered"
    buyer_try = await client.post(
        f"/api/v1/orders/{sold.order_id}/shipments",
        json={"carrier": "simulated", **PARCEL},
        headers=sold.buyer.headers,
    )
    assert buyer_try.status_code in (403, 404)
