from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, balance
from liveshop.orders.payments.sandbox import SandboxProvider
from tests.orders.conftest import MakeStore, checkout, pay, stock_of, trial_balance
from tests.support import Actor, MakeActor, assert_problem


async def _paid(
    client: httpx.AsyncClient, buyer: Actor, lines: list[dict[str, int]], key: str
) -> dict[str, Any]:
    order = (await checkout(client, buyer, lines, key=key)).json()
    paid = await pay(client, buyer, order["id"])
    assert paid.status_code == 200, paid.text
    body: dict[str, Any] = paid.json()
    return body


async def test_fulfilment_path_and_illegal_transitions(
    client: httpx.AsyncClient, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    seller = store.seller.headers
    pending = (
        await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="a")
    ).json()
    ship = {"carrier": "Royal Mail", "tracking_number": "RM123456789GB"}
    assert_problem(
        await client.post(f"/api/v1/orders/{pending['id']}/ship", json=ship, headers=seller),
        409,
        "illegal-order-transition",
    )

    order = await _paid(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], "b")
    oid = order["id"]
    assert_problem(await client.post(f"/api/v1/orders/{oid}/fulfil", headers=buyer.headers), 403)
    assert (await client.post(f"/api/v1/orders/{oid}/fulfil", headers=seller)).json()[
        "status"
    ] == "fulfilling"
    shipped = await client.post(f"/api/v1/orders/{oid}/ship", json=ship, headers=seller)
    assert (shipped.json()["status"], shipped.json()["tracking_number"]) == (
        "shipped",
        "RM123456789GB",
    )
    assert_problem(
        await client.post(f"/api/v1/orders/{oid}/cancel", json={}, headers=buyer.headers),
        403,
        "too-late-to-cancel",
    )
    assert (await client.post(f"/api/v1/orders/{oid}/deliver", headers=seller)).json()[
        "status"
    ] == "delivered"
    assert (await client.post(f"/api/v1/orders/{oid}/complete", headers=seller)).json()[
        "status"
    ] == "completed"
    assert_problem(await client.post(f"/api/v1/orders/{oid}/fulfil", headers=seller), 409)
    history = await client.get(f"/api/v1/orders/{oid}/events", headers=buyer.headers)
    assert [e["to_status"] for e in history.json()] == [
        "pending_payment",
        "paid",
        "fulfilling",
        "shipped",
        "delivered",
        "completed",
    ]
    bad_tracking = await client.post(
        f"/api/v1/orders/{oid}/ship", json={"carrier": "x", "tracking_number": "<>"}, headers=seller
    )
    assert_problem(bad_tracking, 422, "validation-error")


