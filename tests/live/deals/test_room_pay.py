"""One-tap pay over the room socket: a ``pay`` frame pays the viewer's held claim with their
default saved card (``live.deals.room_pay``), in the node's pay batch, and answers on the same
socket. What the HTTP route refuses, the frame refuses with the same codes, charging nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.orders.models import Payment
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import CARD, http_of, open_drop, pay_claim, stock_identity
from tests.live.helpers import RoomClient, live_room_with_stock
from tests.support import Actor, MakeActor


async def _save_card(http: httpx.AsyncClient, buyer: Actor) -> None:
    body = {"card_number": CARD, "exp_month": 12, "exp_year": datetime.now(UTC).year + 2}
    saved = await http.post("/api/v1/me/cards", json=body, headers=buyer.headers)
    assert saved.status_code == 201, saved.text


async def _room(base: str, session_id: int, buyer: Actor | None) -> RoomClient:
    room = await RoomClient.open(base, session_id, token=None if buyer is None else buyer.token)
    await room.snapshot()
    return room


async def _claim(room: RoomClient, frame: dict[str, Any], ref: str) -> int:
    await room.send({"type": "claim", **frame, "ref": ref})
    won = await room.until("claim_result", ref=ref)
    assert won["status"] == "held", won
    return int(won["claim_id"])


async def _pay(room: RoomClient, ref: str, **frame: Any) -> dict[str, Any]:
    await room.send({"type": "pay", **frame, "ref": ref})
    answer: dict[str, Any] = await room.until("pay_result", ref=ref)
    return answer


async def _payments(db: Database) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(func.count()).select_from(Payment)) or 0)


async def test_winners_pay_with_one_tap_on_their_room_socket(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=4)
        session_id = drop.live["id"]
        payers = [await make_actor(Role.BUYER) for _ in range(3)]
        no_card = await make_actor(Role.BUYER)
        for buyer in payers:
            await _save_card(http, buyer)
        rooms = [await _room(base, session_id, b) for b in [*payers, no_card]]
        claims = [await _claim(r, {"deal_id": drop.deal_id}, f"c{i}") for i, r in enumerate(rooms)]
        # The three with a saved card pay at once: one batch (or a few), each answered.
        pairs = enumerate(zip(rooms, claims, strict=True))
        paid = await asyncio.gather(*(_pay(r, f"p{i}", claim_id=c) for i, (r, c) in pairs))
        for answer in paid[:3]:
            assert answer["status"] == "paid", answer
            assert answer["total_minor"] > 0 and answer["currency"] and answer["display_total"]
        assert len({a["order_id"] for a in paid[:3]}) == 3
        # No saved card: refused, nothing charged; the claim still holds and pays over HTTP.
        assert paid[3]["error"]["code"] == "no-default-card"
        assert await _payments(db) == 3
        later = await pay_claim(http, claims[3], no_card)
        assert later.status_code == 201 and later.json()["status"] == "paid", later.text
        # The buyer sees their order paid; paying again answers the same order, no charge.
        order = await http.get(f"/api/v1/orders/{paid[0]['order_id']}", headers=payers[0].headers)
        assert order.status_code == 200 and order.json()["status"] == "paid"
        again = await _pay(rooms[0], "again", claim_id=claims[0])
        assert again["order_id"] == paid[0]["order_id"] and again["status"] == "paid"
        assert await _payments(db) == 4
        # Someone else's claim is not yours to pay.
        other = await _pay(rooms[1], "theirs", claim_id=claims[0])
        assert "error" in other and other["error"]["code"] == "claim-not-found", other
        assert await stock_identity(db, drop.sku_id) == (46, 0, 4, 50)
        for r in rooms:
            await r.ws.close()


async def test_a_shelf_claim_pays_over_the_socket_too(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        _creator, live, sku_id, _product = await live_room_with_stock(
            http, make_actor, stock=2, slug="shelf-pay"
        )
        buyer = await make_actor(Role.BUYER)
        await _save_card(http, buyer)
        room = await _room(base, live["id"], buyer)
        claim_id = await _claim(room, {"sku_id": sku_id}, "s")
        answer = await _pay(room, "p", claim_id=claim_id, kind="shelf")
        assert answer["status"] == "paid", answer
        # A drop's claim id given as a shelf claim (and the reverse) is not found.
        wrong = await _pay(room, "w", claim_id=claim_id + 1000, kind="shelf")
        assert wrong["error"]["code"] == "claim-not-found", wrong
        assert await stock_identity(db, sku_id) == (1, 0, 1, 2)
        await room.ws.close()


async def test_bad_pay_frames_change_nothing(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=2)
        buyer = await make_actor(Role.BUYER)
        await _save_card(http, buyer)
        room = await _room(base, drop.live["id"], buyer)
        claim_id = await _claim(room, {"deal_id": drop.deal_id}, "c")
        for i, frame in enumerate(
            [
                {"claim_id": True},
                {"claim_id": "1"},
                {"claim_id": 2**70},
                {"claim_id": 0},
                {"claim_id": claim_id, "kind": "auction"},
                {"claim_id": claim_id, "expected_total_minor": -1},
                {"claim_id": claim_id, "expected_total_minor": 1.5},
                {},
            ]
        ):
            answer = await _pay(room, f"b{i}", **frame)
            assert answer["error"]["code"] == "bad-pay", (frame, answer)
        shown_wrong = await _pay(room, "t", claim_id=claim_id, expected_total_minor=1)
        assert shown_wrong["error"]["code"] == "price-changed", shown_wrong
        assert await _payments(db) == 0
        anonymous = await _room(base, drop.live["id"], None)
        answer = await _pay(anonymous, "a", claim_id=claim_id)
        assert answer["error"]["code"] == "sign-in-required"
        assert await stock_identity(db, drop.sku_id) == (48, 2, 0, 50)  # the deal holds its 2
        paid = await _pay(room, "ok", claim_id=claim_id)
        assert paid["status"] == "paid", paid
        for r in (room, anonymous):
            await r.ws.close()
