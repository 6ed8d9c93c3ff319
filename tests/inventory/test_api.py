"""The stock endpoints as callers see them: who may do what, and bad input changing nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.inventory import service as inv
from tests.inventory.conftest import MakeShelf, assert_stock_consistent, movement_count
from tests.support import Actor, MakeActor, assert_problem


@pytest.fixture
async def seller(make_actor: MakeActor) -> Actor:
    return await make_actor(Role.SELLER)


async def _receive(
    client: httpx.AsyncClient, actor: Actor, sku_id: int, quantity: Any, reason: str = "po"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": quantity, "reason": reason},
        headers=actor.headers,
    )


async def test_staff_receive_adjust_and_read_their_stock(
    client: httpx.AsyncClient, seller: Actor, make_shelf: MakeShelf, db: Database
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    resp = await _receive(client, seller, shelf.sku_id, 12, "delivery 1")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "sku_id": shelf.sku_id,
        "received": 12,
        "available": 12,
        "held": 0,
        "sold": 0,
    }
    resp = await client.post(
        f"/api/v1/skus/{shelf.sku_id}/stock/adjust",
        json={"delta": -2, "reason": "two arrived broken"},
        headers=seller.headers,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["available"] == 10 and resp.json()["received"] == 10

    public = await client.get(f"/api/v1/skus/{shelf.sku_id}/stock")
    assert public.json() == {"sku_id": shelf.sku_id, "available": 10, "sold_out": False}

    detail = (
        await client.get(f"/api/v1/skus/{shelf.sku_id}/stock/detail", headers=seller.headers)
    ).json()
    assert [(w["name"], w["available"]) for w in detail["warehouses"]] == [("Main warehouse", 10)]

    moves = (
        await client.get(
            f"/api/v1/skus/{shelf.sku_id}/stock/movements?limit=10", headers=seller.headers
        )
    ).json()
    assert [(m["kind"], m["quantity"], m["reason"], m["actor_user_id"]) for m in moves] == [
        ("adjust", -2, "two arrived broken", seller.id),
        ("receive", 12, "delivery 1", seller.id),
    ]
    await assert_stock_consistent(db, shelf.sku_id)


async def test_public_stock_says_sold_out(
    client: httpx.AsyncClient, seller: Actor, make_shelf: MakeShelf, db: Database
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    await _receive(client, seller, shelf.sku_id, 1)
    async with db.session() as s:
        await inv.reserve(s, sku_id=shelf.sku_id, quantity=1, reference="order:1")
        await s.commit()
    resp = await client.get(f"/api/v1/skus/{shelf.sku_id}/stock")
    assert resp.json() == {"sku_id": shelf.sku_id, "available": 0, "sold_out": True}
    assert_problem(await client.get("/api/v1/skus/999999/stock"), 404, "unknown-sku")


async def test_only_the_shops_staff_may_touch_its_stock(
    client: httpx.AsyncClient,
    seller: Actor,
    make_actor: MakeActor,
    make_shelf: MakeShelf,
    db: Database,
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    await _receive(client, seller, shelf.sku_id, 5)
    other_seller = await make_actor(Role.SELLER)
    await make_shelf(staff_user_id=other_seller.id)  # staff of a different shop
    buyer = await make_actor(Role.BUYER)
    before = await movement_count(db)

    base = f"/api/v1/skus/{shelf.sku_id}/stock"
    writes: list[tuple[str, dict[str, Any]]] = [
        (f"{base}/receive", {"quantity": 5, "reason": "x"}),
        (f"{base}/adjust", {"delta": -5, "reason": "x"}),
        (f"/api/v1/shops/{shelf.shop_id}/warehouses", {"name": "Sneaky"}),
    ]
    reads = [
        f"{base}/detail",
        f"{base}/movements",
        f"/api/v1/shops/{shelf.shop_id}/warehouses",
    ]
    for url, body in writes:
        assert_problem(await client.post(url, json=body), 401, "unauthenticated")
        assert_problem(await client.post(url, json=body, headers=buyer.headers), 403)
        resp = await client.post(url, json=body, headers=other_seller.headers)
        assert_problem(resp, 403, "not-shop-staff")
    for url in reads:
        assert_problem(await client.get(url), 401, "unauthenticated")
        assert_problem(await client.get(url, headers=buyer.headers), 403)
        assert_problem(await client.get(url, headers=other_seller.headers), 403, "not-shop-staff")

    assert await movement_count(db) == before
    async with db.session() as s:
        assert await inv.stock_summary(s, shelf.sku_id) == inv.StockSummary(
            shelf.sku_id, 5, 5, 0, 0
        )
        assert [w.name for w in await inv.list_warehouses(s, shelf.shop_id)] == ["Main warehouse"]
        await s.rollback()


async def test_admin_may_manage_any_shops_stock(
    client: httpx.AsyncClient, make_actor: MakeActor, make_shelf: MakeShelf
) -> None:
    admin = await make_actor(Role.ADMIN)
    shelf = await make_shelf()
    assert (await _receive(client, admin, shelf.sku_id, 3)).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("receive", {"quantity": 0, "reason": "x"}),
        ("receive", {"quantity": -3, "reason": "x"}),
        ("receive", {"quantity": 10**9, "reason": "x"}),
        ("receive", {"quantity": 2.5, "reason": "x"}),
        ("receive", {"quantity": "5", "reason": "x"}),
        ("receive", {"quantity": True, "reason": "x"}),
        ("receive", {"quantity": 5, "reason": "x", "extra": 1}),
        ("receive", {"reason": "x"}),
        ("adjust", {"delta": 0, "reason": "x"}),
        ("adjust", {"delta": -(10**9), "reason": "x"}),
        ("adjust", {"delta": 10**9, "reason": "x"}),
        ("adjust", {"delta": -1, "reason": ""}),
        ("adjust", {"delta": -1}),
    ],
)
async def test_bad_input_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient,
    seller: Actor,
    make_shelf: MakeShelf,
    db: Database,
    path: str,
    body: dict[str, Any],
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    await _receive(client, seller, shelf.sku_id, 5)
    before = await movement_count(db)
    resp = await client.post(
        f"/api/v1/skus/{shelf.sku_id}/stock/{path}", json=body, headers=seller.headers
    )
    assert 400 <= resp.status_code < 500
    assert_problem(resp, resp.status_code)
    assert await movement_count(db) == before
    public = await client.get(f"/api/v1/skus/{shelf.sku_id}/stock")
    assert public.json()["available"] == 5


async def test_unknown_sku_and_too_large_an_adjustment(
    client: httpx.AsyncClient, seller: Actor, make_shelf: MakeShelf, db: Database
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    await _receive(client, seller, shelf.sku_id, 5)
    before = await movement_count(db)
    assert_problem(await _receive(client, seller, 424242, 5), 404, "unknown-sku")
    resp = await client.post(
        f"/api/v1/skus/{shelf.sku_id}/stock/adjust",
        json={"delta": -6, "reason": "lost"},
        headers=seller.headers,
    )
    body = assert_problem(resp, 409, "stock-would-go-negative")
    assert body["available"] == 5
    other_shop = await make_shelf()
    houses = await client.get(
        f"/api/v1/shops/{other_shop.shop_id}/warehouses", headers=seller.headers
    )
    assert_problem(houses, 403, "not-shop-staff")
    resp = await client.post(
        f"/api/v1/skus/{shelf.sku_id}/stock/receive",
        json={"quantity": 1, "reason": "x", "warehouse_id": 999999},
        headers=seller.headers,
    )
    assert_problem(resp, 422, "unknown-warehouse")
    assert await movement_count(db) == before


async def test_warehouses_receive_into_a_named_one(
    client: httpx.AsyncClient, seller: Actor, make_shelf: MakeShelf
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    url = f"/api/v1/shops/{shelf.shop_id}/warehouses"
    resp = await client.post(url, json={"name": "Leeds"}, headers=seller.headers)
    assert resp.status_code == 201, resp.text
    leeds = resp.json()
    assert leeds["is_default"] is False
    listed = (await client.get(url, headers=seller.headers)).json()
    assert [(w["name"], w["is_default"]) for w in listed] == [
        ("Main warehouse", True),
        ("Leeds", False),
    ]
    resp = await client.post(
        f"/api/v1/skus/{shelf.sku_id}/stock/receive",
        json={"quantity": 4, "reason": "", "warehouse_id": leeds["id"]},
        headers=seller.headers,
    )
    assert resp.status_code == 200
    detail = (
        await client.get(f"/api/v1/skus/{shelf.sku_id}/stock/detail", headers=seller.headers)
    ).json()
    assert [(w["name"], w["available"]) for w in detail["warehouses"]] == [("Leeds", 4)]
    assert_problem(
        await client.post(url, json={"name": ""}, headers=seller.headers), 422, "validation-error"
    )


async def test_movements_paginate(
    client: httpx.AsyncClient, seller: Actor, make_shelf: MakeShelf
) -> None:
    shelf = await make_shelf(staff_user_id=seller.id)
    for n in range(1, 6):
        await _receive(client, seller, shelf.sku_id, n)
    url = f"/api/v1/skus/{shelf.sku_id}/stock/movements"
    page = (await client.get(f"{url}?limit=2&offset=1", headers=seller.headers)).json()
    assert [m["quantity"] for m in page] == [4, 3]
    assert_problem(await client.get(f"{url}?limit=0", headers=seller.headers), 422)
    assert_problem(await client.get(f"{url}?limit=201", headers=seller.headers), 422)
