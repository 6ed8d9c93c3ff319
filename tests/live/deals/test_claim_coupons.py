"""A held claim paid with the shop's coupon, on both databases: its quote takes the coupon,
its pay goes the single way (the pay desk batches only claims without one) at the discounted
total, and a wrong code is refused with the claim still held."""

from __future__ import annotations

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, tap
from tests.promotions.test_coupons_everywhere import CARD, _coupon, _room, room_with_host
from tests.support import MakeActor, assert_problem


async def test_a_held_claim_is_paid_with_a_coupon_the_single_way(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        seller, shop_id, session_id, sku_id = await _room(http, make_actor, "coupon-claim")
        await _coupon(http, seller, shop_id, kind="fixed_minor", value=500, code="FIVER")
        buyer = await make_actor(Role.BUYER)
        made = await http.post(
            f"/api/v1/live/sessions/{session_id}/claim",
            json={"sku_id": sku_id},
            headers=buyer.headers,
        )
        assert made.status_code == 201, made.text
        claim_id = made.json()["claim_id"]
        url = f"/api/v1/live/shelf-claims/{claim_id}"
        quote = await http.post(
            f"{url}/quote", json={"coupon_code": "fiver"}, headers=buyer.headers
        )
        assert quote.status_code == 200, quote.text
        assert (quote.json()["coupon_minor"], quote.json()["total_minor"]) == (500, 2200)
        bare = await http.post(f"{url}/quote", headers=buyer.headers)
        assert bare.json()["total_minor"] == 2700  # no body: no coupon, as before
        refused = await http.post(
            f"{url}/pay",
            json={"card_number": CARD, "coupon_code": "WRONG", "expected_total_minor": 2200},
            headers=buyer.headers,
        )
        assert_problem(refused, 422, "unknown-coupon")
        paid = await http.post(
            f"{url}/pay",
            json={"card_number": CARD, "coupon_code": "FIVER", "expected_total_minor": 2200},
            headers=buyer.headers,
        )
        assert paid.status_code == 201, paid.text
        assert (paid.json()["status"], paid.json()["total_minor"]) == ("paid", 2200)


async def test_a_drops_claim_with_a_coupon_is_paid_the_single_way(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        seller, shop_id, session_id, sku_id, creator = await room_with_host(
            http, make_actor, "coupon-drop"
        )
        await _coupon(http, seller, shop_id, kind="fixed_minor", value=100, code="DROP1")
        started = await http.post(
            f"/api/v1/live/sessions/{session_id}/deals",
            json={
                "sku_id": sku_id,
                "price_minor": 999,
                "units": 2,
                "duration_seconds": 600,
                "policy": "queue",
            },
            headers=creator.headers,
        )
        assert started.status_code == 201, started.text
        buyer = await make_actor(Role.BUYER)
        held = await tap(http, started.json()["deal_id"], buyer)
        assert held.status_code == 201, held.text
        url = f"/api/v1/live/claims/{held.json()['claim_id']}"
        quote = await http.post(
            f"{url}/quote", json={"coupon_code": "DROP1"}, headers=buyer.headers
        )
        assert (quote.json()["coupon_minor"], quote.json()["total_minor"]) == (100, 999 - 100 + 300)
        paid = await http.post(
            f"{url}/pay",
            json={"card_number": CARD, "coupon_code": "DROP1", "expected_total_minor": 1199},
            headers=buyer.headers,
        )
        assert paid.status_code == 201, paid.text
        assert (paid.json()["status"], paid.json()["total_minor"]) == ("paid", 1199)
        # (The pay desk prices without coupons: it would have refused 1199 as price-changed.)
