from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.catalog.helpers import new_shop, row_counts
from tests.support import MakeActor, assert_problem


async def test_seller_creates_shop_and_becomes_owner(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    resp = await client.post(
        "/api/v1/shops",
        json={
            "name": "Glow Lab",
            "slug": "glow-lab",
            "description": "Clean skincare from Manchester.",
            "home_market": "gb",
            "allow_creators": False,
        },
        headers=seller.headers,
    )
    assert resp.status_code == 201, resp.text
    shop = resp.json()
    assert (shop["slug"], shop["home_market"], shop["allow_creators"]) == ("glow-lab", "GB", False)

    mine = await client.get("/api/v1/me/shops", headers=seller.headers)
    assert [(s["id"], s["my_role"]) for s in mine.json()] == [(shop["id"], "owner")]
    public = await client.get(f"/api/v1/shops/{shop['id']}")
    assert public.json()["name"] == "Glow Lab"


async def test_list_shops_public_paginated_and_by_market(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    gb = [await new_shop(client, seller, f"gb-shop-{i}") for i in range(3)]
    idn = await new_shop(client, seller, "id-shop", home_market="ID")

    everything = (await client.get("/api/v1/shops")).json()
    assert everything["total"] == 4
    assert [s["id"] for s in everything["items"]] == [s["id"] for s in [*gb, idn]]

    page = (await client.get("/api/v1/shops?market=GB&limit=2&offset=2")).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 2)
    assert [s["id"] for s in page["items"]] == [gb[2]["id"]]
    only_id = (await client.get("/api/v1/shops?market=id")).json()
    assert [s["slug"] for s in only_id["items"]] == ["id-shop"]
    assert_problem(await client.get("/api/v1/shops?market=XX"), 422, "unknown-market")
    assert_problem(await client.get("/api/v1/shops?limit=101"), 422, "validation-error")
    assert_problem(await client.get("/api/v1/shops/999999"), 404, "shop-not-found")


async def test_shop_input_refused_without_writing(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    await new_shop(client, seller, "taken")
    before = await row_counts(db)
    base = {"name": "Shop", "slug": "fresh-shop", "home_market": "GB"}
    cases = [
        ({**base, "home_market": "XX"}, 422, "unknown-market"),
        ({**base, "slug": "taken"}, 409, "slug-taken"),
        ({**base, "slug": "Not A Slug"}, 422, "validation-error"),
        ({**base, "name": ""}, 422, "validation-error"),
        ({**base, "logo_url": "javascript:alert(1)"}, 422, "validation-error"),
        ({**base, "owner_id": 1}, 422, "validation-error"),
    ]
    for body, status, code in cases:
        resp = await client.post("/api/v1/shops", json=body, headers=seller.headers)
        assert_problem(resp, status, code)
    assert await row_counts(db) == before


async def test_only_sellers_create_shops(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    body = {"name": "Shop", "slug": "nope", "home_market": "GB"}
    assert_problem(await client.post("/api/v1/shops", json=body), 401, "unauthenticated")
    for role in (Role.BUYER, Role.CREATOR, Role.AGENCY):
        actor = await make_actor(role)
        resp = await client.post("/api/v1/shops", json=body, headers=actor.headers)
        assert_problem(resp, 403, "wrong-role")
    assert (await client.get("/api/v1/shops")).json()["total"] == 0


async def test_staff_update_shop_others_cannot(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    owner, other = await make_actor(Role.SELLER), await make_actor(Role.SELLER)
    shop = await new_shop(client, owner, "tea-house")
    url = f"/api/v1/shops/{shop['id']}"

    resp = await client.patch(url, json={"description": "Loose-leaf tea"}, headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["description"] == "Loose-leaf tea"
    refused = await client.patch(url, json={"name": "Mine now"}, headers=other.headers)
    assert_problem(refused, 403, "not-shop-staff")
    assert_problem(await client.patch(url, json={"name": "x"}), 401)
    bad = await client.patch(url, json={"home_market": "ZZ"}, headers=owner.headers)
    assert_problem(bad, 422, "unknown-market")
    assert_problem(
        await client.patch(url, json={"slug": "renamed"}, headers=owner.headers),
        422,
        "validation-error",
    )
    assert (await client.get(url)).json()["name"] == "Tea House"


async def test_owner_adds_seller_staff(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    owner = await make_actor(Role.SELLER)
    helper = await make_actor(Role.SELLER)
    buyer = await make_actor(Role.BUYER)
    shop = await new_shop(client, owner, "gadget-hub")
    url = f"/api/v1/shops/{shop['id']}/staff"

    before = await row_counts(db)
    assert_problem(
        await client.post(url, json={"user_id": buyer.id}, headers=owner.headers),
        422,
        "user-not-seller",
    )
    assert_problem(
        await client.post(url, json={"user_id": 987654}, headers=owner.headers),
        422,
        "unknown-user",
    )
    assert_problem(
        await client.post(url, json={"user_id": helper.id}, headers=helper.headers),
        403,
        "not-shop-staff",
    )
    assert await row_counts(db) == before

    added = await client.post(url, json={"user_id": helper.id}, headers=owner.headers)
    assert added.status_code == 201, added.text
    assert added.json() == {"shop_id": shop["id"], "user_id": helper.id, "role": "staff"}
    assert_problem(
        await client.post(url, json={"user_id": helper.id}, headers=owner.headers),
        409,
        "already-staff",
    )
    # Staff may manage the shop but not its staff list.
    resp = await client.patch(
        f"/api/v1/shops/{shop['id']}", json={"name": "Gadget Hub UK"}, headers=helper.headers
    )
    assert resp.status_code == 200
    another = await make_actor(Role.SELLER)
    assert_problem(
        await client.post(url, json={"user_id": another.id}, headers=helper.headers),
        403,
        "not-shop-owner",
    )
    mine = (await client.get("/api/v1/me/shops", headers=helper.headers)).json()
    assert [(s["slug"], s["my_role"]) for s in mine] == [("gadget-hub", "staff")]
