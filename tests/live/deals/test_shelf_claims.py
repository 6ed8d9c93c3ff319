"""Taps on a product on show in a live room without a deal: claims held first come first
served in batches, sold out answered from memory, paid at the room's price, given up or run
out back on sale — on both databases, over HTTP and the room's socket."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.inventory.models import Reservation
from liveshop.live.deals.models import ShelfClaim
from liveshop.orders.models import Order
from tests.addresses.examples import address
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import CARD, http_of, open_drop, stock_identity, tap
from tests.live.helpers import RoomClient, live_room_with_stock, showcase_product
from tests.support import Actor, MakeActor, assert_problem


async def _room(
    http: httpx.AsyncClient, make_actor: MakeActor, *, stock: int, slug: str = "shelf"
) -> tuple[dict[str, Any], int, int]:
    """A live session showing one product with ``stock`` units: (session, sku, product);
    the session's ``creator`` is the host."""
    creator, live, sku_id, product_id = await live_room_with_stock(
        http, make_actor, stock=stock, slug=slug
    )
    return {**live, "creator": creator}, sku_id, product_id


def claim(http: httpx.AsyncClient, session_id: int, buyer: Actor, body: Any, **kw: Any) -> Any:
    return http.post(
        f"/api/v1/live/sessions/{session_id}/claim", json=body, headers=buyer.headers, **kw
    )


