"""One-tap buying in the room with a saved card (``use_default_card`` / ``saved_card_id``):
paid at once; another buyer's card is a 404 with nothing held, ordered or charged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.inventory.models import Reservation
from liveshop.orders.models import Order, Payment
from liveshop.orders.payments.sandbox import CARD_DECLINED, CARD_SUCCEEDS
from liveshop.orders.status import OrderStatus
from tests.live.helpers import new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem

CARDS = "/api/v1/me/cards"


async def _room(client: httpx.AsyncClient, make_actor: MakeActor) -> tuple[int, int]:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, "saved", price_gb=2400)
    sku_id = product["skus"][0]["id"]
    got = await client.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": 10, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(client, creator, [product["id"]], start=True)
    return int(live["id"]), int(sku_id)


async def _save(client: httpx.AsyncClient, buyer: Actor, number: str) -> dict[str, Any]:
    body = {"card_number": number, "exp_month": 12, "exp_year": datetime.now(UTC).year + 2}
    resp = await client.post(CARDS, json=body, headers=buyer.headers)
    assert resp.status_code == 201, resp.text
    card: dict[str, Any] = resp.json()
    return card


async def _count(db: Database, model: Any) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_one_tap_with_the_default_card(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    session_id, sku_id = await _room(client, make_actor)
    buyer = await make_actor(Role.BUYER)
    await _save(client, buyer, CARD_SUCCEEDS)
    url = f"/api/v1/live/sessions/{session_id}/buy"
    resp = await client.post(
        url,
        json={"sku_id": sku_id, "use_default_card": True},
        headers={**buyer.headers, "Idempotency-Key": "tap-1"},
    )
    assert resp.status_code == 201, resp.text
    order = resp.json()
    assert order["status"] == OrderStatus.PAID and order["live_session_id"] == session_id
    # The same tap again replays the order: no second charge.
    again = await client.post(
        url,
        json={"sku_id": sku_id, "use_default_card": True},
        headers={**buyer.headers, "Idempotency-Key": "tap-1"},
    )
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    async with db.session(deferred=True) as s:
        payments = list(await s.scalars(select(Payment)))
    assert [(p.status, p.card_last4) for p in payments] == [("succeeded", "4242")]


async def test_a_declined_saved_card_leaves_the_order_to_pay(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    session_id, sku_id = await _room(client, make_actor)
    buyer = await make_actor(Role.BUYER)
    card = await _save(client, buyer, CARD_DECLINED)
    resp = await client.post(
        f"/api/v1/live/sessions/{session_id}/buy",
        json={"sku_id": sku_id, "saved_card_id": card["id"]},
        headers={**buyer.headers, "Idempotency-Key": "tap-declined"},
    )
    body = assert_problem(resp, 402, "payment-declined")
    async with db.session(deferred=True) as s:
        status = await s.scalar(select(Order.status).where(Order.id == body["order_id"]))
    assert status == OrderStatus.PENDING_PAYMENT


async def test_another_buyers_card_holds_and_charges_nothing(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    session_id, sku_id = await _room(client, make_actor)
    owner, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    card = await _save(client, owner, CARD_SUCCEEDS)
    url = f"/api/v1/live/sessions/{session_id}/buy"
    resp = await client.post(
        url,
        json={"sku_id": sku_id, "saved_card_id": card["id"]},
        headers={**other.headers, "Idempotency-Key": "tap-theirs"},
    )
    assert_problem(resp, 404, "saved-card-not-found")
    no_card = await client.post(
        url,
        json={"sku_id": sku_id, "use_default_card": True},
        headers={**other.headers, "Idempotency-Key": "tap-none"},
    )
    assert_problem(no_card, 409, "no-default-card")
    both = await client.post(
        url,
        json={"sku_id": sku_id, "card_number": CARD_SUCCEEDS, "use_default_card": True},
        headers={**owner.headers, "Idempotency-Key": "tap-both"},
    )
    assert_problem(both, 422, "payment-method-ambiguous")
    for bad in ({"saved_card_id": 2**70}, {"saved_card_id": "1"}, {"use_default_card": "yes"}):
        resp = await client.post(
            url,
            json={"sku_id": sku_id, **bad},
            headers={**owner.headers, "Idempotency-Key": "tap-bad"},
        )
        assert_problem(resp, 422, "validation-error")
    for model in (Order, Payment, Reservation):
        assert await _count(db, model) == 0
