"""A shop with priced, stocked products, creators, live sessions and buyers: the set-up the
creators', affiliates' and promotions' tests share (each package's conftest exposes the
``make_shopfront`` fixture)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.catalog.models import Shop, ShopStaff, ShopStaffRole, Sku
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators.attribution import resolve_checkout_attribution
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.live import service as live
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import OrderEvent
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails, PaymentProvider
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import add_sku
from tests.support import Actor, MakeActor

_seq = itertools.count(1)


@dataclass
class Shopfront:
    seller: Actor
    shop_id: int
    sku_id: int  # £24.00 incl. 20 % VAT, category beauty
    product_id: int
    other_sku_id: int  # £30.00, category fashion
    other_product_id: int


async def product_of(db: Database, sku_id: int) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(Sku.product_id).where(Sku.id == sku_id)) or 0)


MakeShopfront = Callable[..., Awaitable[Shopfront]]


@pytest.fixture
def make_shopfront(db: Database, make_actor: MakeActor) -> MakeShopfront:
    async def _make(*, stock: int = 1000, price: int = 2400) -> Shopfront:
        seller = await make_actor(Role.SELLER)
        n = next(_seq)
        async with db.session() as s:
            shop = Shop(slug=f"creator-shop-{n}", name=f"Creator Shop {n}", home_market="GB")
            s.add(shop)
            await s.flush()
            s.add(ShopStaff(shop_id=shop.id, user_id=seller.id, role=ShopStaffRole.OWNER))
            await s.commit()
            shop_id = shop.id
        sku = await add_sku(
            db,
            shop_id,
            title="Glow serum",
            category="beauty",
            prices={"GB": ("GBP", price)},
            stock=stock,
        )
        other = await add_sku(
            db,
            shop_id,
            title="Linen shirt",
            category="fashion",
            prices={"GB": ("GBP", 3000)},
            stock=stock,
        )
        return Shopfront(
            seller=seller,
            shop_id=shop_id,
            sku_id=sku,
            product_id=await product_of(db, sku),
            other_sku_id=other,
            other_product_id=await product_of(db, other),
        )

    return _make


async def new_user(s: AsyncSession, email: str, role: Role) -> int:
    """A user with one role (the property tests make theirs on a reset database)."""
    user = await accounts.create_user(
        s, email=email, password="pass-word-1", display_name=email, roles=(role,)
    )
    return int(user.id)


async def one_sku_shop(db: Database, price: int) -> tuple[int, int]:
    """A GB shop with one beauty SKU at ``price`` and 50 in stock: (shop id, SKU id)."""
    async with db.session() as s:
        s.add(Shop(slug="p", name="P", home_market="GB"))
        await s.commit()
        shop_id = (await s.scalars(select(Shop.id))).one()
    sku = await add_sku(
        db, shop_id, title="A", category="beauty", prices={"GB": ("GBP", price)}, stock=50
    )
    return shop_id, sku


async def start_session(db: Database, creator_id: int, *, market: str = "GB") -> int:
    """A live session that is live now."""
    async with db.session() as s:
        made = await live.create_session(
            s,
            creator_id=creator_id,
            title="Glow hour",
            market_code=market,
            planned_start=utcnow() + timedelta(minutes=1),
            planned_duration_minutes=240,
        )
        await live.transition(s, made, SessionStatus.LIVE)
        return made.id


async def end_session(db: Database, live_session_id: int, *, minutes: int) -> None:
    """End the session as if it had been live for ``minutes`` from its start."""
    async with db.session() as s:
        row = await live.get_session(s, live_session_id)
        await live.transition(s, row, SessionStatus.ENDED)
        await s.execute(
            update(LiveSession)
            .where(LiveSession.id == live_session_id)
            .values(actual_end=row.actual_start + timedelta(minutes=minutes))  # type: ignore[operator]
        )
        await s.commit()


async def buy(
    client: httpx.AsyncClient,
    buyer: Actor,
    sku_id: int,
    *,
    quantity: int = 1,
    key: str | None = None,
    live_session_id: int | None = None,
    creator_id: int | None = None,
    coupon_code: str | None = None,
    pay: bool = True,
    market: str = "GB",
) -> dict[str, Any]:
    body: dict[str, Any] = {"market": market, "lines": [{"sku_id": sku_id, "quantity": quantity}]}
    if live_session_id is not None or creator_id is not None:
        body["attribution"] = {"live_session_id": live_session_id, "creator_id": creator_id}
    if coupon_code is not None:
        body["coupon_code"] = coupon_code
    resp = await client.post(
        "/api/v1/checkout",
        json=body,
        headers={**buyer.headers, "Idempotency-Key": key or f"k-{next(_seq)}"},
    )
    assert resp.status_code == 201, resp.text
    order: dict[str, Any] = resp.json()
    if pay:
        paid = await client.post(
            f"/api/v1/orders/{order['id']}/pay",
            json={"card_number": CARD_SUCCEEDS},
            headers=buyer.headers,
        )
        assert paid.status_code == 200, paid.text
        order = paid.json()
    return order


async def buy_in_live(
    s: AsyncSession,
    provider: PaymentProvider,
    *,
    buyer_id: int,
    sku_id: int,
    live_session_id: int,
    quantity: int,
    key: str,
) -> int:
    """Through the services, as the room's buy does: attribution to the live session, the
    checkout, the sandbox card. The paid order's id."""
    who = await resolve_checkout_attribution(
        s, buyer_id=buyer_id, market_code="GB", sku_ids=[sku_id], live_session_id=live_session_id
    )
    placed = await place_order(
        s,
        buyer_id=buyer_id,
        market_code="GB",
        lines=[CheckoutLine(sku_id=sku_id, quantity=quantity)],
        idempotency_key=key,
        attribution=who,
    )
    await pay_order(
        s, provider, order_id=placed.order.id, buyer_id=buyer_id, card=CardDetails(CARD_SUCCEEDS)
    )
    return placed.order.id


