from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.catalog.helpers import new_product, new_shop, price, product_body, row_counts, sku
from tests.support import MakeActor, assert_problem


async def test_create_product_with_variants_and_market_prices(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "northern-thread")
    body = product_body(
        "Heavyweight Cotton Tee",
        category="fashion",
        images=["https://cdn.example.com/tee.jpg", "/static/demo/tee.svg"],
        skus=[
            sku(
                "TEE-M-BLK",
                price("GB", "GBP", 2500),
                price("vn", "vnd", 390000),
                size="M",
                colour="black",
            ),
            sku(
                "TEE-L-BLK",
                price("GB", "GBP", 2500),
                price("ID", "IDR", 24_900_000),
                size="L",
                colour="black",
            ),
        ],
    )
    resp = await client.post(
        f"/api/v1/shops/{shop['id']}/products", json=body, headers=seller.headers
    )
    assert resp.status_code == 201, resp.text
    product = resp.json()
    assert product["status"] == "draft"
    assert product["images"] == body["images"]
    m, large = product["skus"]
    assert (m["code"], m["attributes"]) == ("TEE-M-BLK", {"size": "M", "colour": "black"})
    prices = {p["market"]: p for p in m["prices"]}
    assert prices["GB"]["display"] == "£25.00"
    assert (prices["VN"]["currency"], prices["VN"]["amount_minor"]) == ("VND", 390000)
    assert prices["VN"]["display"].replace("\xa0", " ") == "390.000 ₫"
    idr = {p["market"]: p for p in large["prices"]}["ID"]
    assert (idr["market"], idr["amount_minor"]) == ("ID", 24_900_000)  # Rp 249.000,00
    assert idr["display"].replace("\xa0", " ") == "Rp249.000,00"


async def test_price_per_market_set_replace_remove(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "glow")
    product = await new_product(client, seller, shop["id"], status="published")
    sku_id = product["skus"][0]["id"]
    url = f"/api/v1/skus/{sku_id}/prices"

    put = await client.put(
        f"{url}/ID", json={"currency": "IDR", "amount_minor": 29_900_000}, headers=seller.headers
    )
    assert put.status_code == 200, put.text
    assert put.json()["is_available"] is True
    again = await client.put(
        f"{url}/id",
        json={"currency": "IDR", "amount_minor": 27_500_000, "is_available": False},
        headers=seller.headers,
    )
    assert again.json()["amount_minor"] == 27_500_000
    # A planned market can get prices ahead of launch (selling there is refused elsewhere).
    de = await client.put(
        f"{url}/DE", json={"currency": "EUR", "amount_minor": 2199}, headers=seller.headers
    )
    assert de.status_code == 200 and de.json()["display"].replace("\xa0", " ") == "21,99 €"
    counts = await row_counts(db)

    shown = (await client.get(f"/api/v1/products/{product['id']}")).json()
    by_market = {p["market"]: p for p in shown["skus"][0]["prices"]}
    assert set(by_market) == {"DE", "GB", "ID", "VN"}
    assert by_market["ID"]["is_available"] is False

    deleted = await client.delete(f"{url}/DE", headers=seller.headers)
    assert deleted.status_code == 204
    assert (await row_counts(db))["sku_prices"] == counts["sku_prices"] - 1
    assert_problem(await client.delete(f"{url}/DE", headers=seller.headers), 404, "price-not-found")
    assert_problem(await client.delete(f"{url}/XX", headers=seller.headers), 422, "unknown-market")


async def test_add_and_update_skus(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "sound-co")
    product = await new_product(
        client, seller, shop["id"], title="Buds Pro", category="electronics"
    )
    resp = await client.post(
        f"/api/v1/products/{product['id']}/skus",
        json=sku("BUDS-WHITE", price("GB", "GBP", 7999), colour="white"),
        headers=seller.headers,
    )
    assert resp.status_code == 201, resp.text
    new_sku = resp.json()
    assert new_sku["product_id"] == product["id"]

    taken = await client.post(
        f"/api/v1/products/{product['id']}/skus", json=sku("BUDS-WHITE"), headers=seller.headers
    )
    assert_problem(taken, 409, "sku-code-taken")
    clash = await client.patch(
        f"/api/v1/skus/{new_sku['id']}",
        json={"code": product["skus"][0]["code"]},
        headers=seller.headers,
    )
    assert_problem(clash, 409, "sku-code-taken")

    patched = await client.patch(
        f"/api/v1/skus/{new_sku['id']}",
        json={"attributes": {"colour": "pearl white"}, "is_active": False},
        headers=seller.headers,
    )
    assert patched.status_code == 200
    assert (patched.json()["attributes"], patched.json()["is_active"]) == (
        {"colour": "pearl white"},
        False,
    )


