"""The dispatch promise: deadlines in working days, the to-ship queue's late flags, the
on-time rate, and an order nobody shipped cancelled and refunded — the creator's commission
reversed, the ledger balanced, the units back on sale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.logistics import sla
from liveshop.notices.models import Notice
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from tests.addresses.examples import address
from tests.shopfront import MakeShopfront, buy, open_plan, owed, start_session
from tests.support import MakeActor


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
    assert "did not send it in time" in told[1].body
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0
    async with db.session(deferred=True) as s:
        assert set((await ledger.trial_balance(s)).values()) == {0}
    async with db.session() as s:  # nothing else is due: a second sweep does nothing
        assert await sla.cancel_overdue(s, SandboxProvider("sandbox", delay_s=-1)) == []
    fresh_now: Any = (
        await client.get(f"/api/v1/orders/{fresh['id']}", headers=buyer.headers)
    ).json()
    assert fresh_now["status"] == "paid"
