"""Flash deals: units allocated from real stock, sold through the real checkout in the room."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.ledger.service import trial_balance
from liveshop.live.deals import expiry
from liveshop.live.deals.models import FlashDeal
from liveshop.orders.models import Order, OrderLine
from liveshop.orders.status import OrderStatus
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem

CARD = "4242424242424242"


async def _room(
    http: httpx.AsyncClient, make_actor: MakeActor, *, stock: int
) -> tuple[Actor, Actor, dict[str, Any], int]:
    seller = await make_actor(Role.SELLER)
    creator = await make_actor(Role.CREATOR)
    product = await showcase_product(http, seller, "glow")
    sku_id = product["skus"][0]["id"]
    got = await http.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": stock, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(http, creator, [product["id"]], start=True)
    return seller, creator, live, sku_id


async def _start_deal(
    http: httpx.AsyncClient,
    creator: Actor,
    live: dict[str, Any],
    sku_id: int,
    units: int,
    price: int = 999,
    seconds: int = 600,
) -> httpx.Response:
    return await http.post(
        f"/api/v1/live/sessions/{live['id']}/deals",
        json={"sku_id": sku_id, "price_minor": price, "units": units, "duration_seconds": seconds},
        headers=creator.headers,
    )


async def _move_end(db: Database, ends_at: datetime) -> None:
    """Move the (one) running deal's end, as if its time had passed."""
    async with db.session() as s:
        await s.execute(update(FlashDeal).values(ends_at=ends_at))
        await s.commit()


async def test_twenty_units_hundred_buyers_exactly_twenty_orders(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=60) as http:
        _, creator, live, sku_id = await _room(http, make_actor, stock=50)
        viewers = [await RoomClient.open(base, live["id"]) for _ in range(3)]
        for v in viewers:
            await v.snapshot()
        deal = await _start_deal(http, creator, live, sku_id, units=20)
        assert deal.status_code == 201, deal.text
        deal_id = deal.json()["deal_id"]
        for v in viewers:
            started = await v.until("deal_started")
            assert started["deal"]["units"] == 20 and started["deal"]["price_minor"] == 999

        buyers = await asyncio.gather(*(make_actor(Role.BUYER) for _ in range(100)))

        async def tap(n: int, buyer: Actor) -> httpx.Response:
            return await http.post(
                f"/api/v1/live/sessions/{live['id']}/buy",
                json={"sku_id": sku_id, "deal_id": deal_id, "card_number": CARD},
                headers={**buyer.headers, "Idempotency-Key": f"tap-{n}"},
            )

        answers = await asyncio.gather(*(tap(n, b) for n, b in enumerate(buyers)))
        paid = [a for a in answers if a.status_code == 201]
        assert len(paid) == 20, [a.text for a in answers if a.status_code >= 500][:3]
        assert all(a.json()["status"] == "paid" and a.json()["items_minor"] == 999 for a in paid)
        refused = {a.json()["type"].rsplit("/", 1)[1] for a in answers if a.status_code != 201}
        assert refused <= {"deal-sold-out", "deal-ended"}

        for v in viewers:
            ended = await v.until("deal_ended", deal_id=deal_id)
            assert (ended["reason"], ended["sold"]) == ("sold_out", 20)
            deal_stock = [
                e for e in v.events if e["type"] == "stock" and e.get("deal_id") == deal_id
            ]
            assert deal_stock[-1]["available"] == 0
            await v.close()

    async with db.session() as s:
        paid_orders = await s.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.status == OrderStatus.PAID, Order.live_session_id == live["id"])
        )
        assert paid_orders == 20
        summary = await inventory.stock_summary(s, sku_id)
        assert (summary.sold, summary.available, summary.held) == (20, 30, 0)
        assert await trial_balance(s) == {"GBP": 0}
        creator_of = await s.scalar(select(func.min(Order.creator_id)))
        assert creator_of == creator.id
        # Every in-room sale earns the creator the shop's plan rate (10 %) in force at purchase.
        rates = (
            await s.scalars(
                select(OrderLine.creator_commission_bp)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.live_session_id == live["id"], Order.status == OrderStatus.PAID)
            )
        ).all()
        assert rates == [1000] * 20


