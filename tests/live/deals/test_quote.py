"""The room's price quote: what the buy sheet shows is what the in-room buy charges.

Each case quotes, checks that the quote took nothing (stock, deal units, campaign budget,
orders, ledger), then buys in the room with the quote's total and compares the order with the
quote, amount by amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.inventory.models import Reservation
from liveshop.ledger.models import LedgerTransaction
from liveshop.orders.models import Order
from liveshop.promotions.models import SubsidyCampaign
from tests.live.helpers import new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem

CARD = "4242424242424242"
PRICE = 2400  # £24.00, VAT (20 %) £4.00 inside; UK shipping £3.00 with £0.50 VAT


@dataclass
class Room:
    creator: Actor
    buyer: Actor
    admin: Actor
    session_id: int
    product_id: int
    sku_id: int


async def _room(client: httpx.AsyncClient, make_actor: MakeActor, *, stock: int = 20) -> Room:
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, "quote", price_gb=PRICE)
    sku_id = product["skus"][0]["id"]
    got = await client.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": stock, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(client, creator, [product["id"]], start=True)
    return Room(
        creator=creator,
        buyer=await make_actor(Role.BUYER),
        admin=await make_actor(Role.ADMIN),
        session_id=live["id"],
        product_id=product["id"],
        sku_id=sku_id,
    )


async def _campaign(client: httpx.AsyncClient, room: Room, **terms: Any) -> int:
    body = {"market": "GB", "per_order_cap_minor": 10_000, "budget_minor": 100_000, **terms}
    made = await client.post("/api/v1/subsidy-campaigns", json=body, headers=room.admin.headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _deal(client: httpx.AsyncClient, room: Room, *, price: int, units: int) -> int:
    made = await client.post(
        f"/api/v1/live/sessions/{room.session_id}/deals",
        json={"sku_id": room.sku_id, "price_minor": price, "units": units, "duration_seconds": 600},
        headers=room.creator.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["deal_id"])


async def _quote(
    client: httpx.AsyncClient, session_id: int, who: Actor | None = None, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/live/sessions/{session_id}/quote",
        json=body,
        headers=who.headers if who is not None else {},
    )


async def _buy(
    client: httpx.AsyncClient, room: Room, key: str, buyer: Actor | None = None, **body: Any
) -> httpx.Response:
    who = buyer or room.buyer
    return await client.post(
        f"/api/v1/live/sessions/{room.session_id}/buy",
        json={"sku_id": room.sku_id, "card_number": CARD, **body},
        headers={**who.headers, "Idempotency-Key": key},
    )


async def _footprint(db: Database, room: Room) -> dict[str, Any]:
    """Everything a checkout writes: stock, holds, campaign budgets, orders, ledger."""
    async with db.session() as s:
        stock = await inventory.stock_summary(s, room.sku_id)
        await s.commit()

        async def count(model: Any) -> int:
            return int(await s.scalar(select(func.count()).select_from(model)) or 0)

        spent = (await s.scalars(select(SubsidyCampaign.spent_minor))).all()
        return {
            "stock": (stock.available, stock.held, stock.sold),
            "holds": await count(Reservation),
            "budgets_spent": sorted(spent),
            "orders": await count(Order),
            "ledger": await count(LedgerTransaction),
        }


AMOUNTS = (
    "items_minor",
    "subsidy_minor",
    "shipping_minor",
    "shipping_subsidy_minor",
    "shipping_tax_minor",
    "tax_minor",
    "total_minor",
)

# case → (items, platform discount, shipping subsidy, tax, total) the buyer is charged
CASES = {
    "normal price": (2400, 0, 0, 400 + 50, 2400 + 300),
    "flash deal": (1500, 0, 0, 250 + 50, 1500 + 300),
    "live discount campaign": (2400, 240, 0, 400 + 50, 2400 - 240 + 300),
    "free shipping campaign": (2400, 0, 300, 400 + 50, 2400),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_quote_is_what_the_room_buy_charges(
    case: str, client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    room = await _room(client, make_actor)
    body: dict[str, Any] = {"sku_id": room.sku_id, "quantity": 1}
    if case == "flash deal":
        body["deal_id"] = await _deal(client, room, price=1500, units=5)
    elif case == "live discount campaign":
        await _campaign(client, room, kind="live_discount_bp", value=1000)
    elif case == "free shipping campaign":
        await _campaign(client, room, kind="free_shipping", value=0, per_order_cap_minor=300)

    before = await _footprint(db, room)
    quoted = await _quote(client, room.session_id, room.buyer, **body)
    assert quoted.status_code == 200, quoted.text
    quote = quoted.json()
    again = await _quote(client, room.session_id, room.buyer, **body)
    assert again.json() == quote
    assert await _footprint(db, room) == before  # nothing held, claimed, ordered or posted

    items, subsidy, free_shipping, tax, total = CASES[case]
    assert (quote["market"], quote["currency"]) == ("GB", "GBP")
    assert (quote["tax_name"], quote["prices_include_tax"]) == ("VAT", True)
    assert (quote["items_minor"], quote["subsidy_minor"]) == (items, subsidy)
    assert (quote["shipping_minor"], quote["shipping_subsidy_minor"]) == (300, free_shipping)
    assert (quote["tax_minor"], quote["total_minor"]) == (tax, total)
    assert quote["display"]["total"] == f"£{total // 100}.{total % 100:02d}"
    line = quote["lines"][0]
    assert (line["sku_id"], line["product_id"], line["quantity"]) == (
        room.sku_id,
        room.product_id,
        1,
    )
    assert (line["list_price_minor"], line["unit_price_minor"]) == (PRICE, items)
    assert line["deal_id"] == body.get("deal_id")

    bought = await _buy(client, room, "tap", expected_total_minor=total, **body)
    assert bought.status_code == 201, bought.text
    order = bought.json()
    assert order["status"] == "paid"
    assert {k: order[k] for k in AMOUNTS} == {k: quote[k] for k in AMOUNTS}
    assert order["display_total"] == quote["display"]["total"]
    after = await _footprint(db, room)
    assert after["budgets_spent"] == [subsidy or free_shipping] * len(before["budgets_spent"])
    assert after["orders"] == before["orders"] + 1


async def test_anyone_may_ask_and_gets_the_same_quote(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    room = await _room(client, make_actor)
    await _campaign(client, room, kind="live_discount_bp", value=1000)
    mine = await _quote(client, room.session_id, room.buyer, sku_id=room.sku_id)
    anonymous = await _quote(client, room.session_id, sku_id=room.sku_id)
    assert mine.status_code == anonymous.status_code == 200, anonymous.text
    assert anonymous.json() == mine.json()
    assert anonymous.json()["total_minor"] == 2400 - 240 + 300


async def test_a_total_that_changed_after_the_quote_is_refused_and_takes_nothing(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    room = await _room(client, make_actor)
    await _campaign(client, room, kind="live_discount_bp", value=1000, budget_minor=240)
    body = {"sku_id": room.sku_id}
    shown = (await _quote(client, room.session_id, room.buyer, **body)).json()
    assert shown["total_minor"] == 2460
    # Someone else takes the campaign's whole budget between the quote and the tap.
    other = await _buy(client, room, "first", buyer=await make_actor(Role.BUYER))
    assert other.status_code == 201 and other.json()["subsidy_minor"] == 240

    before = await _footprint(db, room)
    refused = await _buy(client, room, "second", expected_total_minor=2460, **body)
    problem = assert_problem(refused, 409, "price-changed")
    assert (problem["expected_total_minor"], problem["total_minor"]) == (2460, 2700)
    assert await _footprint(db, room) == before

    fresh = (await _quote(client, room.session_id, room.buyer, **body)).json()
    assert (fresh["subsidy_minor"], fresh["total_minor"]) == (0, 2700)
    bought = await _buy(client, room, "second", expected_total_minor=2700, **body)
    assert bought.status_code == 201, bought.text
    assert bought.json()["total_minor"] == 2700


async def test_bad_quotes_are_4xx(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    room = await _room(client, make_actor, stock=10)
    sid, sku = room.session_id, room.sku_id
    for body in (
        {"sku_id": sku, "quantity": 0},
        {"sku_id": sku, "quantity": 100},
        {"sku_id": 0},
        {"quantity": 1},
        {"sku_id": sku, "card_number": CARD},
    ):
        assert_problem(await _quote(client, sid, room.buyer, **body), 422)
    assert_problem(await _quote(client, sid, room.buyer, sku_id=999_999), 422, "unknown-sku")
    assert_problem(await _quote(client, 999_999, room.buyer, sku_id=sku), 404)

    deal_id = await _deal(client, room, price=1500, units=2)
    many = await _quote(client, sid, room.buyer, sku_id=sku, quantity=3, deal_id=deal_id)
    assert_problem(many, 409, "deal-sold-out")
    assert_problem(await _quote(client, sid, sku_id=sku, deal_id=999_999), 404, "deal-not-found")

    other = await showcase_product(client, await make_actor(Role.SELLER), "other-shop")
    mismatch = await _quote(client, sid, sku_id=other["skus"][0]["id"], deal_id=deal_id)
    assert_problem(mismatch, 422, "deal-mismatch")
    ended = await client.post(
        f"/api/v1/live/sessions/{sid}/deals/{deal_id}/end", headers=room.creator.headers
    )
    assert ended.status_code == 200, ended.text
    assert_problem(await _quote(client, sid, sku_id=sku, deal_id=deal_id), 409, "deal-ended")

    later = await new_session(client, room.creator, [room.product_id])  # scheduled, not live
    assert_problem(await _quote(client, later["id"], sku_id=sku), 409, "session-not-live")