async def test_cancel_unpaid_releases_and_cancel_paid_refunds(
    client: httpx.AsyncClient, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=5)
    buyer = await make_actor(Role.BUYER)
    pending = (
        await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 2}], key="c1")
    ).json()
    cancelled = await client.post(
        f"/api/v1/orders/{pending['id']}/cancel",
        json={"reason": "changed mind"},
        headers=buyer.headers,
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (await stock_of(db, store.sku_id)).available == 5

    paid = await _paid(client, buyer, [{"sku_id": store.sku_id, "quantity": 2}], "c2")
    assert (await stock_of(db, store.sku_id)).sold == 2
    back = await client.post(
        f"/api/v1/orders/{paid['id']}/cancel",
        json={"reason": "out of time"},
        headers=store.seller.headers,
    )
    assert back.json()["status"] == "cancelled"
    assert back.json()["refunded_minor"] == 2400 + 300  # the goods and all the shipping
    stock = await stock_of(db, store.sku_id)
    assert (stock.available, stock.sold) == (5, 0)
    async with db.session(deferred=True) as s:
        for key in (
            AccountKey(AccountType.SELLER_PAYABLE, f"shop:{store.shop_id}", "GBP"),
            AccountKey(AccountType.TAX_PAYABLE, "market:GB", "GBP"),
            AccountKey(AccountType.PLATFORM_REVENUE, "market:GB", "GBP"),
            AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP"),
            AccountKey(AccountType.REFUNDS_PAYABLE, "provider:sandbox", "GBP"),
        ):
            assert await balance(s, key) == 0, key
    assert await trial_balance(db) == {"GBP": 0}


async def test_partial_refunds_reverse_exactly(
    client: httpx.AsyncClient, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    # 3 units of £12.00: every component (tax 600, commission 150, seller 2850) splits unevenly.
    order = await _paid(
        client,
        buyer,
        [{"sku_id": store.sku_id, "quantity": 3}, {"sku_id": store.other_sku_id, "quantity": 1}],
        "r",
    )
    oid, line = order["id"], order["lines"][0]
    seller = store.seller.headers
    shop = AccountKey(AccountType.SELLER_PAYABLE, f"shop:{store.shop_id}", "GBP")
    async with db.session(deferred=True) as s:
        before = await balance(s, shop)
    assert before == -(2850 + 2375 + 250)  # and shipping: £3.00 less £0.50 VAT

    for step in (1, 1, 1):
        resp = await client.post(
            f"/api/v1/orders/{oid}/refunds",
            json={"lines": [{"line_id": line["id"], "quantity": step}], "reason": "broken"},
            headers=seller,
        )
        assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "paid"  # the shirt is not refunded
    # Shipping goes back per unit: 3 of the order's 4 units → 300·3//4 = 225 of the £3.00.
    assert body["refunded_minor"] == 3600 + 225
    too_many = await client.post(
        f"/api/v1/orders/{oid}/refunds",
        json={"lines": [{"line_id": line["id"], "quantity": 1}]},
        headers=seller,
    )
    assert_problem(too_many, 422, "bad-refund-quantity")
    async with db.session(deferred=True) as s:
        # Exactly the shirt's seller net is left, and a quarter of the shipping: the seller's
        # 250 less (225 − 37) = 62, the VAT 50 less 50·3//4 = 37 → 13.
        assert await balance(s, shop) == -(2375 + 62)
        assert await balance(s, AccountKey(AccountType.TAX_PAYABLE, "market:GB", "GBP")) == -(
            500 + 13
        )
    assert await trial_balance(db) == {"GBP": 0}
    assert (await stock_of(db, store.sku_id)).sold == 0  # not shipped: units back on sale

    rest = await client.post(
        f"/api/v1/orders/{oid}/refunds",
        json={"lines": [{"line_id": order["lines"][1]["id"], "quantity": 1}]},
        headers=seller,
    )
    assert rest.json()["status"] == "refunded"
    async with db.session(deferred=True) as s:
        assert await balance(s, shop) == 0


async def test_refund_request_flow(
    client: httpx.AsyncClient, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    order = await _paid(client, buyer, [{"sku_id": store.sku_id, "quantity": 2}], "rr")
    oid = order["id"]
    seller = store.seller.headers
    asked = await client.post(
        f"/api/v1/orders/{oid}/refund-request",
        json={"reason": "wrong shade"},
        headers=buyer.headers,
    )
    assert asked.json()["status"] == "refund_requested"
    rejected = await client.post(
        f"/api/v1/orders/{oid}/refund-request/reject", json={"reason": "opened"}, headers=seller
    )
    assert rejected.json()["status"] == "paid"
    await client.post(f"/api/v1/orders/{oid}/refund-request", json={}, headers=buyer.headers)
    partial = await client.post(
        f"/api/v1/orders/{oid}/refunds",
        json={"lines": [{"line_id": order["lines"][0]["id"], "quantity": 1}]},
        headers=seller,
    )
    # One of two units: £12.00 and half the £3.00 shipping.
    assert (partial.json()["status"], partial.json()["refunded_minor"]) == ("paid", 1200 + 150)
    stranger = await make_actor(Role.BUYER)
    assert_problem(
        await client.post(
            f"/api/v1/orders/{oid}/refund-request", json={}, headers=stranger.headers
        ),
        404,
    )


async def test_pending_card_completes_by_signed_webhook(
    client: httpx.AsyncClient, app: Any, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=2)
    buyer = await make_actor(Role.BUYER)
    sandbox: SandboxProvider = app.state.payment_providers["sandbox"]
    sandbox.cancel_all()
    order = (
        await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="w")
    ).json()
    pending = await pay(client, buyer, order["id"], "4000000000000077")
    assert pending.json()["status"] == "pending_payment"
    assert_problem(await pay(client, buyer, order["id"]), 409, "payment-in-progress")
    [(body, headers)] = sandbox.pending_webhooks()
    sandbox.cancel_all()

    forged = await client.post(
        "/api/v1/payments/webhooks/sandbox",
        content=body,
        headers={"liveshop-signature": headers["liveshop-signature"][:-4] + "0000"},
    )
    assert_problem(forged, 400, "webhook-signature-invalid")
    unsigned = await client.post("/api/v1/payments/webhooks/sandbox", content=body)
    assert_problem(unsigned, 400, "webhook-signature-invalid")

    first = await client.post("/api/v1/payments/webhooks/sandbox", content=body, headers=headers)
    assert first.json() == {"result": "processed"}
    again = await client.post("/api/v1/payments/webhooks/sandbox", content=body, headers=headers)
    assert again.json() == {"result": "duplicate"}
    got = await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)
    assert got.json()["status"] == "paid"
    assert (await stock_of(db, store.sku_id)).sold == 1
    assert await trial_balance(db) == {"GBP": 0}


async def test_pending_card_that_fails_leaves_order_payable(
    client: httpx.AsyncClient, app: Any, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store(stock=2)
    buyer = await make_actor(Role.BUYER)
    sandbox: SandboxProvider = app.state.payment_providers["sandbox"]
    order = (
        await checkout(client, buyer, [{"sku_id": store.sku_id, "quantity": 1}], key="f")
    ).json()
    await pay(client, buyer, order["id"], "4000000000000341")
    assert await sandbox.flush() == 1  # delivered through the in-process webhook path
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "pending_payment"
    assert (await pay(client, buyer, order["id"])).json()["status"] == "paid"
