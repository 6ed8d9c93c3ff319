"""Builders shared by the catalog tests: shops and products made through the API."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import text

from liveshop.core.db import Database
from tests.support import Actor

CATALOG_TABLES = ("shops", "shop_staff", "products", "skus", "sku_prices")


def price(market: str, currency: str, amount: Any, available: bool = True) -> dict[str, Any]:
    return {
        "market": market,
        "currency": currency,
        "amount_minor": amount,
        "is_available": available,
    }


def sku(code: str, *prices: dict[str, Any], **attributes: str) -> dict[str, Any]:
    return {"code": code, "attributes": attributes, "prices": list(prices)}


def code_for(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:40].upper()


def product_body(title: str = "Rose Glow Serum 30 ml", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": title,
        "description": "A light serum with rosehip oil.",
        "category": "beauty",
        "images": ["https://cdn.example.com/serum.jpg"],
        "skus": [
            sku(
                code_for(title) + "-30",
                price("GB", "GBP", 1899),
                price("VN", "VND", 349000),
                size="30 ml",
            )
        ],
    }
    body.update(overrides)
    return body


async def new_shop(
    client: httpx.AsyncClient, owner: Actor, slug: str, *, home_market: str = "GB", **extra: Any
) -> dict[str, Any]:
    body = {"name": slug.replace("-", " ").title(), "slug": slug, "home_market": home_market}
    resp = await client.post("/api/v1/shops", json={**body, **extra}, headers=owner.headers)
    assert resp.status_code == 201, resp.text
    shop: dict[str, Any] = resp.json()
    return shop


async def new_product(
    client: httpx.AsyncClient, owner: Actor, shop_id: int, **body: Any
) -> dict[str, Any]:
    resp = await client.post(
        f"/api/v1/shops/{shop_id}/products", json=product_body(**body), headers=owner.headers
    )
    assert resp.status_code == 201, resp.text
    product: dict[str, Any] = resp.json()
    return product


async def row_counts(db: Database) -> dict[str, int]:
    """How many rows each catalog table holds (to prove a refused request wrote nothing)."""
    counts = {}
    async with db.engine.connect() as conn:
        for table in CATALOG_TABLES:
            counts[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return counts
