from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveshop.accounts.models import Role
from tests.catalog.helpers import new_product, new_shop, price, sku
from tests.support import Actor, MakeActor, assert_problem


async def _catalog(client: httpx.AsyncClient, make_actor: MakeActor) -> dict[str, Any]:
    """Two shops, five published products, one draft; prices differ per market."""
    a, b = await make_actor(Role.SELLER), await make_actor(Role.SELLER)
    beauty = await new_shop(client, a, "glow-lab")
    snacks = await new_shop(client, b, "kripik-co", home_market="ID")

    async def add(owner: Actor, shop: dict[str, Any], title: str, **kw: Any) -> dict[str, Any]:
        return await new_product(client, owner, shop["id"], title=title, **kw)

    serum = await add(
        a,
        beauty,
        "Vitamin C Brightening Serum",
        description="30 ml of 15% vitamin C.",
        status="published",
        skus=[
            sku("SERUM-15", price("GB", "GBP", 1800), price("VN", "VND", 350000), size="15 ml"),
            sku("SERUM-30", price("GB", "GBP", 2800), price("VN", "VND", 520000), size="30 ml"),
        ],
    )
    balm = await add(
        a,
        beauty,
        "Overnight Lip Balm",
        description="Shea butter and VITAMIN E.",
        status="published",
        skus=[sku("BALM", price("GB", "GBP", 900), price("VN", "VND", 150000, available=False))],
    )
    mask = await add(
        a,
        beauty,
        "Clay Mask 100% natural",
        status="published",
        skus=[sku("MASK", price("GB", "GBP", 1500))],
    )
    draft = await add(a, beauty, "Vitamin C Eye Cream", skus=[sku("EYE", price("GB", "GBP", 2200))])
    chips = await add(
        b,
        snacks,
        "Cassava Chips Balado",
        category="grocery",
        status="published",
        description="Spicy chilli cassava chips.",
        skus=[sku("CHIPS-100G", price("ID", "IDR", 1_500_000), price("VN", "VND", 25000))],
    )
    tea = await add(
        b,
        snacks,
        "Jasmine Tea Sachets",
        category="grocery",
        status="published",
        skus=[sku("TEA-25", price("ID", "IDR", 2_200_000), price("GB", "GBP", 450))],
    )
    return {
        "serum": serum,
        "balm": balm,
        "mask": mask,
        "draft": draft,
        "chips": chips,
        "tea": tea,
        "beauty": beauty,
        "snacks": snacks,
        "a": a,
    }


async def _ids(client: httpx.AsyncClient, query: str) -> list[int]:
    resp = await client.get(f"/api/v1/products?{query}")
    assert resp.status_code == 200, resp.text
    return [p["id"] for p in resp.json()["items"]]


async def test_public_list_filters_and_search(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    c = await _catalog(client, make_actor)
    newest_first = [c[k]["id"] for k in ("tea", "chips", "mask", "balm", "serum")]
    assert await _ids(client, "") == newest_first  # drafts never listed publicly
    assert await _ids(client, f"shop_id={c['beauty']['id']}") == newest_first[2:]
    assert await _ids(client, "category=grocery") == newest_first[:2]
    # Case-insensitive, over title and description.
    assert await _ids(client, "q=VITAMIN") == [c["balm"]["id"], c["serum"]["id"]]
    assert await _ids(client, "q=  chilli ") == [c["chips"]["id"]]
    assert await _ids(client, "q=100%25") == [c["mask"]["id"]]  # % is a literal, not a wildcard
    assert await _ids(client, "q=_") == []
    assert await _ids(client, "q=vitamin&category=grocery") == []
    assert_problem(await client.get("/api/v1/products?category=weapons"), 422, "validation-error")


async def test_market_filter_with_price_range(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    c = await _catalog(client, make_actor)
    vn = (await client.get("/api/v1/products?market=vn")).json()
    # The balm is priced in VN but not available there; the mask has no VN price.
    assert [p["id"] for p in vn["items"]] == [c["chips"]["id"], c["serum"]["id"]]
    serum = vn["items"][1]
    assert (serum["market"], serum["currency"]) == ("VN", "VND")
    assert (serum["price_min"], serum["price_max"]) == (350000, 520000)
    assert serum["price_display"].replace("\xa0", " ") == "350.000 ₫ – 520.000 ₫"

    gb = (await client.get("/api/v1/products?market=GB&shop_id=" + str(c["snacks"]["id"]))).json()
    assert [(p["title"], p["price_display"]) for p in gb["items"]] == [
        ("Jasmine Tea Sachets", "£4.50")
    ]
    plain = (await client.get("/api/v1/products")).json()
    assert all(p["price_min"] is None and p["market"] is None for p in plain["items"])
    # A SKU switched off hides the product from that market.
    a = c["a"]
    mask_sku = c["mask"]["skus"][0]["id"]
    await client.patch(f"/api/v1/skus/{mask_sku}", json={"is_active": False}, headers=a.headers)
    assert c["mask"]["id"] not in await _ids(client, "market=GB")
    # The same range on the product page.
    one = (await client.get(f"/api/v1/products/{c['serum']['id']}?market=GB")).json()
    assert (one["price_min"], one["price_max"], one["price_display"]) == (
        1800,
        2800,
        "£18.00 – £28.00",
    )
    assert_problem(await client.get("/api/v1/products?market=XX"), 422, "unknown-market")
    assert_problem(await client.get("/api/v1/products?market=GBR"), 422, "validation-error")


async def test_staff_listing_includes_drafts(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    c = await _catalog(client, make_actor)
    url = f"/api/v1/shops/{c['beauty']['id']}/products"
    staff = (await client.get(url, headers=c["a"].headers)).json()
    assert staff["total"] == 4 and c["draft"]["id"] in [p["id"] for p in staff["items"]]
    drafts = (await client.get(url + "?status=draft", headers=c["a"].headers)).json()
    assert [p["id"] for p in drafts["items"]] == [c["draft"]["id"]]
    found = (await client.get(url + "?q=eye", headers=c["a"].headers)).json()
    assert [p["id"] for p in found["items"]] == [c["draft"]["id"]]


async def test_pagination_bounds(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    await _catalog(client, make_actor)
    page = (await client.get("/api/v1/products?limit=2&offset=4")).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 4, 1)
    assert (await client.get("/api/v1/products")).json()["limit"] == 20
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=ten"):
        assert_problem(await client.get(f"/api/v1/products?{bad}"), 422, "validation-error")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(limit=st.integers(min_value=1, max_value=7))
async def test_walking_pages_sees_each_product_once(
    client: httpx.AsyncClient, make_actor: MakeActor, limit: int
) -> None:
    # The fixture database persists across examples; build the catalog once.
    if (await client.get("/api/v1/products")).json()["total"] == 0:
        await _catalog(client, make_actor)
    everything = await _ids(client, "limit=100")
    walked: list[int] = []
    offset = 0
    while True:
        page = (await client.get(f"/api/v1/products?limit={limit}&offset={offset}")).json()
        assert page["total"] == len(everything)
        if not page["items"]:
            break
        assert len(page["items"]) <= limit
        walked += [p["id"] for p in page["items"]]
        offset += limit
    assert walked == everything
