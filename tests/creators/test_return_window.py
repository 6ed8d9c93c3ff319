"""A commission becomes payable once the goods are delivered and the order's return window has
passed: 7 days in Vietnam, 14 in the UK (admin-editable per market, frozen on each order when it
is placed, so a change applies to new orders only)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.catalog.models import Shop
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.migrate import downgrade, upgrade
from liveshop.creators import order_facts
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.orders.models import Order
from liveshop.payouts import figures
from tests.orders.conftest import add_sku
from tests.shopfront import MakeShopfront, buy, deliver, open_plan, start_session
from tests.support import Actor, MakeActor, assert_problem


async def commission(client: httpx.AsyncClient, creator: Actor, live_id: int) -> tuple[int, int]:
    """(pending, payable) as the creator's studio shows it for one session."""
    resp = await client.get(
        f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=creator.headers
    )
    assert resp.status_code == 200, resp.text
    e: dict[str, Any] = resp.json()
    return e["commission_pending_minor"], e["commission_payable_minor"]


async def test_payable_after_delivery_plus_the_markets_return_window(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    # £24.00 in GB (net £20.00), 275,000 ₫ in VN (10 % VAT inside: net 250,000 ₫).
    sku = await add_sku(
        db,
        shop.shop_id,
        title="Glow duo",
        category="beauty",
        prices={"GB": ("GBP", 2400), "VN": ("VND", 275_000)},
        stock=10,
    )
    made = await open_plan(client, shop, [{"category": "beauty", "rate_bp": 1000}])
    assert made.status_code == 201, made.text
    markets = {m["code"]: m for m in (await client.get("/api/v1/markets")).json()}
    assert (markets["GB"]["return_window_days"], markets["VN"]["return_window_days"]) == (14, 7)

    gb_live = await start_session(db, creator.id)
    vn_live = await start_session(db, creator.id, market="VN")
    gb = await buy(client, buyer, sku, live_session_id=gb_live)
    vn = await buy(client, buyer, sku, live_session_id=vn_live, market="VN")
    assert await commission(client, creator, gb_live) == (200, 0)
    assert await commission(client, creator, vn_live) == (25_000, 0)

    # Delivered 6 days ago: both windows still open.
    await deliver(client, db, shop, gb["id"], days_ago=6)
    await deliver(client, db, shop, vn["id"], days_ago=6)
    assert await commission(client, creator, gb_live) == (200, 0)
    assert await commission(client, creator, vn_live) == (25_000, 0)

    # 8 days after delivery: Vietnam's 7 days are over, the UK's 14 are not.
    async with db.session() as s:
        at = utcnow() + timedelta(days=2)
        states = await order_facts.accrual_by_order(s, [gb["id"], vn["id"]], now=at)
    assert {oid: a.state for oid, a in states.items()} == {
        gb["id"]: order_facts.PENDING,
        vn["id"]: order_facts.PAYABLE,
    }
    async with db.session() as s:
        later = utcnow() + timedelta(days=8, minutes=1)  # 14 days and a minute after delivery
        states = await order_facts.accrual_by_order(s, [gb["id"]], now=later)
    assert states[gb["id"]].state == order_facts.PAYABLE

    # The admin shortens the UK window to 5 days and lengthens Vietnam's to 30: orders already
    # placed keep the window they were bought with (the GB order, delivered 6 days ago, stays
    # pending; the VN one still matures 7 days after delivery).
    for code, days in (("GB", 5), ("VN", 30)):
        changed = await client.patch(
            f"/api/v1/markets/{code}", json={"return_window_days": days}, headers=admin.headers
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["return_window_days"] == days
    assert await commission(client, creator, gb_live) == (200, 0)
    assert await commission(client, creator, vn_live) == (25_000, 0)
    async with db.session() as s:
        at = utcnow() + timedelta(days=2)
        states = await order_facts.accrual_by_order(s, [gb["id"], vn["id"]], now=at)
    assert {oid: a.state for oid, a in states.items()} == {
        gb["id"]: order_facts.PENDING,
        vn["id"]: order_facts.PAYABLE,
    }


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def earnings(client: httpx.AsyncClient, creator: Actor) -> dict[str, Any]:
    resp = await client.get("/api/v1/creators/me/earnings", headers=creator.headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_a_changed_window_applies_to_new_orders_only(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    """The "payable on" date a creator is shown is fixed when the order is placed: an admin
    changing the market's window later moves it neither way; orders placed after the change
    get the new window."""
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    made = await open_plan(client, shop, [{"category": "beauty", "rate_bp": 1000}])
    assert made.status_code == 201, made.text
    live_id = await start_session(db, creator.id)
    first = await buy(client, buyer, shop.sku_id, live_session_id=live_id)  # GB: 14 days

    # Before delivery: pending, 14 days after delivery, no date yet.
    shown = await earnings(client, creator)
    assert shown["commission_pending_minor"] == 200
    assert [
        (p["order_id"], p["commission_minor"], p["return_window_days"], p["payable_on"])
        for p in shown["pending_commissions"]
    ] == [(first["id"], 200, 14, None)]

    await deliver(client, db, shop, first["id"], days_ago=6)
    shown = await earnings(client, creator)
    (entry,) = shown["pending_commissions"]
    delivered, promised = at(entry["delivered_at"]), at(entry["payable_on"])
    assert promised == delivered + timedelta(days=14)
    session_view = await client.get(
        f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=creator.headers
    )
    assert session_view.json()["pending_commissions"] == shown["pending_commissions"]

    # The admin shortens the UK window to 5 days (the order was delivered 6 days ago) ...
    patched = await client.patch(
        "/api/v1/markets/GB", json={"return_window_days": 5}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    # ... the commission still matures on the date the creator was shown, not now ...
    assert await commission(client, creator, live_id) == (200, 0)
    (entry,) = (await earnings(client, creator))["pending_commissions"]
    assert (entry["return_window_days"], at(entry["payable_on"])) == (14, promised)
    async with db.session() as s:
        before = await order_facts.accrual_by_order(
            s, [first["id"]], now=promised - timedelta(minutes=1)
        )
        after = await order_facts.accrual_by_order(s, [first["id"]], now=promised)
    assert before[first["id"]].state == order_facts.PENDING
    assert after[first["id"]].state == order_facts.PAYABLE
    assert after[first["id"]].payable_on == promised

    # ... and a payout statement made now holds it back as pending.
    account = payable_account(PartyKind.CREATOR, creator.id, "GBP")
    async with db.session() as s:
        assert await figures.pending_owed(s, account) == 200

    # An order placed after the change gets the new window: delivered 6 days ago, its 5 days
    # are over and its commission is payable; the first one's is still pending.
    second = await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    await deliver(client, db, shop, second["id"], days_ago=6)
    assert await commission(client, creator, live_id) == (200, 200)
    (entry,) = (await earnings(client, creator))["pending_commissions"]
    assert (entry["order_id"], at(entry["payable_on"])) == (first["id"], promised)
    async with db.session() as s:
        assert await figures.pending_owed(s, account) == 200
        windows = {
            o.id: o.return_window_days
            for o in await s.scalars(select(Order).where(Order.id.in_([first["id"], second["id"]])))
        }
    assert windows == {first["id"]: 14, second["id"]: 5}

    # Lengthening the window does not push the date out either.
    longer = await client.patch(
        "/api/v1/markets/GB", json={"return_window_days": 30}, headers=admin.headers
    )
    assert longer.status_code == 200, longer.text
    (entry,) = (await earnings(client, creator))["pending_commissions"]
    assert (entry["return_window_days"], at(entry["payable_on"])) == (14, promised)
    assert await commission(client, creator, live_id) == (200, 200)

    # The studio's earnings page shows the same date.
    page = await client.get("/studio/earnings", headers=creator.headers)
    assert page.status_code == 200, page.text
    row = page.text.split(f'id="pending-{first["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-payable-on="{promised.isoformat()}"' in row
    assert promised.strftime("%d %b %Y, %H:%M") in row and "14 days" in row
    assert f'id="pending-{second["id"]}"' not in page.text


async def test_only_admins_set_the_return_window_and_only_sensible_values(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin, seller = await make_actor(Role.ADMIN), await make_actor(Role.SELLER)
    url = "/api/v1/markets/TH"
    assert_problem(await client.patch(url, json={"return_window_days": 10}), 401)
    refused = await client.patch(url, json={"return_window_days": 10}, headers=seller.headers)
    assert_problem(refused, 403, "wrong-role")
    for bad in (-1, 366, 100_000, 7.5, "a week", None):
        resp = await client.patch(url, json={"return_window_days": bad}, headers=admin.headers)
        if bad is None:
            assert resp.status_code == 200  # null: unchanged
            continue
        assert_problem(resp, 422)
    assert (await client.get(url)).json()["return_window_days"] == 7
    ok = await client.patch(url, json={"return_window_days": 0}, headers=admin.headers)
    assert ok.status_code == 200 and ok.json()["return_window_days"] == 0


async def test_migration_freezes_existing_orders_on_their_markets_window(fresh_url: str) -> None:
    """Revision 0012 gives orders placed before it their market's window as it is then."""
    url = fresh_url
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        user = await accounts.create_user(
            s, email="b@example.com", password="pass-word-1", display_name="B", roles=(Role.BUYER,)
        )
        shop = Shop(slug="m", name="M", home_market="GB")
        s.add(shop)
        await s.flush()
        for n, (market, currency) in enumerate((("GB", "GBP"), ("VN", "VND"), ("GB", "GBP"))):
            s.add(
                Order(
                    buyer_id=user.id,
                    shop_id=shop.id,
                    market_code=market,
                    currency=currency,
                    items_minor=0,
                    tax_minor=0,
                    total_minor=0,
                    return_window_days=99,  # dropped by the downgrade below
                    idempotency_key=f"k{n}",
                    request_fingerprint="x",
                )
            )
        await s.commit()
    await engine.dispose()
    await asyncio.to_thread(downgrade, url, "0011")

    async def run(*sql: str) -> list[tuple[Any, ...]]:
        eng = create_async_engine(url)
        async with eng.begin() as conn:
            rows: list[tuple[Any, ...]] = []
            for statement in sql:
                result = await conn.execute(text(statement))
                rows = [tuple(r) for r in result.all()] if result.returns_rows else []
        await eng.dispose()
        return rows

    await run("UPDATE markets SET return_window_days = 21 WHERE code = 'GB'")
    await asyncio.to_thread(upgrade, url)
    found = await run("SELECT market_code, return_window_days FROM orders ORDER BY id")
    assert found == [("GB", 21), ("VN", 7), ("GB", 21)]
    # Afterwards a market's change no longer reaches them.
    await run("UPDATE markets SET return_window_days = 3")
    found = await run("SELECT market_code, return_window_days FROM orders ORDER BY id")
    assert found == [("GB", 21), ("VN", 7), ("GB", 21)]
