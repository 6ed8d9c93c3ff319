"""A paid order with a delivery address, for the logistics tests."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from liveshop.accounts.models import Role
from tests.addresses.examples import address
from tests.orders.conftest import Store, checkout, make_store, pay
from tests.support import Actor, MakeActor

__all__ = ["make_store"]

_keys = itertools.count(1)


@dataclass
class Sold:
    store: Store
    buyer: Actor
    order_id: int
    line_ids: list[int]


MakeSold = Callable[..., Awaitable[Sold]]


@pytest.fixture
def make_sold(
    client: httpx.AsyncClient, make_actor: MakeActor, make_store: Callable[..., Awaitable[Store]]
) -> MakeSold:
    async def _make(
        *, quantity: int = 2, with_address: bool = True, store: Store | None = None
    ) -> Sold:
        store = store or await make_store()
        buyer = await make_actor(Role.BUYER)
        if with_address:
            added = await client.post(
                "/api/v1/me/addresses", json=address("GB"), headers=buyer.headers
            )
            assert added.status_code == 201, added.text
        placed = await checkout(
            client,
            buyer,
            [{"sku_id": store.sku_id, "quantity": quantity}],
            key=f"sold-{next(_keys)}",
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        paid = await pay(client, buyer, order_id)
        assert paid.json()["status"] == "paid", paid.text
        return Sold(store, buyer, order_id, [ln["id"] for ln in paid.json()["lines"]])

    return _make
