"""Returns over the API (both databases): a buyer returns part of a delivered order within
its window, the seller approves (a return label) and receives it: the units are back in
stock and the buyer is refunded exactly; refusals, other people, a closed window. And a
property: any sequence of deliveries, returns, refunds and a lost parcel keeps the stock
identity and the ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.addresses.service import ShipTo
from liveshop.addresses.validation import validate_address
from liveshop.catalog.models import Shop
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.inventory import service as inventory
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, balance, trial_balance
from liveshop.logistics import returns, shipments
from liveshop.logistics.carriers import ManualCarrier, SimulatedCarrier
from liveshop.logistics.models import TrackingStatus
from liveshop.logistics.webhooks import parse
from liveshop.notices.models import Notice
from liveshop.orders import lifecycle
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order, OrderEvent
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.status import OrderStatus
from tests.addresses.examples import address
from tests.conftest import reset_database
from tests.logistics.conftest import MakeSold, Sold
from tests.logistics.test_shipments import _planned, _post_signed
from tests.orders.conftest import add_sku, stock_of
from tests.support import MakeActor, assert_problem

PARCEL = {"weight_grams": 450, "length_mm": 220, "width_mm": 160, "height_mm": 80}


async def _delivered(client: httpx.AsyncClient, sold: Sold) -> None:
    h = sold.store.seller.headers
    shipped = await client.post(
        f"/api/v1/orders/{sold.order_id}/shipments",
        json={"carrier": "manual", "tracking_number": f"RM{sold.order_id}", **PARCEL},
        headers=h,
    )
    assert shipped.status_code == 201, shipped.text
    done = await client.post(f"/api/v1/orders/{sold.order_id}/deliver", headers=h)
    assert done.json()["status"] == "delivered", done.text


async def test_return_approved_received_restocked_refunded(
    db: Database, client: httpx.AsyncClient, make_sold: MakeSold, make_actor: MakeActor
) -> None:
    sold = await make_sold(quantity=2)
    line = sold.line_ids[0]
    url = f"/api/v1/orders/{sold.order_id}/returns"
    body = {"lines": [{"order_line_id": line, "quantity": 1}], "reason": "damaged", "note": "x"}
    assert_problem(await client.post(url, json=body, headers=sold.buyer.headers), 409)  # paid
    await _delivered(client, sold)
    before = await stock_of(db, sold.store.sku_id)

    other = await make_actor(Role.BUYER)
    assert_problem(await client.post(url, json=body, headers=other.headers), 404)
    too_many = {**body, "lines": [{"order_line_id": line, "quantity": 3}]}
    assert_problem(await client.post(url, json=too_many, headers=sold.buyer.headers), 422)
    asked = await client.post(url, json=body, headers=sold.buyer.headers)
    assert asked.status_code == 201, asked.text
    ret = asked.json()
    assert ret["status"] == "requested"
    # the other unit may still be asked for, not a third
    again = await client.post(
        url,
        json=too_many | {"lines": [{"order_line_id": line, "quantity": 2}]},
        headers=sold.buyer.headers,
    )
    assert_problem(again, 422, "bad-return")

    h = sold.store.seller.headers
    assert_problem(await client.post(f"/api/v1/returns/{ret['id']}/receive", headers=h), 409)
    assert_problem(
        await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=other.headers), 403
    )
    approved = (await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=h)).json()
    assert approved["status"] == "approved" and approved["tracking_number"].startswith("RLSX")
    assert approved["parcel_status"] == "label_created"
    # The return parcel is tracked like an outbound one: the simulated carrier's signed
    # webhooks, here in reverse order and each twice, end in "delivered" (to the shop).
    back = await _planned(db, approved["tracking_number"])
    assert [parse("simulated", b).status for b in back][-1] == "delivered"
    results = [(await _post_signed(client, b)).json()["result"] for b in [*back[::-1], *back]]
    assert results == ["processed"] * len(back) + ["duplicate"] * len(back)
    [tracked] = (await client.get(url, headers=sold.buyer.headers)).json()
    assert tracked["parcel_status"] == "delivered" and tracked["parcel_delivered_at"]
    async with db.session(deferred=True) as s:
        told = (
            await s.scalars(
                select(Notice.kind).where(Notice.user_id == sold.buyer.id).order_by(Notice.id)
            )
        ).all()
    assert told[-2:] == ["return.approved", "return.arrived"]
    received = await client.post(f"/api/v1/returns/{ret['id']}/receive", headers=h)
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "refunded" and received.json()["refund_id"]

    order = (await client.get(f"/api/v1/orders/{sold.order_id}", headers=sold.buyer.headers)).json()
    # £12.00 a unit, £3.00 shipping: one of two units back with half the shipping
    assert order["refunded_minor"] == 1200 + 150
    after = await stock_of(db, sold.store.sku_id)
    assert (after.available, after.sold) == (before.available + 1, before.sold - 1)
    async with db.session(deferred=True) as s:
        assert set((await trial_balance(s)).values()) <= {0}

    # a second return of the last unit is refused by the seller with a reason
    last = (await client.post(url, json=body, headers=sold.buyer.headers)).json()
    assert_problem(
        await client.post(f"/api/v1/returns/{last['id']}/reject", json={"reason": ""}, headers=h),
        422,
    )
    refused = await client.post(
        f"/api/v1/returns/{last['id']}/reject", json={"reason": "used"}, headers=h
    )
    assert refused.json()["status"] == "rejected" and refused.json()["decision_note"] == "used"
    listed = (await client.get(url, headers=sold.buyer.headers)).json()
    assert [r["status"] for r in listed] == ["refunded", "rejected"]


async def test_the_window_closes(
    db: Database, client: httpx.AsyncClient, make_sold: MakeSold
) -> None:
    sold = await make_sold(quantity=1)
    await _delivered(client, sold)
    async with db.session() as s:
        await s.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == sold.order_id, OrderEvent.to_status == "delivered")
            .values(created_at=utcnow() - timedelta(days=15))  # GB: 14 days
        )
        await s.commit()
    body = {"lines": [{"order_line_id": sold.line_ids[0], "quantity": 1}], "reason": "changed_mind"}
    closed = await client.post(
        f"/api/v1/orders/{sold.order_id}/returns", json=body, headers=sold.buyer.headers
    )
    assert_problem(closed, 409, "return-window-closed")


# -- the property -----------------------------------------------------------------------------
STOCK = 20
op = st.one_of(
    st.tuples(st.just("return"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("reject"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("lost"), st.just(3), st.just(0)),  # the carrier loses the 4th order
)


async def _scenario(db: Database, ops: list[tuple[str, int, int]]) -> None:
    await reset_database(db)
    provider = SandboxProvider("p", delay_s=-1)
    async with db.session() as s:
        buyer = await accounts.create_user(
            s, email="r@example.com", password="pass-word-1", display_name="R"
        )
        s.add(Shop(slug="r", name="R", home_market="GB"))
        await s.commit()
        shop_id = (await s.scalars(select(Shop.id))).one()
    sku = await add_sku(
        db, shop_id, title="A", category="beauty", prices={"GB": ("GBP", 999)}, stock=STOCK
    )
    home = ShipTo(None, validate_address(address("GB")))
    orders: list[int] = []
    for n in range(3):  # three orders of 3 units, paid, shipped by hand and delivered
        async with db.session() as s:
            placed = await place_order(
                s,
                buyer_id=buyer.id,
                market_code="GB",
                lines=[CheckoutLine(sku_id=sku, quantity=3)],
                idempotency_key=f"r{n}",
                ship_to=home,
            )
            await pay_order(
                s,
                provider,
                order_id=placed.order.id,
                buyer_id=buyer.id,
                card=CardDetails(CARD_SUCCEEDS),
            )
            await shipments.create_shipment(
                s,
                placed.order.id,
                actor_id=None,
                carrier=ManualCarrier(),
                parcel=shipments.ParcelIn(100, 10, 10, 10),
                tracking_number=f"T{n}",
            )
            await lifecycle.mark_delivered(s, placed.order.id, actor_id=None)
            orders.append(placed.order.id)
    async with db.session() as s:  # a fourth, on its way with a carrier that will lose it
        placed = await place_order(
            s,
            buyer_id=buyer.id,
            market_code="GB",
            lines=[CheckoutLine(sku_id=sku, quantity=3)],
            idempotency_key="r-lost",
            ship_to=home,
        )
        await pay_order(
            s,
            provider,
            order_id=placed.order.id,
            buyer_id=buyer.id,
            card=CardDetails(CARD_SUCCEEDS),
        )
        parcel = await shipments.create_shipment(
            s,
            placed.order.id,
            actor_id=None,
            carrier=SimulatedCarrier("lost"),
            parcel=shipments.ParcelIn(100, 10, 10, 10),
        )
        on_its_way = [
            shipments.CarrierEvent(
                "simulated", f"e{n}", parcel.tracking_number, TrackingStatus(status), utcnow()
            )
            for n, status in enumerate(("picked_up", "lost"))
        ]
        await shipments.apply_event(s, on_its_way[0], provider=provider)
        orders.append(placed.order.id)
    returned = 0
    for kind, a, qty in ops:
        order_id = orders[a % len(orders)]
        async with db.session() as s:
            try:
                order = await s.get(Order, order_id)
                assert order is not None
                line = order.lines[0]
                if kind == "lost":  # refunds what is left of it, once
                    await shipments.apply_event(s, on_its_way[1], provider=provider)
                elif kind in ("return", "reject"):
                    made = await returns.request_return(
                        s,
                        order_id,
                        buyer_id=buyer.id,
                        lines=[returns.ReturnQty(line.id, qty)],
                        reason="changed_mind",
                    )
                    if kind == "reject":
                        await returns.reject(s, made.id, actor_id=None, reason="no")
                    else:
                        await returns.approve(s, made.id, actor_id=None)
                        await returns.receive(s, provider, made.id, actor_id=None)
                        returned += qty
                else:  # a refund without the goods back (the seller's goodwill)
                    await lifecycle.refund(
                        s,
                        provider,
                        order_id,
                        [lifecycle.RefundLine(line.id, qty)],
                        actor_id=None,
                        reason="goodwill",
                    )
            except Problem:
                await s.rollback()
    async with db.session() as s:
        summary = await inventory.stock_summary(s, sku)
        assert summary.received == summary.available + summary.held + summary.sold == STOCK
        assert summary.sold == 12 - returned  # refunds without the goods back keep them sold
        assert set((await trial_balance(s)).values()) <= {0}
        total = refunded = 0
        lost = ("lost", 3, 0) in ops
        for order in (await s.scalars(select(Order))).all():
            total += order.total_minor
            refunded += order.refunded_minor
            units = sum(ln.refunded_quantity for ln in order.lines)
            on_way = order.id == orders[3]
            assert units == 3 or not (on_way and lost)  # a lost parcel is refunded in full
            waiting = OrderStatus.SHIPPED if on_way else OrderStatus.DELIVERED
            assert order.status == (OrderStatus.REFUNDED if units == 3 else waiting)
        clearing = AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP")
        assert await balance(s, clearing) == total - refunded
        owed = AccountKey(AccountType.REFUNDS_PAYABLE, "provider:sandbox", "GBP")
        assert await balance(s, owed) == 0


def test_returns_keep_stock_and_ledger(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(ops=st.lists(op, min_size=1, max_size=8))
    def run(ops: list[tuple[str, int, int]]) -> None:
        loop.run_until_complete(_scenario(db, ops))

    try:
        run()
    finally:
        loop.run_until_complete(reset_database(db))
        loop.run_until_complete(db.dispose())
        loop.close()
