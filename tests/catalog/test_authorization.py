"""Who may call each seller endpoint: the shop's staff and admins; nobody else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.catalog.helpers import new_product, new_shop, price, product_body, row_counts, sku
from tests.support import MakeActor, assert_problem

Call = tuple[str, str, dict[str, Any] | None]


def _seller_calls(shop_id: int, product_id: int, sku_id: int) -> list[Call]:
    return [
        ("PATCH", f"/api/v1/shops/{shop_id}", {"name": "Hijacked"}),
        ("POST", f"/api/v1/shops/{shop_id}/staff", {"user_id": 1}),
        ("GET", f"/api/v1/shops/{shop_id}/products", None),
        ("POST", f"/api/v1/shops/{shop_id}/products", product_body("Counterfeit")),
        ("PATCH", f"/api/v1/products/{product_id}", {"title": "Hijacked"}),
        ("POST", f"/api/v1/products/{product_id}/publish", None),
        ("POST", f"/api/v1/products/{product_id}/archive", None),
        ("POST", f"/api/v1/products/{product_id}/skus", sku("EXTRA", price("GB", "GBP", 1))),
        ("PATCH", f"/api/v1/skus/{sku_id}", {"is_active": False}),
        ("PUT", f"/api/v1/skus/{sku_id}/prices/GB", {"currency": "GBP", "amount_minor": 1}),
        ("DELETE", f"/api/v1/skus/{sku_id}/prices/GB", None),
    ]


async def _snapshot(client: httpx.AsyncClient, headers: dict[str, str], shop_id: int) -> Any:
    shop = (await client.get(f"/api/v1/shops/{shop_id}")).json()
    listing = await client.get(f"/api/v1/shops/{shop_id}/products", headers=headers)
    return shop, listing.json()


@pytest.mark.parametrize("intruder", ["anonymous", "buyer", "creator", "other-seller"])
async def test_only_shop_staff_manage_its_catalog(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database, intruder: str
) -> None:
    owner = await make_actor(Role.SELLER)
    shop = await new_shop(client, owner, "owned")
    product = await new_product(client, owner, shop["id"])
    sku_id = product["skus"][0]["id"]
    if intruder == "other-seller":
        rival = await make_actor(Role.SELLER)
        await new_shop(client, rival, "rival")
        headers, status, code = rival.headers, 403, "not-shop-staff"
    elif intruder == "anonymous":
        headers, status, code = {}, 401, "unauthenticated"
    else:
        actor = await make_actor(Role(intruder))
        headers, status, code = actor.headers, 403, "wrong-role"

    before_rows = await row_counts(db)
    before = await _snapshot(client, owner.headers, shop["id"])
    for method, url, body in _seller_calls(shop["id"], product["id"], sku_id):
        resp = await client.request(method, url, json=body, headers=headers)
        assert_problem(resp, status, code)
    assert await row_counts(db) == before_rows
    assert await _snapshot(client, owner.headers, shop["id"]) == before


async def test_admin_may_manage_any_shop(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    owner, admin = await make_actor(Role.SELLER), await make_actor(Role.ADMIN)
    shop = await new_shop(client, owner, "owned")
    product = await new_product(client, owner, shop["id"])
    resp = await client.post(f"/api/v1/products/{product['id']}/publish", headers=admin.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "published"


async def test_unknown_ids_are_404_for_staff(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    for method, url, body in _seller_calls(999_001, 999_002, 999_003):
        if url.endswith("/staff") or "/shops/" in url:
            expected = "shop-not-found"
        elif "/products/" in url:
            expected = "product-not-found"
        else:
            expected = "sku-not-found"
        resp = await client.request(method, url, json=body, headers=seller.headers)
        assert_problem(resp, 404, expected)
