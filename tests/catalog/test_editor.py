"""The seller catalog editor and the endpoints it needs, on SQLite and PostgreSQL: image upload
(type and size checked from the bytes, resized with a thumbnail, served at /media/),
unpublish, and the editor's pages (a product with two variants and GB/ID prices, stock per
warehouse and its movements) — with who may do what."""

from __future__ import annotations

import random
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from tests.catalog.helpers import new_shop, product_body
from tests.support import Actor, MakeActor, assert_problem
from tests.web.test_pages import csrf_of, page_login


@pytest.fixture
async def media_client(db: Database, db_url: str, tmp_path: Path) -> Any:
    settings = Settings(
        database_url=db_url, media_dir=tmp_path / "media", media_max_image_bytes=200_000
    )
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _png(width: int, height: int) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), (200, 80, 120)).save(out, "PNG")
    return out.getvalue()


async def _product(client: httpx.AsyncClient, seller: Actor, slug: str) -> dict[str, Any]:
    shop = await new_shop(client, seller, slug)
    resp = await client.post(
        f"/api/v1/shops/{shop['id']}/products",
        json=product_body(images=[]),
        headers=seller.headers,
    )
    assert resp.status_code == 201, resp.text
    product: dict[str, Any] = resp.json()
    return product


async def test_an_uploaded_image_is_checked_resized_and_served(
    media_client: httpx.AsyncClient, make_actor: MakeActor, tmp_path: Path
) -> None:
    client = media_client
    seller = await make_actor(Role.SELLER)
    other = await make_actor(Role.SELLER)
    product = await _product(client, seller, "snap-shop")
    url = f"/api/v1/products/{product['id']}/images"

    resp = await client.post(
        url, files={"file": ("big.png", _png(2400, 1200), "image/png")}, headers=seller.headers
    )
    assert resp.status_code == 201, resp.text
    [image] = resp.json()["images"]
    assert image.startswith(f"/media/products/{product['id']}/") and image.endswith(".webp")
    served = await client.get(image)
    assert served.status_code == 200
    with Image.open(BytesIO(served.content)) as full:
        assert (full.format, full.size) == ("WEBP", (1600, 800))
    thumb = await client.get(image.removesuffix(".webp") + "-400.webp")
    with Image.open(BytesIO(thumb.content)) as small:
        assert small.size == (400, 200)

    # The bytes decide the type, not the name or the declared type.
    fake = await client.post(
        url,
        files={"file": ("x.png", b"<svg onload=alert(1)>", "image/png")},
        headers=seller.headers,
    )
    assert_problem(fake, 422, "bad-image")
    gif = BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    assert_problem(
        await client.post(
            url, files={"file": ("a.gif", gif.getvalue(), "image/gif")}, headers=seller.headers
        ),
        422,
        "bad-image",
    )
    noisy = Image.frombytes("RGB", (400, 400), random.Random(1).randbytes(400 * 400 * 3))
    big = BytesIO()
    noisy.save(big, "PNG")
    assert len(big.getvalue()) > 200_000
    assert_problem(
        await client.post(
            url, files={"file": ("n.png", big.getvalue(), "image/png")}, headers=seller.headers
        ),
        413,
        "image-too-large",
    )
    # Another shop's seller can neither add nor remove one.
    assert_problem(
        await client.post(
            url, files={"file": ("s.png", _png(10, 10), "image/png")}, headers=other.headers
        ),
        403,
    )
    assert_problem(await client.delete(f"{url}/0", headers=other.headers), 403)
    current = await client.get(f"/api/v1/products/{product['id']}", headers=seller.headers)
    assert current.json()["images"] == [image]  # nothing refused was kept

    removed = await client.delete(f"{url}/0", headers=seller.headers)
    assert removed.status_code == 200 and removed.json()["images"] == []
    assert (await client.get(image)).status_code == 404
    assert not list((tmp_path / "media").rglob("*.webp"))