async def test_taps_hold_units_first_come_first_served_and_never_oversell(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        live, sku_id, _product = await _room(http, make_actor, stock=5)
        buyers = [await make_actor(Role.BUYER) for _ in range(12)]
        answers = await asyncio.gather(
            *(claim(http, live["id"], b, {"sku_id": sku_id}) for b in buyers)
        )
        held = [a for a in answers if a.status_code == 201]
        assert len(held) == 5
        for a in held:
            body = a.json()
            assert body["status"] == "held" and body["kind"] == "shelf"
            assert body["quantity"] == 1 and body["pay_within_s"] == 300
        for a in answers:
            if a.status_code != 201:
                assert_problem(a, 409, "sold-out")
        assert await stock_identity(db, sku_id) == (0, 5, 0, 5)
        # Sold out is now answered from the node's memory, without a batch.
        desk = app.state.claim_desk
        batches, memory = desk.batches, desk.memory_answers
        assert_problem(
            await claim(http, live["id"], buyers[0], {"sku_id": sku_id}), 409, "sold-out"
        )
        assert (desk.batches, desk.memory_answers) == (batches, memory + 1)
        # Asking for more than any one warehouse has left is refused the same way.
        assert await stock_identity(db, sku_id) == (0, 5, 0, 5)


async def test_a_claim_is_paid_at_the_rooms_price_once(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        live, sku_id, product_id = await _room(http, make_actor, stock=3)
        buyer, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        made = await claim(http, live["id"], buyer, {"sku_id": sku_id, "quantity": 2})
        assert made.status_code == 201, made.text
        claim_id = made.json()["claim_id"]
        shown = await http.get(f"/api/v1/live/shelf-claims/{claim_id}", headers=buyer.headers)
        assert shown.json()["status"] == "held" and shown.json()["product_id"] == product_id
        quote = await http.post(
            f"/api/v1/live/shelf-claims/{claim_id}/quote", headers=buyer.headers
        )
        assert quote.status_code == 200, quote.text
        assert quote.json()["items_minor"] == 2 * 1899
        total = quote.json()["total_minor"]
        # Someone else's claim is not there for them.
        for path in ("", "/quote", "/pay", "/release"):
            method = http.get if path == "" else http.post
            kw: dict[str, Any] = {} if path in ("", "/quote", "/release") else {"json": {}}
            got = await method(
                f"/api/v1/live/shelf-claims/{claim_id}{path}", headers=other.headers, **kw
            )
            assert_problem(got, 404, "claim-not-found")
        paid = await http.post(
            f"/api/v1/live/shelf-claims/{claim_id}/pay",
            json={"card_number": CARD, "expected_total_minor": total},
            headers=buyer.headers,
        )
        assert paid.status_code == 201, paid.text
        order = paid.json()
        assert order["status"] == "paid" and order["total_minor"] == total
        again = await http.post(
            f"/api/v1/live/shelf-claims/{claim_id}/pay",
            json={"card_number": CARD},
            headers=buyer.headers,
        )
        assert again.status_code == 200 and again.json()["id"] == order["id"]
        shown = await http.get(f"/api/v1/live/shelf-claims/{claim_id}", headers=buyer.headers)
        assert shown.json()["status"] == "ordered" and shown.json()["order_id"] == order["id"]
        assert_problem(
            await http.post(f"/api/v1/live/shelf-claims/{claim_id}/release", headers=buyer.headers),
            409,
            "claim-not-held",
        )
        async with db.session() as s:
            row = await s.get(Order, order["id"])
            assert row is not None and row.live_session_id == live["id"]
        assert await stock_identity(db, sku_id) == (1, 0, 2, 3)


async def test_given_up_or_run_out_the_units_are_on_sale_again(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        live, sku_id, _product = await _room(http, make_actor, stock=1)
        first, second = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        won = await claim(http, live["id"], first, {"sku_id": sku_id})
        assert won.status_code == 201
        assert_problem(await claim(http, live["id"], second, {"sku_id": sku_id}), 409, "sold-out")
        released = await http.post(
            f"/api/v1/live/shelf-claims/{won.json()['claim_id']}/release", headers=first.headers
        )
        assert released.status_code == 200, released.text
        # At once, not a second later: giving up tells every node's memory.
        again = await claim(http, live["id"], second, {"sku_id": sku_id})
        assert again.status_code == 201, again.text
        claim_id = again.json()["claim_id"]
        async with db.session() as s:  # its hold runs out
            res_id = await s.scalar(
                select(ShelfClaim.reservation_id).where(ShelfClaim.id == claim_id)
            )
            past = utcnow() - timedelta(seconds=1)
            await s.execute(
                update(Reservation).where(Reservation.id == res_id).values(expires_at=past)
            )
            await s.execute(
                update(ShelfClaim).where(ShelfClaim.id == claim_id).values(expires_at=past)
            )
            await s.commit()
        async with db.session() as s:
            assert await inventory.release_expired(s) == 1
            await s.commit()
        shown = await http.get(f"/api/v1/live/shelf-claims/{claim_id}", headers=second.headers)
        assert shown.json()["status"] == "expired" and shown.json()["pay_within_s"] == 0
        late = await http.post(
            f"/api/v1/live/shelf-claims/{claim_id}/pay",
            json={"card_number": CARD},
            headers=second.headers,
        )
        assert_problem(late, 409, "claim-expired")
        assert await stock_identity(db, sku_id) == (1, 0, 0, 1)


async def test_what_cannot_be_claimed_is_refused_and_changes_nothing(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        live, sku_id, _product = await _room(http, make_actor, stock=4)
        seller = await make_actor(Role.SELLER)
        elsewhere = await showcase_product(http, seller, "elsewhere")
        buyer = await make_actor(Role.BUYER)
        not_shown = await claim(http, live["id"], buyer, {"sku_id": elsewhere["skus"][0]["id"]})
        assert_problem(not_shown, 409, "not-on-show")
        assert_problem(await claim(http, live["id"], seller, {"sku_id": sku_id}), 403, "wrong-role")
        anonymous = await http.post(
            f"/api/v1/live/sessions/{live['id']}/claim", json={"sku_id": sku_id}
        )
        assert_problem(anonymous, 401)
        assert_problem(
            await claim(http, 2**62, buyer, {"sku_id": sku_id}), 404, "session-not-found"
        )
        for bad in (
            {},
            {"sku_id": True},
            {"sku_id": "1"},
            {"sku_id": 2**64},
            {"sku_id": sku_id, "quantity": 0},
            {"sku_id": sku_id, "quantity": 100},
            {"sku_id": sku_id, "price_minor": 1},
            [sku_id],
        ):
            assert_problem(await claim(http, live["id"], buyer, bad), 422, "bad-claim")
        nul = await http.post(
            f"/api/v1/live/sessions/{live['id']}/claim",
            content=b'{"sku_id": "\\u0000"}',
            headers={**buyer.headers, "Content-Type": "application/json"},
        )
        assert_problem(nul, 422, "bad-claim")
        bad_path = await http.post(
            "/api/v1/live/sessions/99999999999999999999999/claim",
            json={"sku_id": sku_id},
            headers=buyer.headers,
        )
        assert_problem(bad_path, 422, "bad-claim")
        assert await stock_identity(db, sku_id) == (4, 0, 0, 4)
        ended = await http.post(
            f"/api/v1/live/sessions/{live['id']}/end", headers=live["creator"].headers
        )
        assert ended.status_code == 200, ended.text
        assert_problem(
            await claim(http, live["id"], buyer, {"sku_id": sku_id}), 409, "session-not-live"
        )
        assert await stock_identity(db, sku_id) == (4, 0, 0, 4)


async def test_taps_over_the_room_socket(db: Database, serve: Serve, make_actor: MakeActor) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        live, sku_id, _product = await _room(http, make_actor, stock=1)
        buyer, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        room = await RoomClient.open(base, live["id"], token=buyer.token)
        await room.snapshot()
        await room.send({"type": "claim", "sku_id": sku_id, "ref": "s1"})
        won = await room.until("claim_result", ref="s1")
        assert won["status"] == "held" and won["kind"] == "shelf" and won["sku_id"] == sku_id
        heard = await room.until("stock", sku_id=sku_id, available=0)  # the room hears it
        assert heard["version"] > 0  # newer figures from any node have a higher one
        second = await RoomClient.open(base, live["id"], token=other.token)
        await second.snapshot()
        await second.send({"type": "claim", "sku_id": sku_id, "ref": 2})
        lost = await second.until("claim_result", ref=2)
        assert lost["error"]["code"] == "sold-out"
        await second.send({"type": "claim", "sku_id": "x", "ref": 3})
        assert (await second.until("claim_result", ref=3))["error"]["code"] == "bad-claim"
        for r in (room, second):
            await r.ws.close()


async def test_claims_are_delivered_to_the_address_chosen_in_the_sheet(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    """A shelf claim and a drop's claim paid with ``address_id`` (the buy sheet's choice):
    each order keeps a copy of that address; someone else's is 404 and changes nothing."""
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=5, stock=20)
        buyer, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        book = "/api/v1/me/addresses"
        assert (await http.post(book, json=address("GB"), headers=buyer.headers)).is_success
        work = await http.post(
            book, json=address("GB", street_address="1 Work Lane"), headers=buyer.headers
        )
        theirs = await http.post(book, json=address("GB"), headers=other.headers)
        on_shelf = await claim(http, drop.live["id"], buyer, {"sku_id": drop.sku_id})
        on_deal = await tap(http, drop.deal_id, buyer)
        assert on_shelf.status_code == on_deal.status_code == 201
        paths = [
            f"/api/v1/live/shelf-claims/{on_shelf.json()['claim_id']}/pay",
            f"/api/v1/live/claims/{on_deal.json()['claim_id']}/pay",
        ]
        for path in paths:
            refused = await http.post(
                path,
                json={"card_number": CARD, "address_id": theirs.json()["id"]},
                headers=buyer.headers,
            )
            assert_problem(refused, 404)
            paid = await http.post(
                path,
                json={"card_number": CARD, "address_id": work.json()["id"]},
                headers=buyer.headers,
            )
            assert paid.status_code == 201, paid.text
            assert paid.json()["status"] == "paid"
            kept = await http.get(
                f"/api/v1/orders/{paid.json()['id']}/address", headers=buyer.headers
            )
            assert kept.json()["street_address"] == "1 Work Lane"
