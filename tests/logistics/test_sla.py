"""The dispatch promise: deadlines in working days, the to-ship queue's late flags, the
on-time rate, and an order nobody shipped cancelled and refunded — the creator's commission
reversed, the ledger balanced, the units back on sale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.audit.models import AuditEntry
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.logistics import signing, sla
from liveshop.logistics.carriers import SimulatedCarrier
from liveshop.logistics.models import SimulatedCarrierEvent, TrackingStatus
from liveshop.logistics.shipments import CarrierEvent
from liveshop.logistics.webhooks import body_of
from liveshop.notices.models import Notice
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from tests.addresses.examples import address
from tests.shopfront import MakeShopfront, buy, open_plan, owed, start_session
from tests.support import MakeActor, assert_problem


def test_deadline_counts_working_days_and_holidays() -> None:
    paid = datetime(2026, 12, 23, 10, tzinfo=UTC)  # Wed 23 Dec
    due = sla.deadline(paid, "GB", "Europe/London")
    assert (due.date().isoformat(), due.hour) == ("2026-12-29", 23)  # 24, (25-28 off), 29
    # three more working days: 30, 31, (1 Jan holiday, weekend) 4 Jan
    assert sla.cancel_after(paid, "GB", "Europe/London").date().isoformat() == "2027-01-04"


async def test_late_order_is_cancelled_refunded_and_commission_reversed(
    db: Database, client: httpx.AsyncClient, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    assert (
        await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    ).status_code == 201
    live_id = await start_session(db, creator.id)
    buyer = await make_actor(Role.BUYER)
    await client.post("/api/v1/me/addresses", json=address("GB"), headers=buyer.headers)
    late = await buy(client, buyer, shop.sku_id, quantity=2, live_session_id=live_id)
    fresh = await buy(client, buyer, shop.sku_id, quantity=1)
    shipped = await buy(client, buyer, shop.sku_id, quantity=1)
    assert late["creator_id"] == creator.id
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") > 0
    ten_days_ago = utcnow() - timedelta(days=10)
    async with db.session() as s:
        await s.execute(
            update(Order)
            .where(Order.id.in_([late["id"], shipped["id"]]))
            .values(paid_at=ten_days_ago)
        )
        await s.commit()
    one = await client.post(
        f"/api/v1/orders/{shipped['id']}/shipments",
        json={
            "carrier": "manual",
            "tracking_number": "RM1",
            "weight_grams": 100,
            "length_mm": 10,
            "width_mm": 10,
            "height_mm": 10,
        },
        headers=shop.seller.headers,
    )
    assert one.status_code == 201, one.text

    queue = (
        await client.get(f"/api/v1/shops/{shop.shop_id}/to-ship", headers=shop.seller.headers)
    ).json()
    assert [(q["order_id"], q["late"]) for q in queue] == [(late["id"], True), (fresh["id"], False)]
    async with db.session(deferred=True) as s:
        rate = await sla.on_time_rate(s, shop.shop_id)
    assert (rate.on_time, rate.dispatched) == (0, 1)  # handed over ten days after payment

    async with db.session() as s:
        cancelled = await sla.cancel_overdue(s, SandboxProvider("sandbox", delay_s=-1))
    assert cancelled == [late["id"]]
    seen = (await client.get(f"/api/v1/orders/{late['id']}", headers=buyer.headers)).json()
    assert seen["status"] == "cancelled"
    assert seen["refunded_minor"] == seen["total_minor"]
    assert "not dispatched by the seller in time" in seen["cancel_reason"]
    async with db.session(deferred=True) as s:
        told = (await s.scalars(select(Notice).where(Notice.user_id == buyer.id))).all()
    assert [n.kind for n in told] == ["parcel.picked_up", "order.cancelled_late"]  # + the other
    assert "did not send it by" in told[1].body
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0
    async with db.session(deferred=True) as s:
        assert set((await ledger.trial_balance(s)).values()) == {0}
    async with db.session() as s:  # nothing else is due: a second sweep does nothing
        assert await sla.cancel_overdue(s, SandboxProvider("sandbox", delay_s=-1)) == []
    fresh_now: Any = (
        await client.get(f"/api/v1/orders/{fresh['id']}", headers=buyer.headers)
    ).json()
    assert fresh_now["status"] == "paid"


async def test_dispatch_settings_and_an_uncollected_label(
    app: Any,
    db: Database,
    client: httpx.AsyncClient,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    """An admin sets the market's dispatch deadline and grace (audit-logged); the queue, the
    late flag and the auto-cancel follow them. A label booked with the simulated carrier but
    never collected is not a dispatch: the order is cancelled, the booking called off (the
    carrier's later webhooks change nothing)."""
    app.state.carriers["simulated"] = SimulatedCarrier("normal")
    shop = await make_shopfront()
    admin = await make_actor(Role.ADMIN)
    buyer = await make_actor(Role.BUYER)
    await client.post("/api/v1/me/addresses", json=address("GB"), headers=buyer.headers)
    order = await buy(client, buyer, shop.sku_id, quantity=1)
    async with db.session() as s:  # paid Mon 2 Nov 2026 (no holidays till Christmas)
        paid = datetime(2026, 11, 2, 10, tzinfo=UTC)
        await s.execute(update(Order).where(Order.id == order["id"]).values(paid_at=paid))
        await s.commit()
    booked = await client.post(
        f"/api/v1/orders/{order['id']}/shipments",
        json={"carrier": "simulated", "weight_grams": 300, "length_mm": 200}
        | {"width_mm": 150, "height_mm": 50},
        headers=shop.seller.headers,
    )
    assert booked.status_code == 201, booked.text
    tracking = booked.json()["tracking_number"]
    provider = SandboxProvider("sandbox", delay_s=-1)
    thu = datetime(2026, 11, 5, 12, tzinfo=UTC)  # 3 working days after payment

    async def late_at(now: datetime) -> list[tuple[int, bool]]:
        async with db.session(deferred=True) as s:
            return [(d.order.id, d.late) for d in await sla.queue(s, shop.shop_id, now=now)]

    # The default (2 working days): late on Thursday; cancelled 3 working days later.
    assert await late_at(thu) == [(order["id"], True)]
    async with db.session() as s:
        assert (
            await sla.cancel_overdue(s, provider, now=datetime(2026, 11, 9, 12, tzinfo=UTC)) == []
        )

    bad = await client.patch("/api/v1/markets/GB", json={"dispatch_days": 0}, headers=admin.headers)
    assert_problem(bad, 422)
    denied = await client.patch(
        "/api/v1/markets/GB", json={"dispatch_days": 5}, headers=shop.seller.headers
    )
    assert denied.status_code == 403
    changed = await client.patch(
        "/api/v1/markets/GB",
        json={"dispatch_days": 4, "auto_cancel_days": 1},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["dispatch_days"], changed.json()["auto_cancel_days"]) == (4, 1)
    async with db.session(deferred=True) as s:
        entry = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "market.rates"))
        ).one()
    assert (entry.actor_id, entry.target_id) == (admin.id, "GB")
    assert entry.after == {"dispatch_days": 4, "auto_cancel_days": 1}

    # Now 4 working days (due Fri 6 Nov) and 1 of grace (cancelled after Mon 9 Nov).
    assert await late_at(thu) == [(order["id"], False)]
    assert await late_at(datetime(2026, 11, 7, 12, tzinfo=UTC)) == [(order["id"], True)]
    async with db.session() as s:
        assert (
            await sla.cancel_overdue(s, provider, now=datetime(2026, 11, 9, 12, tzinfo=UTC)) == []
        )
    async with db.session() as s:
        done = await sla.cancel_overdue(s, provider, now=datetime(2026, 11, 10, 12, tzinfo=UTC))
    assert done == [order["id"]]
    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert (seen["status"], seen["refunded_minor"]) == ("cancelled", seen["total_minor"])
    [parcel] = (
        await client.get(f"/api/v1/orders/{order['id']}/shipments", headers=buyer.headers)
    ).json()
    assert parcel["status"] == "cancelled"
    async with db.session(deferred=True) as s:
        left = await s.scalars(
            select(SimulatedCarrierEvent).where(SimulatedCarrierEvent.tracking_number == tracking)
        )
        assert left.all() == []  # the carrier will not come for it
    late_pickup = body_of(
        CarrierEvent("simulated", f"{tracking}-0", tracking, TrackingStatus.PICKED_UP, thu)
    )
    headers = {
        signing.SIGNATURE_HEADER: signing.sign(
            signing.secret_for("test-secret", "simulated"), late_pickup
        )
    }
    answer = await client.post(
        "/api/v1/logistics/webhooks/simulated", content=late_pickup, headers=headers
    )
    assert answer.json()["result"] == "ignored"
    async with db.session(deferred=True) as s:
        assert set((await ledger.trial_balance(s)).values()) == {0}