async def test_only_the_host_runs_deals_and_prices_are_checked(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        seller, creator, live, sku_id = await _room(http, make_actor, stock=5)
        stranger = await make_actor(Role.CREATOR)
        assert_problem(
            await _start_deal(http, stranger, live, sku_id, units=2), 403, "not-room-host"
        )
        assert_problem(await _start_deal(http, seller, live, sku_id, units=2), 403)
        assert_problem(
            await _start_deal(http, creator, live, sku_id, units=2, price=5000),
            422,
            "bad-deal-price",
        )
        assert_problem(await _start_deal(http, creator, live, sku_id, units=6), 409, "out-of-stock")
        ok = await _start_deal(http, creator, live, sku_id, units=4)
        assert ok.status_code == 201
        assert_problem(
            await _start_deal(http, creator, live, sku_id, units=1), 409, "deal-already-running"
        )
        # Allocated units are out of ordinary sale until the deal ends early.
        stock = await http.get(f"/api/v1/skus/{sku_id}/stock")
        assert stock.json()["available"] == 1
        end = await http.post(
            f"/api/v1/live/sessions/{live['id']}/deals/{ok.json()['deal_id']}/end",
            headers=creator.headers,
        )
        assert end.json()["status"] == "ended"
        assert (await http.get(f"/api/v1/skus/{sku_id}/stock")).json()["available"] == 5
        assert (await http.get(f"/api/v1/live/sessions/{live['id']}/deal")).json() is None


async def test_expired_deal_ends_and_buying_at_normal_price_still_works(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    await app.state.deal_clock.stop()  # the test ticks it (a tick of its own could end it first)
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        _, creator, live, sku_id = await _room(http, make_actor, stock=5)
        deal = await _start_deal(http, creator, live, sku_id, units=3, seconds=10)
        deal_id = deal.json()["deal_id"]
        viewer = await RoomClient.open(base, live["id"])
        snap = await viewer.snapshot()
        assert snap["deal"]["deal_id"] == deal_id
        buyer = await make_actor(Role.BUYER)
        # The host's countdown is over, but a viewer whose picture is behind still sees it
        # run: within the grace the deal still sells (at the deal price), and is not ended.
        await _move_end(db, utcnow() - timedelta(seconds=2))
        assert await app.state.deal_clock.tick() == 0
        behind = await http.post(
            f"/api/v1/live/sessions/{live['id']}/buy",
            json={"sku_id": sku_id, "deal_id": deal_id, "card_number": CARD},
            headers={**buyer.headers, "Idempotency-Key": "behind"},
        )
        assert behind.status_code == 201, behind.text
        assert behind.json()["items_minor"] == 999
        # Past the grace the clock ends it.
        await _move_end(db, utcnow() - expiry.grace() - timedelta(seconds=1))
        assert await app.state.deal_clock.tick() == 1
        ended = await viewer.until("deal_ended", deal_id=deal_id)
        assert ended["reason"] == "expired" and ended["sold"] == 1
        late = await http.post(
            f"/api/v1/live/sessions/{live['id']}/buy",
            json={"sku_id": sku_id, "deal_id": deal_id, "card_number": CARD},
            headers={**buyer.headers, "Idempotency-Key": "late"},
        )
        assert_problem(late, 409, "deal-ended")
        normal = await http.post(
            f"/api/v1/live/sessions/{live['id']}/buy",
            json={"sku_id": sku_id, "card_number": CARD},
            headers={**buyer.headers, "Idempotency-Key": "normal"},
        )
        assert normal.status_code == 201, normal.text
        body = normal.json()
        assert (body["status"], body["items_minor"], body["live_session_id"]) == (
            "paid",
            1899,
            live["id"],
        )
        async with db.session() as s:  # bought at the normal price: the plan's rate too
            commission = await s.scalar(
                select(OrderLine.creator_commission_minor).where(OrderLine.order_id == body["id"])
            )
        assert commission is not None and commission > 0
        purchase = await viewer.until("purchase")
        assert "Rose Glow Serum" in purchase["text"] and "@" not in purchase["text"]
        await viewer.close()


async def test_a_node_that_opens_the_room_later_shows_the_running_deal(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    first = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=first.replace("ws://", "http://"), timeout=30) as http:
        _, creator, live, sku_id = await _room(http, make_actor, stock=5)
        deal = await _start_deal(http, creator, live, sku_id, units=3, price=1500)
        assert deal.status_code == 201, deal.text
    # A second node with its own (in-memory) broker knows the deal only from the database.
    second = await serve(live_app(db))
    viewer = await RoomClient.open(second, live["id"])
    snap = await viewer.snapshot()
    assert snap["deal"]["deal_id"] == deal.json()["deal_id"]
    assert (snap["deal"]["price_minor"], snap["deal"]["available"]) == (1500, 3)
    await viewer.close()
