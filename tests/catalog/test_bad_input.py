"""Bad input gets a 4xx problem+json and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveshop.accounts.models import Role
from liveshop.catalog.schemas import MAX_AMOUNT_MINOR
from liveshop.core.db import Database
from tests.catalog.helpers import new_product, new_shop, price, product_body, row_counts, sku
from tests.support import MakeActor, assert_problem

GOOD_SKU = sku("OK-1", price("GB", "GBP", 1000), size="M")


def _with_sku(bad: dict[str, Any]) -> dict[str, Any]:
    """A product whose *second* SKU is the bad one: the first must not be left behind."""
    return product_body(skus=[GOOD_SKU, bad])


BAD_PRODUCTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown market", _with_sku(sku("B", price("XX", "GBP", 100))), 422, "unknown-market"),
    ("wrong currency", _with_sku(sku("B", price("VN", "USD", 100))), 422, "wrong-currency"),
    ("negative price", _with_sku(sku("B", price("GB", "GBP", -1))), 422, "validation-error"),
    ("fractional price", _with_sku(sku("B", price("GB", "GBP", 12.5))), 422, "validation-error"),
    ("price as text", _with_sku(sku("B", price("GB", "GBP", "100"))), 422, "validation-error"),
    ("huge price", _with_sku(sku("B", price("GB", "GBP", 10**13))), 422, "validation-error"),
    (
        "market twice",
        _with_sku(sku("B", price("GB", "GBP", 1), price("gb", "GBP", 2))),
        422,
        "validation-error",
    ),
    ("duplicate codes", product_body(skus=[GOOD_SKU, GOOD_SKU]), 422, "validation-error"),
    ("title too long", product_body("x" * 201), 422, "validation-error"),
    ("empty title", product_body("  "), 422, "validation-error"),
    ("unknown category", product_body(category="weapons"), 422, "validation-error"),
    ("image not a URL", product_body(images=["not a url"]), 422, "validation-error"),
    ("image ftp", product_body(images=["ftp://example.com/a.jpg"]), 422, "validation-error"),
    ("image javascript", product_body(images=["javascript:alert(1)"]), 422, "validation-error"),
    ("image path escape", product_body(images=["/static/../secrets"]), 422, "validation-error"),
    ("extra field", product_body(price=100), 422, "validation-error"),
    ("extra sku field", _with_sku({**sku("B"), "stock": 5}), 422, "validation-error"),
    (
        "extra price field",
        _with_sku(sku("B", {**price("GB", "GBP", 1), "tax": 0})),
        422,
        "validation-error",
    ),
    ("archived at birth", product_body(status="archived"), 422, "validation-error"),
    ("bad sku code", _with_sku(sku("has space")), 422, "validation-error"),
    (
        "attribute not text",
        _with_sku({**sku("B"), "attributes": {"size": 3}}),
        422,
        "validation-error",
    ),
    ("code taken in shop", _with_sku(sku("TAKEN")), 409, "sku-code-taken"),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "code"), BAD_PRODUCTS, ids=[c[0] for c in BAD_PRODUCTS]
)
async def test_bad_product_is_refused_and_nothing_written(
    client: httpx.AsyncClient,
    make_actor: MakeActor,
    db: Database,
    case: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "strict")
    await new_product(client, seller, shop["id"], title="Existing", skus=[sku("TAKEN")])
    before = await row_counts(db)
    resp = await client.post(
        f"/api/v1/shops/{shop['id']}/products", json=body, headers=seller.headers
    )
    assert_problem(resp, status, code)
    assert await row_counts(db) == before


async def test_malformed_json_is_a_problem(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "strict")
    before = await row_counts(db)
    resp = await client.post(
        f"/api/v1/shops/{shop['id']}/products",
        content=b'{"title": ',
        headers={**seller.headers, "content-type": "application/json"},
    )
    assert 400 <= resp.status_code < 500
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert await row_counts(db) == before


async def test_bad_sku_and_price_updates_change_nothing(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    shop = await new_shop(client, seller, "strict")
    product = await new_product(client, seller, shop["id"])
    sku_id = product["skus"][0]["id"]
    before_rows = await row_counts(db)
    before = (await client.get(f"/api/v1/products/{product['id']}", headers=seller.headers)).json()

    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        (
            "PUT",
            f"/api/v1/skus/{sku_id}/prices/XX",
            {"currency": "GBP", "amount_minor": 1},
            422,
            "unknown-market",
        ),
        (
            "PUT",
            f"/api/v1/skus/{sku_id}/prices/GB",
            {"currency": "EUR", "amount_minor": 1},
            422,
            "wrong-currency",
        ),
        (
            "PUT",
            f"/api/v1/skus/{sku_id}/prices/GB",
            {"currency": "GBP", "amount_minor": -5},
            422,
            "validation-error",
        ),
        ("PUT", f"/api/v1/skus/{sku_id}/prices/ID", {"currency": "IDR"}, 422, "validation-error"),
        (
            "PUT",
            f"/api/v1/skus/{sku_id}/prices/GB",
            {"currency": "GBP", "amount_minor": 1, "market": "VN"},
            422,
            "validation-error",
        ),
        (
            "PUT",
            f"/api/v1/skus/{sku_id}/prices/GBR",
            {"currency": "GBP", "amount_minor": 1},
            422,
            "validation-error",
        ),
        ("PATCH", f"/api/v1/skus/{sku_id}", {"code": ""}, 422, "validation-error"),
        ("PATCH", f"/api/v1/skus/{sku_id}", {"shop_id": 2}, 422, "validation-error"),
        (
            "POST",
            f"/api/v1/products/{product['id']}/skus",
            sku("NEW", price("GB", "GBP", 1), price("TH", "VND", 1)),
            422,
            "wrong-currency",
        ),
        (
            "PATCH",
            f"/api/v1/products/{product['id']}",
            {"title": "y" * 201},
            422,
            "validation-error",
        ),
        (
            "PATCH",
            f"/api/v1/products/{product['id']}",
            {"category": "cars"},
            422,
            "validation-error",
        ),
        (
            "PATCH",
            f"/api/v1/products/{product['id']}",
            {"status": "published"},
            422,
            "validation-error",
        ),
        (
            "PATCH",
            f"/api/v1/products/{product['id']}",
            {"images": ["data:image/png;base64,AA"]},
            422,
            "validation-error",
        ),
    ]
    for method, url, body, status, code in cases:
        resp = await client.request(method, url, json=body, headers=seller.headers)
        assert_problem(resp, status, code)
    assert await row_counts(db) == before_rows
    after = (await client.get(f"/api/v1/products/{product['id']}", headers=seller.headers)).json()
    assert after == before


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.one_of(
        st.integers(min_value=-(10**15), max_value=10**15),
        st.sampled_from([-1, 0, 1, MAX_AMOUNT_MINOR - 1, MAX_AMOUNT_MINOR]),
    )
)
async def test_price_is_stored_exactly_or_refused(
    client: httpx.AsyncClient, make_actor: MakeActor, amount: int
) -> None:
    """Any integer amount is either stored as given (0 <= a < 10**13) or refused unchanged."""
    listed = (await client.get("/api/v1/products")).json()
    if listed["total"] == 0:  # the database persists across examples: set up once
        seller = await make_actor(Role.SELLER)
        shop = await new_shop(client, seller, "prop")
        await new_product(client, seller, shop["id"], status="published")
        listed = (await client.get("/api/v1/products")).json()
    admin = await make_actor(Role.ADMIN)
    product = listed["items"][0]
    sku_id = product["skus"][0]["id"]
    before = {p["market"]: p for p in product["skus"][0]["prices"]}["GB"]["amount_minor"]

    resp = await client.put(
        f"/api/v1/skus/{sku_id}/prices/GB",
        json={"currency": "GBP", "amount_minor": amount},
        headers=admin.headers,
    )
    now = (await client.get(f"/api/v1/products/{product['id']}")).json()
    stored = {p["market"]: p for p in now["skus"][0]["prices"]}["GB"]["amount_minor"]
    if 0 <= amount < MAX_AMOUNT_MINOR:
        assert resp.status_code == 200, resp.text
        assert stored == amount == resp.json()["amount_minor"]
    else:
        assert_problem(resp, 422, "validation-error")
        assert stored == before
