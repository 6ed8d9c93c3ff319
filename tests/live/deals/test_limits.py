"""Per-buyer limits on flash deals: set when the deal starts, shown to the room, kept by the
database under concurrency (one buyer racing themselves on two connections), and given back
when an unpaid order is cancelled — not when a paid one is refunded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.inventory.models import Reservation
from liveshop.ledger.models import LedgerTransaction
from liveshop.ledger.service import trial_balance
from liveshop.live.deals.models import FlashDealBuyer
from liveshop.orders import lifecycle
from liveshop.orders.models import Order, OrderLine
from liveshop.orders.status import OrderStatus
from tests.live.conftest import Serve, live_app
from tests.live.helpers import RoomClient, new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem

CARD = "4242424242424242"


async def _room(
    http: httpx.AsyncClient, make_actor: MakeActor, *, stock: int = 50
) -> tuple[Actor, dict[str, Any], int]:
    seller = await make_actor(Role.SELLER)
    creator = await make_actor(Role.CREATOR)
    product = await showcase_product(http, seller, "limit")
    sku_id = product["skus"][0]["id"]
    got = await http.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": stock, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(http, creator, [product["id"]], start=True)
    return creator, live, sku_id


async def _start(
    http: httpx.AsyncClient, creator: Actor, live: dict[str, Any], sku_id: int, **extra: Any
) -> httpx.Response:
    body = {"sku_id": sku_id, "price_minor": 999, "units": 10, "duration_seconds": 600, **extra}
    return await http.post(
        f"/api/v1/live/sessions/{live['id']}/deals", json=body, headers=creator.headers
    )


def _buy(
    http: httpx.AsyncClient,
    live: dict[str, Any],
    sku_id: int,
    deal_id: int,
    buyer: Actor,
    key: str,
    *,
    quantity: int = 1,
    pay: bool = True,
) -> Any:
    body: dict[str, Any] = {"sku_id": sku_id, "deal_id": deal_id, "quantity": quantity}
    if pay:
        body["card_number"] = CARD
    return http.post(
        f"/api/v1/live/sessions/{live['id']}/buy",
        json=body,
        headers={**buyer.headers, "Idempotency-Key": key},
    )


async def _quote(
    http: httpx.AsyncClient, live: dict[str, Any], sku_id: int, deal_id: int, buyer: Actor, n: int
) -> httpx.Response:
    return await http.post(
        f"/api/v1/live/sessions/{live['id']}/quote",
        json={"sku_id": sku_id, "deal_id": deal_id, "quantity": n},
        headers=buyer.headers,
    )


async def _remaining(
    http: httpx.AsyncClient, live: dict[str, Any], buyer: Actor | None
) -> int | None:
    headers = buyer.headers if buyer is not None else {}
    got = await http.get(f"/api/v1/live/sessions/{live['id']}/deal", headers=headers)
    assert got.status_code == 200, got.text
    value: int | None = got.json()["remaining_for_you"]
    return value


async def test_the_limit_is_set_and_shown_in_the_api_the_event_and_the_snapshot(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, live, sku_id = await _room(http, make_actor)
        viewer = await RoomClient.open(base, live["id"])
        await viewer.snapshot()
        deal = await _start(http, creator, live, sku_id, per_buyer_limit=3)
        assert deal.status_code == 201, deal.text
        assert (deal.json()["per_buyer_limit"], deal.json()["units"]) == (3, 10)
        started = await viewer.until("deal_started")
        assert started["deal"]["per_buyer_limit"] == 3
        late = await RoomClient.open(base, live["id"])
        assert (await late.snapshot())["deal"]["per_buyer_limit"] == 3
        buyer = await make_actor(Role.BUYER)
        assert await _remaining(http, live, buyer) == 3
        assert await _remaining(http, live, None) is None  # nobody signed in: no allowance
        await viewer.close()
        await late.close()


async def test_a_deal_without_a_limit_says_so(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, live, sku_id = await _room(http, make_actor)
        viewer = await RoomClient.open(base, live["id"])
        await viewer.snapshot()
        deal = await _start(http, creator, live, sku_id)
        assert deal.status_code == 201 and deal.json()["per_buyer_limit"] is None
        assert (await viewer.until("deal_started"))["deal"]["per_buyer_limit"] is None
        buyer = await make_actor(Role.BUYER)
        assert await _remaining(http, live, buyer) is None
        got = await _buy(http, live, sku_id, deal.json()["deal_id"], buyer, "all", quantity=10)
        assert got.status_code == 201, got.text  # no limit: one buyer may take every unit
        await viewer.close()


@pytest.mark.parametrize(
    ("limit", "code"),
    [
        (0, "validation-error"),
        (-1, "validation-error"),
        (11, "bad-per-buyer-limit"),  # above the deal's 10 units
        (10**30, "validation-error"),
        ("3", "validation-error"),
        (2.5, "validation-error"),
        (True, "validation-error"),
        ([3], "validation-error"),
    ],
)
async def test_a_bad_limit_is_a_422_problem_and_starts_nothing(
    db: Database, serve: Serve, make_actor: MakeActor, limit: Any, code: str
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, live, sku_id = await _room(http, make_actor)
        assert_problem(await _start(http, creator, live, sku_id, per_buyer_limit=limit), 422, code)
        assert (await http.get(f"/api/v1/live/sessions/{live['id']}/deal")).json() is None
        assert (await http.get(f"/api/v1/skus/{sku_id}/stock")).json()["available"] == 50


async def _counts(db: Database, sku_id: int) -> tuple[Any, ...]:
    async with db.session() as s:
        summary = await inventory.stock_summary(s, sku_id)
        orders = await s.scalar(select(func.count()).select_from(Order))
        postings = await s.scalar(select(func.count()).select_from(LedgerTransaction))
        balance = await trial_balance(s)
        await s.rollback()
    return (summary.available, summary.held, summary.sold, orders, postings, balance)


async def test_over_the_limit_is_refused_by_quote_and_buy_with_nothing_changed(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, live, sku_id = await _room(http, make_actor)
        deal = await _start(http, creator, live, sku_id, per_buyer_limit=3)
        deal_id = deal.json()["deal_id"]
        buyer = await make_actor(Role.BUYER)
        too_many = assert_problem(
            await _quote(http, live, sku_id, deal_id, buyer, 4), 409, "deal-limit-reached"
        )
        assert (too_many["per_buyer_limit"], too_many["remaining"]) == (3, 3)
        first = await _buy(http, live, sku_id, deal_id, buyer, "a", quantity=2)
        assert first.status_code == 201 and first.json()["status"] == "paid", first.text
        assert await _remaining(http, live, buyer) == 1

        before = await _counts(db, sku_id)
        quoted = assert_problem(
            await _quote(http, live, sku_id, deal_id, buyer, 2), 409, "deal-limit-reached"
        )
        assert quoted["remaining"] == 1 and "1 more" in quoted["detail"]
        refused = assert_problem(
            await _buy(http, live, sku_id, deal_id, buyer, "b", quantity=2),
            409,
            "deal-limit-reached",
        )
        assert (refused["remaining"], refused["deal_id"]) == (1, deal_id)
        assert await _counts(db, sku_id) == before  # stock, orders, ledger: all as they were
        deal_now = (await http.get(f"/api/v1/live/sessions/{live['id']}/deal")).json()
        assert deal_now["available"] == 8

        # The same key may be used again once refused (nothing was kept under it).
        last = await _buy(http, live, sku_id, deal_id, buyer, "b", quantity=1)
        assert last.status_code == 201, last.text
        done = assert_problem(
            await _quote(http, live, sku_id, deal_id, buyer, 1), 409, "deal-limit-reached"
        )
        assert done["remaining"] == 0
        # Another buyer has an allowance of their own.
        other = await make_actor(Role.BUYER)
        assert (await _quote(http, live, sku_id, deal_id, other, 3)).status_code == 200


async def test_one_buyer_racing_themselves_on_two_connections_gets_at_most_the_limit(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    url = base.replace("ws://", "http://")
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as one,
        httpx.AsyncClient(base_url=url, timeout=60) as two,
    ):
        creator, live, sku_id = await _room(one, make_actor)
        deal = await _start(one, creator, live, sku_id, units=20, per_buyer_limit=3)
        deal_id = deal.json()["deal_id"]
        buyer = await make_actor(Role.BUYER)
        taps = [
            _buy(
                (one, two)[n % 2],
                live,
                sku_id,
                deal_id,
                buyer,
                f"tap-{n}",
                quantity=1 + n % 2,
                pay=n % 3 == 0,
            )
            for n in range(24)
        ]
        answers = await asyncio.gather(*taps)
    won = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert won, [a.text for a in answers][:3]
    for a in refused:
        assert_problem(a, 409, "deal-limit-reached")
    units = sum(a.json()["lines"][0]["quantity"] for a in won)
    assert 2 <= units <= 3  # a tap of 2 may be refused with 1 left; never more than 3
    async with db.session() as s:
        counted = await s.scalar(
            select(FlashDealBuyer.units).where(
                FlashDealBuyer.deal_id == deal_id, FlashDealBuyer.buyer_id == buyer.id
            )
        )
        orders = await s.scalar(
            select(func.count()).select_from(Order).where(Order.buyer_id == buyer.id)
        )
        summary = await inventory.stock_summary(s, sku_id)
        assert set((await trial_balance(s)).values()) <= {0}  # balanced (none if nobody paid)
        await s.rollback()
    assert (counted, orders) == (units, len(won))
    assert summary.held + summary.sold == 20  # the deal's allocation: nothing leaked


async def test_the_allowance_comes_back_when_an_unpaid_order_is_cancelled_or_expires_not_on_refund(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, live, sku_id = await _room(http, make_actor)
        deal = await _start(http, creator, live, sku_id, per_buyer_limit=2)
        deal_id = deal.json()["deal_id"]
        buyer = await make_actor(Role.BUYER)

        held = await _buy(http, live, sku_id, deal_id, buyer, "held", quantity=2, pay=False)
        assert held.json()["status"] == "pending_payment", held.text
        assert await _remaining(http, live, buyer) == 0
        cancel = await http.post(
            f"/api/v1/orders/{held.json()['id']}/cancel",
            json={"reason": "changed my mind"},
            headers=buyer.headers,
        )
        assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled", cancel.text
        assert await _remaining(http, live, buyer) == 2  # bought nothing: the allowance is back

        lapsed = await _buy(http, live, sku_id, deal_id, buyer, "lapsed", quantity=1, pay=False)
        assert lapsed.status_code == 201, lapsed.text
        assert await _remaining(http, live, buyer) == 1
        async with db.session() as s:  # the hold runs out; the sweeper cancels the order
            assert await lifecycle.cancel_unpaid_expired(s, now=utcnow() + timedelta(hours=1))
        assert await _remaining(http, live, buyer) == 2

        paid = await _buy(http, live, sku_id, deal_id, buyer, "paid", quantity=2)
        assert paid.json()["status"] == "paid", paid.text
        refund = await http.post(
            f"/api/v1/orders/{paid.json()['id']}/cancel",
            json={"reason": "refund me"},
            headers=buyer.headers,
        )
        assert refund.status_code == 200, refund.text
        async with db.session() as s:
            order = await s.get(Order, paid.json()["id"])
            assert order is not None and order.status == OrderStatus.CANCELLED
        # A refund does not give the allowance back (the units did not go back into the deal).
        assert await _remaining(http, live, buyer) == 0
        assert_problem(
            await _buy(http, live, sku_id, deal_id, buyer, "again", quantity=1),
            409,
            "deal-limit-reached",
        )


async def test_the_allowance_comes_back_when_the_units_sold_out_before_the_payment_arrived(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    """A buyer whose hold ran out, and whose unit another buyer then bought, bought nothing:
    their late payment is returned, the order cancelled, and the allowance comes back."""
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, live, sku_id = await _room(http, make_actor, stock=1)
        deal = await _start(http, creator, live, sku_id, units=1, per_buyer_limit=1)
        assert deal.status_code == 201, deal.text
        deal_id = deal.json()["deal_id"]
        late, quick = await make_actor(Role.BUYER), await make_actor(Role.BUYER)

        held = await _buy(http, live, sku_id, deal_id, late, "late", pay=False)
        assert held.json()["status"] == "pending_payment", held.text
        assert await _remaining(http, live, late) == 0
        async with db.session() as s:  # the late buyer's hold runs out: the unit is free again
            reservation_id = await s.scalar(
                select(OrderLine.reservation_id).where(OrderLine.order_id == held.json()["id"])
            )
            await s.execute(
                update(Reservation)
                .where(Reservation.id == reservation_id)
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
            assert await inventory.release_expired(s) == 1
            await s.commit()
        taken = await _buy(http, live, sku_id, deal_id, quick, "quick")
        assert taken.json()["status"] == "paid", taken.text

        paid_late = await http.post(
            f"/api/v1/orders/{held.json()['id']}/pay",
            json={"card_number": CARD},
            headers=late.headers,
        )
        assert paid_late.status_code == 409, paid_late.text
        async with db.session() as s:
            order = await s.get(Order, held.json()["id"])
            assert order is not None and order.status == OrderStatus.CANCELLED
            # The deal is over (sold out), but the late buyer bought nothing of it: the units
            # counted against their limit are given back.
            counted = await s.scalar(
                select(FlashDealBuyer.units).where(
                    FlashDealBuyer.deal_id == deal_id, FlashDealBuyer.buyer_id == late.id
                )
            )
            assert counted == 0
