"""The issue's own reproductions (issue 15, items 2–4), on SQLite and PostgreSQL: each is a
422 problem naming its field — never a 500 — and changes nothing.

The rule behind them is ``core/types.py`` (``tests/core/test_input_types.py`` checks every
route uses it; ``tests/test_fuzz_api.py`` fuzzes every operation).
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role, User
from liveshop.core.db import Database
from liveshop.orders.models import Order
from tests.shopfront import MakeShopfront
from tests.support import MakeActor, assert_problem

BIG = 2**63  # one past a BIGINT


def _names(resp: httpx.Response, where: str) -> dict[str, Any]:
    body = assert_problem(resp, 422, "validation-error")
    assert where in body["detail"], body
    return body


async def _count(db: Database, column: Any) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(func.count(column))) or 0)


async def test_a_nul_or_other_control_character_is_a_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_shopfront: MakeShopfront
) -> None:
    users = await _count(db, User.id)
    resp = await client.get("/api/v1/products", params={"q": "a\x00b"})
    assert (
        "query.q: Remove the hidden control character U+0000 (at position 1)"
        in _names(resp, "query.q")["detail"]
    )
    resp = await client.post(
        "/api/v1/auth/signup",
        json={"email": "nul@example.com", "password": "long-enough-1", "display_name": "a\x00b"},
    )
    _names(resp, "body.display_name")
    assert await _count(db, User.id) == users

    shop = await make_shopfront()
    seller = shop.seller.headers
    for text in ("nul\x00", "esc\x1b[31m", "del\x7f", "c1\x9b"):
        resp = await client.post(
            f"/api/v1/shops/{shop.shop_id}/products",
            json={"title": text, "category": "beauty"},
            headers=seller,
        )
        _names(resp, "body.title")
        resp = await client.patch(
            f"/api/v1/shops/{shop.shop_id}", json={"name": text}, headers=seller
        )
        _names(resp, "body.name")
    # Free text keeps its lines and tabs.
    resp = await client.patch(
        f"/api/v1/shops/{shop.shop_id}",
        json={"description": "Small batch.\n\tMade in Leeds."},
        headers=seller,
    )
    assert resp.status_code == 200, resp.text

    buyer = await make_actor(Role.BUYER)
    resp = await client.post(
        "/api/v1/checkout",
        json={
            "market": "GB",
            "lines": [{"sku_id": shop.sku_id, "quantity": 1}],
            "coupon_code": "SAVE\x0010",
        },
        headers={**buyer.headers, "Idempotency-Key": "nul-coupon-1"},
    )
    _names(resp, "body.coupon_code")
    assert await _count(db, Order.id) == 0


async def test_integers_beyond_64_bits_are_a_422_never_a_500(
    client: httpx.AsyncClient, make_actor: MakeActor, make_shopfront: MakeShopfront
) -> None:
    admin = await make_actor(Role.ADMIN)
    buyer = await make_actor(Role.BUYER)
    for path, where in (
        (f"/api/v1/products/{BIG}", "path.product_id"),
        (f"/api/v1/live/sessions?offset={2**70}", "query.offset"),
        (f"/api/v1/orders?offset={2**70}", "query.offset"),
        (f"/api/v1/payout-statements/{2**86}.csv", "path.statement_id"),
    ):
        _names(await client.get(path, headers=admin.headers), where)
    shop = await make_shopfront()
    resp = await client.post(
        "/api/v1/checkout",
        json={"market": "GB", "lines": [{"sku_id": BIG, "quantity": 1}]},
        headers={**buyer.headers, "Idempotency-Key": "big-sku-1"},
    )
    _names(resp, "body.lines.0.sku_id")
    resp = await client.post(
        "/api/v1/agencies/1/members", json={"creator_id": BIG}, headers=admin.headers
    )
    _names(resp, "body.creator_id")
    resp = await client.post(
        "/api/v1/live/sessions/1/buy",
        json={"sku_id": shop.sku_id, "deal_id": BIG, "quantity": 1},
        headers={**buyer.headers, "Idempotency-Key": "big-deal-1"},
    )
    _names(resp, "body.deal_id")


async def test_a_quantity_is_a_json_integer_not_true_or_a_string(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_shopfront: MakeShopfront
) -> None:
    shop = await make_shopfront()
    buyer = await make_actor(Role.BUYER)
    for n, quantity in enumerate((True, "1", 1.0, "one")):
        resp = await client.post(
            "/api/v1/checkout",
            json={"market": "GB", "lines": [{"sku_id": shop.sku_id, "quantity": quantity}]},
            headers={**buyer.headers, "Idempotency-Key": f"loose-quantity-{n}"},
        )
        _names(resp, "body.lines.0.quantity")
        resp = await client.put(
            f"/api/v1/cart/GB/lines/{shop.sku_id}",
            json={"quantity": quantity},
            headers=buyer.headers,
        )
        _names(resp, "body.quantity")
    assert await _count(db, Order.id) == 0
    resp = await client.post(
        "/api/v1/checkout",
        json={"market": "GB", "lines": [{"sku_id": shop.sku_id, "quantity": 1}]},
        headers={**buyer.headers, "Idempotency-Key": "strict-quantity-ok"},
    )
    assert resp.status_code == 201, resp.text