async def order_financials(client: httpx.AsyncClient, seller: Actor, order_id: int) -> Any:
    resp = await client.get(f"/api/v1/orders/{order_id}", headers=seller.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def open_plan(
    client: httpx.AsyncClient,
    shop: Shopfront,
    items: list[dict[str, Any]],
    *,
    kind: str = "open",
    creator_ids: list[int] | None = None,
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/shops/{shop.shop_id}/affiliate-plans",
        json={"kind": kind, "items": items, "creator_ids": creator_ids or [], **extra},
        headers=shop.seller.headers,
    )


async def deliver(
    client: httpx.AsyncClient, db: Database, shop: Shopfront, order_id: int, *, days_ago: int
) -> None:
    """Fulfil, ship and deliver the order, as if it was delivered ``days_ago`` days ago."""
    h = shop.seller.headers
    assert (await client.post(f"/api/v1/orders/{order_id}/fulfil", headers=h)).status_code == 200
    shipped = await client.post(
        f"/api/v1/orders/{order_id}/ship",
        json={"carrier": "Post", "tracking_number": f"TR{order_id}"},
        headers=h,
    )
    assert shipped.status_code == 200, shipped.text
    assert (await client.post(f"/api/v1/orders/{order_id}/deliver", headers=h)).status_code == 200
    async with db.session() as s:
        await s.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.to_status == OrderStatus.DELIVERED)
            .values(created_at=utcnow() - timedelta(days=days_ago))
        )
        await s.commit()


async def owed(db: Database, type_: AccountType, party: str, currency: str = "GBP") -> int:
    async with db.session(deferred=True) as s:
        return ledger.owed_to_party(
            await ledger.balance(s, ledger.AccountKey(type_, party, currency))
        )


async def make_agency(client: httpx.AsyncClient, admin: Actor, owner: Actor, creator: Actor) -> int:
    resp = await client.post(
        "/api/v1/agencies", json={"name": "Glow MCN", "owner_id": owner.id}, headers=admin.headers
    )
    assert resp.status_code == 201, resp.text
    agency_id: int = resp.json()["id"]
    resp = await client.post(
        f"/api/v1/agencies/{agency_id}/members",
        json={"creator_id": creator.id},
        headers=owner.headers,
    )
    assert resp.status_code == 201, resp.text
    return agency_id


async def add_contract(
    client: httpx.AsyncClient, admin: Actor, creator_id: int, **terms: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/creators/{creator_id}/contracts",
        json={"currency": "GBP", **terms},
        headers=admin.headers,
    )


async def new_campaign(client: httpx.AsyncClient, admin: Actor, **terms: Any) -> httpx.Response:
    body = {"market": "GB", "per_order_cap_minor": 10_000, **terms}
    return await client.post("/api/v1/subsidy-campaigns", json=body, headers=admin.headers)