async def test_publish_archive_and_draft_visibility(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    owner, other = await make_actor(Role.SELLER), await make_actor(Role.SELLER)
    buyer, admin = await make_actor(Role.BUYER), await make_actor(Role.ADMIN)
    shop = await new_shop(client, owner, "snack-box")
    draft = await new_product(client, owner, shop["id"], title="Cassava Chips", category="grocery")
    url = f"/api/v1/products/{draft['id']}"

    # A draft is invisible — the same 404 as a product that does not exist — except to staff.
    missing = assert_problem(await client.get("/api/v1/products/999999"), 404, "product-not-found")
    for headers in ({}, buyer.headers, other.headers):
        hidden = assert_problem(await client.get(url, headers=headers), 404, "product-not-found")
        assert hidden["title"] == missing["title"]
    assert (await client.get(url, headers=owner.headers)).json()["status"] == "draft"
    assert (await client.get(url, headers=admin.headers)).status_code == 200
    assert (await client.get("/api/v1/products")).json()["total"] == 0
    staff_list = await client.get(f"/api/v1/shops/{shop['id']}/products", headers=owner.headers)
    assert [p["id"] for p in staff_list.json()["items"]] == [draft["id"]]

    published = await client.post(f"{url}/publish", headers=owner.headers)
    assert published.json()["status"] == "published"
    assert (await client.get(url)).status_code == 200
    assert (await client.get("/api/v1/products")).json()["total"] == 1

    archived = await client.post(f"{url}/archive", headers=owner.headers)
    assert archived.json()["status"] == "archived"
    assert_problem(await client.get(url, headers=buyer.headers), 404, "product-not-found")
    assert (await client.get("/api/v1/products")).json()["total"] == 0
    only_archived = await client.get(
        f"/api/v1/shops/{shop['id']}/products?status=archived", headers=owner.headers
    )
    assert only_archived.json()["total"] == 1


async def test_publish_needs_something_to_buy(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "empty-shelf")
    before = await row_counts(db)
    resp = await client.post(
        f"/api/v1/shops/{shop['id']}/products",
        json=product_body(status="published", skus=[sku("NO-PRICE", size="S")]),
        headers=seller.headers,
    )
    assert_problem(resp, 422, "product-not-ready")
    assert await row_counts(db) == before

    draft = await new_product(client, seller, shop["id"], skus=[sku("NO-PRICE", size="S")])
    refused = await client.post(f"/api/v1/products/{draft['id']}/publish", headers=seller.headers)
    assert_problem(refused, 422, "product-not-ready")
    shown = await client.get(f"/api/v1/products/{draft['id']}", headers=seller.headers)
    assert shown.json()["status"] == "draft"


async def test_buyers_do_not_see_inactive_skus(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "kit-bag")
    product = await new_product(
        client,
        seller,
        shop["id"],
        title="Yoga Mat",
        category="sports",
        status="published",
        skus=[sku("MAT-BLUE", price("GB", "GBP", 3000)), sku("MAT-RED", price("GB", "GBP", 3000))],
    )
    red = product["skus"][1]["id"]
    await client.patch(f"/api/v1/skus/{red}", json={"is_active": False}, headers=seller.headers)
    public = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert [s["code"] for s in public["skus"]] == ["MAT-BLUE"]
    staff = (await client.get(f"/api/v1/products/{product['id']}", headers=seller.headers)).json()
    assert [s["code"] for s in staff["skus"]] == ["MAT-BLUE", "MAT-RED"]


async def test_update_product(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "home-goods")
    product = await new_product(client, seller, shop["id"], title="Linen Napkins")
    resp = await client.patch(
        f"/api/v1/products/{product['id']}",
        json={"title": "Linen Napkins, set of 4", "category": "home", "images": []},
        headers=seller.headers,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["title"], body["category"], body["images"]) == (
        "Linen Napkins, set of 4",
        "home",
        [],
    )
    assert body["updated_at"] >= product["updated_at"]
    assert body["description"] == product["description"]