async def test_unpublish_takes_a_product_off_sale(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    buyer = await make_actor(Role.BUYER)
    shop = await new_shop(client, seller, "off-shop")
    created = await client.post(
        f"/api/v1/shops/{shop['id']}/products",
        json=product_body(status="published"),
        headers=seller.headers,
    )
    pid = created.json()["id"]
    assert_problem(
        await client.post(f"/api/v1/products/{pid}/unpublish", headers=buyer.headers), 403
    )
    resp = await client.post(f"/api/v1/products/{pid}/unpublish", headers=seller.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "draft"
    assert_problem(await client.get(f"/api/v1/products/{pid}", headers=buyer.headers), 404)


async def test_a_seller_builds_a_product_in_the_editor(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "editor-shop")
    await page_login(client, seller)
    new = await client.get(f"/seller/products/new?shop={shop['id']}")
    assert new.status_code == 200
    token = csrf_of(new)
    created = await client.post(
        "/seller/products",
        data={
            "csrf_token": token,
            "shop_id": shop["id"],
            "title": "Linen shirt",
            "category": "fashion",
            "description": "Breathes.",
        },
    )
    assert created.status_code == 303
    editor_path = created.headers["location"].split("#")[0]
    pid = int(editor_path.rsplit("/", 1)[1])
    for code, size, gb, idr in (("SHIRT-M", "M", "24.50", "350.000"), ("SHIRT-L", "L", "26", "")):
        resp = await client.post(
            f"/seller/products/{pid}/skus",
            data={
                "csrf_token": token,
                "code": code,
                "options": f"Size: {size}\ncolour = sand",
                "price_market": ["GB", "ID"],
                "price_amount": [gb, idr],
            },
        )
        assert resp.status_code == 303 and "error" not in resp.headers["location"], resp.headers
    product = (await client.get(f"/api/v1/products/{pid}", headers=seller.headers)).json()
    skus = {s["code"]: s for s in product["skus"]}
    assert skus["SHIRT-M"]["attributes"] == {"size": "M", "colour": "sand"}
    assert [(p["market"], p["amount_minor"]) for p in skus["SHIRT-M"]["prices"]] == [
        ("GB", 2450),
        ("ID", 35_000_000),
    ]
    assert [(p["market"], p["amount_minor"]) for p in skus["SHIRT-L"]["prices"]] == [("GB", 2600)]

    # A price typed the wrong way for the market changes nothing and says why.
    bad = await client.post(
        f"/seller/skus/{skus['SHIRT-L']['id']}/prices",
        data={"csrf_token": token, "price_market": ["GB"], "price_amount": ["26,5"]},
        headers={"referer": f"http://testserver{editor_path}"},
    )
    assert bad.status_code == 303
    page = await client.get(editor_path)
    assert "is not a price here" in page.text
    # Clearing a market's field takes the variant off sale there; filling one adds it.
    await client.post(
        f"/seller/skus/{skus['SHIRT-M']['id']}/prices",
        data={"csrf_token": token, "price_market": ["GB", "ID"], "price_amount": ["25", ""]},
    )
    await client.post(f"/seller/products/{pid}/publish", data={"csrf_token": token})
    product = (await client.get(f"/api/v1/products/{pid}")).json()
    assert product["status"] == "published"
    prices = {s["code"]: [p["amount_minor"] for p in s["prices"]] for s in product["skus"]}
    assert prices == {"SHIRT-M": [2500], "SHIRT-L": [2600]}

    # Stock into a second warehouse, then some taken out: per warehouse and in the history.
    await client.post(
        "/seller/warehouses",
        data={"csrf_token": token, "shop_id": shop["id"], "name": "Leeds depot", "product_id": pid},
    )
    houses = (
        await client.get(f"/api/v1/shops/{shop['id']}/warehouses", headers=seller.headers)
    ).json()
    leeds = next(w["id"] for w in houses if w["name"] == "Leeds depot")
    sku_m = skus["SHIRT-M"]["id"]
    for action, qty in (("receive", 12), ("remove", 2)):
        resp = await client.post(
            f"/seller/skus/{sku_m}/stock",
            data={
                "csrf_token": token,
                "warehouse_id": leeds,
                "action": action,
                "quantity": qty,
                "reason": "count" if action == "remove" else "",
            },
        )
        assert resp.status_code == 303
    detail = (await client.get(f"/api/v1/skus/{sku_m}/stock/detail", headers=seller.headers)).json()
    assert detail["available"] == 10
    page = await client.get(editor_path)
    assert "Leeds depot" in page.text and "count" in page.text
    assert "null" not in page.text and "undefined" not in page.text

    await client.post(f"/seller/products/{pid}/unpublish", data={"csrf_token": token})
    after = (await client.get(f"/api/v1/products/{pid}", headers=seller.headers)).json()
    assert after["status"] == "draft"


async def test_another_shops_seller_cannot_open_or_change_the_editor(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    owner = await make_actor(Role.SELLER)
    other = await make_actor(Role.SELLER)
    product = await _product(client, owner, "mine-shop")
    await page_login(client, other)
    page = await client.get(f"/seller/products/{product['id']}")
    assert page.status_code == 403
    token = csrf_of(await client.get("/"))
    resp = await client.post(
        f"/seller/products/{product['id']}/publish", data={"csrf_token": token}
    )
    assert resp.status_code in (303, 403)
    after = (await client.get(f"/api/v1/products/{product['id']}", headers=owner.headers)).json()
    assert after["status"] == "draft"
    assert (await client.get("/seller/products/999999999")).status_code == 404
