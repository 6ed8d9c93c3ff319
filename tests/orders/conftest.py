"""A shop with priced, stocked SKUs for order tests (catalog rows inserted directly)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.catalog.models import (
    Product,
    ProductStatus,
    Shop,
    ShopStaff,
    ShopStaffRole,
    Sku,
    SkuPrice,
)
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.ledger import service as ledger
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from tests.support import Actor, MakeActor

_seq = itertools.count(1)


@dataclass
class Store:
    seller: Actor
    shop_id: int
    sku_id: int  # £12.00 in GB (20 % VAT inside), 259,000 ₫ in VN, category beauty
    other_sku_id: int  # £30.00 in GB, category fashion


async def add_sku(
    db: Database,
    shop_id: int,
    *,
    title: str,
    category: str,
    prices: dict[str, tuple[str, int]],
    stock: int,
) -> int:
    n = next(_seq)
    async with db.session() as s:
        product = Product(
            shop_id=shop_id,
            title=title,
            category=category,
            status=ProductStatus.PUBLISHED,
            images=[f"https://img.example.com/{n}.jpg"],
        )
        s.add(product)
        await s.flush()
        sku = Sku(product_id=product.id, shop_id=shop_id, code=f"SKU-{n}", attributes={"size": "M"})
        s.add(sku)
        await s.flush()
        for market, (currency, amount) in prices.items():
            s.add(
                SkuPrice(sku_id=sku.id, market_code=market, currency=currency, amount_minor=amount)
            )
        if stock:
            await inventory.receive(
                s, sku_id=sku.id, quantity=stock, reason="test stock", actor_id=None
            )
        await s.commit()
        return sku.id


MakeStore = Callable[..., Awaitable[Store]]


@pytest.fixture
def make_store(db: Database, make_actor: MakeActor) -> MakeStore:
    async def _make(*, stock: int = 100, other_stock: int = 100) -> Store:
        seller = await make_actor(Role.SELLER)
        n = next(_seq)
        async with db.session() as s:
            shop = Shop(slug=f"shop-{n}", name=f"Shop {n}", home_market="GB")
            s.add(shop)
            await s.flush()
            s.add(ShopStaff(shop_id=shop.id, user_id=seller.id, role=ShopStaffRole.OWNER))
            await s.commit()
            shop_id = shop.id
        sku = await add_sku(
            db,
            shop_id,
            title="Glow serum 30 ml",
            category="beauty",
            prices={"GB": ("GBP", 1200), "VN": ("VND", 259000)},
            stock=stock,
        )
        other = await add_sku(
            db,
            shop_id,
            title="Linen shirt",
            category="fashion",
            prices={"GB": ("GBP", 3000)},
            stock=other_stock,
        )
        return Store(seller=seller, shop_id=shop_id, sku_id=sku, other_sku_id=other)

    return _make


async def checkout(
    client: httpx.AsyncClient,
    buyer: Actor,
    lines: list[dict[str, int]],
    *,
    key: str,
    market: str = "GB",
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        "/api/v1/checkout",
        json={"market": market, "lines": lines, **extra},
        headers={**buyer.headers, "Idempotency-Key": key},
    )


async def pay(
    client: httpx.AsyncClient, buyer: Actor, order_id: int, card: str = CARD_SUCCEEDS
) -> httpx.Response:
    return await client.post(
        f"/api/v1/orders/{order_id}/pay", json={"card_number": card}, headers=buyer.headers
    )


async def count_orders(db: Database) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(func.count()).select_from(Order)) or 0)


async def trial_balance(db: Database) -> dict[str, int]:
    async with db.session(deferred=True) as s:
        return await ledger.trial_balance(s)


async def stock_of(db: Database, sku_id: int) -> inventory.StockSummary:
    async with db.session() as s:
        summary = await inventory.stock_summary(s, sku_id)
        await s.commit()
        return summary
