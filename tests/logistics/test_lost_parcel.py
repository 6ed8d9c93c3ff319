"""A parcel the carrier reports lost is resolved for the buyer without anyone asking: its
units are refunded exactly through the ordinary refund path (ledger reversal, the creator's
commission clawed back, not restocked: they never came back), the buyer is told, and a
replay of the webhook refunds nothing twice."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger.models import AccountType
from liveshop.logistics.carriers import SimulatedCarrier
from liveshop.notices.models import Notice
from liveshop.orders.models import Refund
from tests.addresses.examples import address
from tests.logistics.test_shipments import PARCEL, _planned, _post_signed
from tests.orders.conftest import stock_of, trial_balance
from tests.shopfront import MakeShopfront, buy, open_plan, owed, start_session
from tests.support import MakeActor


async def test_a_lost_parcel_is_refunded_and_commission_clawed_back(
    app: Any,
    db: Database,
    client: httpx.AsyncClient,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    app.state.carriers["simulated"] = SimulatedCarrier("lost")
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    plan = await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    assert plan.status_code == 201, plan.text
    live_id = await start_session(db, creator.id)
    buyer = await make_actor(Role.BUYER)
    await client.post("/api/v1/me/addresses", json=address("GB"), headers=buyer.headers)
    order = await buy(client, buyer, shop.sku_id, quantity=2, live_session_id=live_id)
    assert order["creator_id"] == creator.id
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") > 0
    sold = (await stock_of(db, shop.sku_id)).sold

    booked = await client.post(
        f"/api/v1/orders/{order['id']}/shipments",
        json={"carrier": "simulated", **PARCEL},
        headers=shop.seller.headers,
    )
    assert booked.status_code == 201, booked.text
    bodies = await _planned(db, booked.json()["tracking_number"])
    assert [b for b in bodies if b'"status":"lost"' in b]
    for body in [*bodies, *bodies]:  # every webhook twice: one refund
        assert (await _post_signed(client, body)).status_code == 200

    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert seen["status"] == "refunded"
    assert seen["refunded_minor"] == seen["total_minor"]
    async with db.session(deferred=True) as s:
        refunds = (await s.scalars(select(Refund).where(Refund.order_id == order["id"]))).all()
        told = (await s.scalars(select(Notice).where(Notice.user_id == buyer.id))).all()
    assert len(refunds) == 1 and refunds[0].amount_minor == seen["total_minor"]
    assert "lost" in refunds[0].reason
    lost = [n for n in told if n.kind == "parcel.lost"]
    assert len(lost) == 1 and "refunded in full" in lost[0].body
    assert await owed(db, AccountType.CREATOR_PAYABLE, f"creator:{creator.id}") == 0
    assert set((await trial_balance(db)).values()) == {0}
    assert (await stock_of(db, shop.sku_id)).sold == sold  # lost units are not back on sale
