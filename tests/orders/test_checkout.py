from __future__ import annotations

import asyncio

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, balance
from liveshop.orders.payments.sandbox import CARD_DECLINED, CARD_INSUFFICIENT
from tests.orders.conftest import MakeStore, checkout, count_orders, pay, stock_of, trial_balance
from tests.support import MakeActor, assert_problem


async def test_buy_and_pay_posts_a_balanced_ledger(
    client: httpx.AsyncClient, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=10)
    buyer = await make_actor(Role.BUYER)

    placed = await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 2}], key="k1")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "pending_payment"
    # Two units at £12.00 and the UK's flat £3.00 shipping (VAT inside both).
    assert (order["items_minor"], order["shipping_minor"]) == (2400, 300)
    assert (order["shipping_tax_minor"], order["shipping_subsidy_minor"]) == (50, 0)
    assert (order["currency"], order["total_minor"], order["tax_minor"]) == ("GBP", 2700, 450)
    assert order["display_total"] == "£27.00"
    assert order["payment_mode"] == "test"
    held = await stock_of(db, store.sku_id)
    assert (held.available, held.held, held.sold) == (8, 2, 0)

    paid = await pay(client, buyer, order["id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    sold = await stock_of(db, store.sku_id)
    assert (sold.available, sold.held, sold.sold) == (8, 0, 2)

    # £24.00 gross: £4.00 VAT, 5 % platform commission on the £20.00 net = £1.00, seller £19.00;
    # shipping £3.00: £0.50 VAT, the seller (who ships) £2.50, no commission on it.
    async with db.session(deferred=True) as s:
        assert (
            await balance(s, AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP"))
            == 2700
        )
        assert await balance(s, AccountKey(AccountType.TAX_PAYABLE, "market:GB", "GBP")) == -450
        assert (
            await balance(s, AccountKey(AccountType.PLATFORM_REVENUE, "market:GB", "GBP")) == -100
        )
        shop = AccountKey(AccountType.SELLER_PAYABLE, f"shop:{store.shop_id}", "GBP")
        assert await balance(s, shop) == -(1900 + 250)
    assert all(v == 0 for v in (await trial_balance(db)).values())

    # Paying again is a no-op, never a second charge.
    again = await pay(client, buyer, order["id"])
    assert again.status_code == 200 and again.json()["status"] == "paid"
    assert (await trial_balance(db)) == {"GBP": 0}


async def test_vnd_has_no_minor_digits(
    client: httpx.AsyncClient, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    placed = await checkout(
        client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="vn", market="VN"
    )
    body = placed.json()
    # 259,000 ₫ of goods and Vietnam's flat 20,000 ₫ shipping.
    assert (body["currency"], body["items_minor"], body["total_minor"]) == ("VND", 259000, 279000)
    # 10 % VAT inside 259,000 ₫ and inside 20,000 ₫, each rounded half-up to 1 ₫.
    assert (body["tax_minor"], body["shipping_tax_minor"]) == (23545 + 1818, 1818)
    assert body["display_total"].replace("\xa0", " ") == "279.000 ₫"


async def test_idempotency_key_replays_and_refuses_other_bodies(
    client: httpx.AsyncClient, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=10)
    buyer = await make_actor(Role.BUYER)
    lines = [{"sku_id": store.sku_id, "quantity": 1}]
    first = await checkout(client, buyer, lines, key="same")
    replay = await checkout(client, buyer, lines, key="same")
    assert first.status_code == 201 and replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    other = await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 2}], key="same")
    assert_problem(other, 409, "idempotency-key-reused")
    # The same key from another buyer is their own, separate checkout.
    someone = await make_actor(Role.BUYER)
    assert (await checkout(client, someone, lines, key="same")).status_code == 201
    assert await count_orders(db) == 2
    assert (await stock_of(db, store.sku_id)).held == 2

    # Concurrent retries with one key still make one order.
    racers = await asyncio.gather(*(checkout(client, buyer, lines, key="race") for _ in range(8)))
    assert {r.status_code for r in racers} <= {200, 201}
    assert len({r.json()["id"] for r in racers}) == 1
    assert await count_orders(db) == 3


async def test_checkout_needs_an_idempotency_key(
    client: httpx.AsyncClient, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    resp = await client.post(
        "/api/v1/checkout",
        json={"market": "GB", "lines": [{"sku_id": store.sku_id, "quantity": 1}]},
        headers=buyer.headers,
    )
    assert_problem(resp, 422, "validation-error")


async def test_bad_checkouts_change_nothing(
    client: httpx.AsyncClient, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    cases = [
        ([{"sku_id": 999999, "quantity": 1}], "GB", 422, "unknown-sku"),
        ([{"sku_id": store.sku_id, "quantity": 0}], "GB", 422, "validation-error"),
        ([{"sku_id": store.sku_id, "quantity": 10**9}], "GB", 422, "validation-error"),
        ([{"sku_id": store.sku_id, "quantity": 6}], "GB", 409, "out-of-stock"),
        ([{"sku_id": store.sku_id, "quantity": 1}], "DE", 422, "market-not-open"),
        ([{"sku_id": store.sku_id, "quantity": 1}], "XX", 422, "unknown-market"),
        ([{"sku_id": store.other_sku_id, "quantity": 1}], "VN", 422, "sku-not-in-market"),
        (
            [{"sku_id": store.sku_id, "quantity": 1}, {"sku_id": store.sku_id, "quantity": 1}],
            "GB",
            422,
            "duplicate-sku",
        ),
    ]
    for i, (lines, market, status, code) in enumerate(cases):
        resp = await checkout(client, buyer, lines, key=f"bad-{i}", market=market)
        assert_problem(resp, status, code)
    # A failure after the first line was held rolls the whole checkout back.
    mixed = await checkout(
        client,
        buyer,
        [{"sku_id": store.other_sku_id, "quantity": 1}, {"sku_id": store.sku_id, "quantity": 6}],
        key="half",
    )
    assert_problem(mixed, 409, "out-of-stock")
    assert await count_orders(db) == 0
    for sku in (store.sku_id, store.other_sku_id):
        s = await stock_of(db, sku)
        assert (s.held, s.sold) == (0, 0)
    seller = store.seller
    refused = await checkout(client, seller, [{"sku_id": store.sku_id, "quantity": 1}], key="s")
    assert_problem(refused, 403, "wrong-role")
    anonymous = await client.post("/api/v1/checkout", json={}, headers={"Idempotency-Key": "a"})
    assert_problem(anonymous, 401)


async def test_declined_card_leaves_order_payable(
    client: httpx.AsyncClient, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=3)
    buyer = await make_actor(Role.BUYER)
    order = (
        await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="d")
    ).json()
    for card, decline, words in (
        (CARD_DECLINED, "card_declined", "The card was declined."),
        (CARD_INSUFFICIENT, "insufficient_funds", "The card has insufficient funds."),
    ):
        body = assert_problem(await pay(client, buyer, order["id"], card), 402, "payment-declined")
        assert body["decline_code"] == decline
        assert body["detail"] == words
    # The buyer reads why in their language (the code stays for programs).
    declined = await client.post(
        f"/api/v1/orders/{order['id']}/pay",
        json={"card_number": CARD_DECLINED},
        headers={**buyer.headers, "accept-language": "id-ID"},
    )
    body = assert_problem(declined, 402, "payment-declined")
    assert (body["decline_code"], body["detail"]) == ("card_declined", "Kartu ditolak.")
    assert_problem(await pay(client, buyer, order["id"], "4111111111111112"), 422)
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "pending_payment"
    assert (await trial_balance(db)) == {}
    assert (await pay(client, buyer, order["id"])).json()["status"] == "paid"


async def test_orders_are_private(
    client: httpx.AsyncClient, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    other_store = await make_store()
    buyer = await make_actor(Role.BUYER)
    order = (
        await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="p")
    ).json()
    stranger = await make_actor(Role.BUYER)
    assert_problem(await client.get(f"/api/v1/orders/{order['id']}", headers=stranger.headers), 404)
    assert_problem(await pay(client, stranger, order["id"]), 404, "order-not-found")
    # Another shop's seller cannot see or act on it either.
    foreign = other_store.seller
    assert_problem(await client.get(f"/api/v1/orders/{order['id']}", headers=foreign.headers), 404)
    assert_problem(
        await client.get(f"/api/v1/shops/{store.shop_id}/orders", headers=foreign.headers), 403
    )
    # The shop's own seller sees it with commissions; the buyer without.
    own = await client.get(f"/api/v1/orders/{order['id']}", headers=store.seller.headers)
    assert own.json()["lines"][0]["seller_net_minor"] == 950
    mine = await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)
    assert mine.json()["lines"][0]["seller_net_minor"] is None
    listed = await client.get("/api/v1/orders", headers=buyer.headers)
    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]
