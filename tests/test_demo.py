"""The demo loads on both databases, twice without duplicates, and its logins work.

A demo load is the slowest thing a test here does, so one test loads it twice and checks
everything a load must give (and a second load must leave alone)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text, update

from liveshop.catalog.demo_data import DEMO_SHOPS
from liveshop.core.db import Database
from liveshop.core.settings import Settings, get_settings
from liveshop.demo import DEMO_PEOPLE, DemoSummary, load_demo
from liveshop.inventory import service as inventory
from liveshop.live import service as live
from liveshop.live.deals import service as deals
from liveshop.live.deals.models import FlashDeal
from liveshop.live.models import SessionStatus
from liveshop.logistics.demo_data import HISTORY_ORDERS
from liveshop.logistics.eta import shop_eta
from liveshop.logistics.sla import on_time_rate

TABLES = (
    "users", "user_roles", "shops", "shop_staff", "products", "skus", "sku_prices",
    "agencies", "agency_members", "agency_invitations", "creator_contracts", "affiliate_plans",
)  # fmt: skip


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES
        }


async def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_the_demo_loads_then_loads_again_without_duplicates(
    db: Database, client: httpx.AsyncClient
) -> None:
    first = await load_demo(db)
    counts = await _counts(db)
    sessions = "SELECT id, status, pinned_product_id FROM live_sessions ORDER BY id"
    shows = await _rows(db, sessions)
    await _check_first_load(db, first, counts, shows)
    await _check_seller_signs_in(client)
    # The running demo deal has expired by the next load: that load starts it again.
    async with db.session() as s:
        past = datetime(2000, 1, 1, tzinfo=UTC)
        await s.execute(update(FlashDeal).where(FlashDeal.id == first.deal_id).values(ends_at=past))
        await s.commit()

    second = await load_demo(db)
    assert await _counts(db) == counts
    assert (second.created_users, second.created_shops) == (0, 0)
    assert (second.created_products, second.created_skus) == (0, 0)
    assert (first.created_plans, second.created_plans) == (len(DEMO_SHOPS), 0)  # one open each
    assert (first.users, first.shops, first.products, first.skus) == (
        second.users, second.shops, second.products, second.skus
    )  # fmt: skip
    assert second.sku_ids == first.sku_ids and second.shop_ids == first.shop_ids
    assert (first.created_addresses, second.created_addresses) == (20, 0)
    assert (first.created_deliveries, second.created_deliveries) == (4 * HISTORY_ORDERS, 0)
    assert (second.stocked_skus, second.created_shows) == (0, 0)
    assert second.show_ids == first.show_ids
    assert await _rows(db, sessions) == shows
    assert second.started_deal and second.deal_id != first.deal_id
    assert await _rows(db, "SELECT id, status FROM flash_deals ORDER BY id") == [
        (first.deal_id, "ended"),
        (second.deal_id, "active"),
    ]


async def _check_first_load(
    db: Database, first: DemoSummary, counts: dict[str, int], shows: list[tuple[object, ...]]
) -> None:
    # buyers 1-15 and the creators have an address; every shop a delivery history at home
    async with db.session(deferred=True) as s:
        for slug, shop_id in first.shop_ids.items():
            market = next(d.home_market for d in DEMO_SHOPS if d.slug == slug)
            eta = await shop_eta(s, shop_id, market, "UTC", now=datetime.now(UTC))
            assert eta.from_history and eta.deliveries == HISTORY_ORDERS, slug
            assert (await on_time_rate(s, shop_id)).dispatched == HISTORY_ORDERS

    roles = Counter(
        role
        for (role,) in await _rows(
            db,
            "SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id "
            "WHERE u.email LIKE '%@liveshop.demo'",
        )
    )
    # Six creators: five people and the test card `make run` streams as (not a buyer).
    assert (roles["admin"], roles["agency"], roles["creator"], roles["seller"]) == (1, 1, 6, 4)
    assert roles["buyer"] == 20 + 5  # the creators shop too
    assert counts["users"] == 32 == len(DEMO_PEOPLE)
    assert counts["shops"] == 4

    owners = await _rows(
        db,
        "SELECT s.slug, s.home_market, u.email FROM shops s JOIN shop_staff st "
        "ON st.shop_id = s.id AND st.role = 'owner' JOIN users u ON u.id = st.user_id "
        "ORDER BY s.slug",
    )
    assert owners == [
        ("bloom-botanic", "GB", "seller1@liveshop.demo"),
        ("dapur-nusantara", "ID", "seller4@liveshop.demo"),
        ("northern-thread", "GB", "seller2@liveshop.demo"),
        ("voltbox", "GB", "seller3@liveshop.demo"),
    ]
    per_shop = dict(
        await _rows(db, "SELECT shop_id, count(*) FROM products GROUP BY shop_id")  # type: ignore[arg-type]
    )
    assert len(per_shop) == 4 and all(n >= 5 for n in per_shop.values())
    assert counts["products"] >= 30
    assert await _rows(db, "SELECT DISTINCT status FROM products") == [("published",)]
    categories = {c for (c,) in await _rows(db, "SELECT DISTINCT category FROM products")}
    assert {"beauty", "fashion", "electronics", "grocery"} <= categories

    # Every SKU has a price in each live market, in that market's currency.
    priced = await _rows(
        db,
        "SELECT p.market_code, p.currency, count(*), min(p.amount_minor) FROM sku_prices p "
        "GROUP BY p.market_code, p.currency ORDER BY p.market_code",
    )
    assert [(m, c, n) for m, c, n, _ in priced] == [
        ("GB", "GBP", counts["skus"]),
        ("ID", "IDR", counts["skus"]),
        ("VN", "VND", counts["skus"]),
    ]
    cheapest = {m: low for m, _, _, low in priced}
    assert cheapest["GB"] >= 100  # at least £1.00
    assert cheapest["ID"] >= 1_000_000  # at least Rp 10.000 (IDR has two minor digits)
    assert cheapest["VN"] >= 10_000  # at least 10.000 ₫ (VND has none)

    # Stock for every SKU, once; one live show with a pin and a running deal, one upcoming,
    # one replay.
    assert first.stocked_skus == first.skus
    # creator1's live show, the test card's own live show, an upcoming one and a replay.
    assert sorted(str(status) for _, status, _ in shows) == ["ended", "live", "live", "scheduled"]
    async with db.session(deferred=True) as s:
        stock = await inventory.stock_summaries(s, list(first.sku_ids.values()))
        assert all(40 <= st.received <= 200 for st in stock.values())
        on_air = await live.get_session(s, first.show_ids["live"])
        assert on_air.status == SessionStatus.LIVE and on_air.market_code == "GB"
        assert on_air.pinned_product_id == first.product_ids["heavyweight-tee"]
        assert 4 <= len(await live.showcase_ids(s, on_air.id)) <= 6
        running = await deals.active_deal(s, on_air.id)
        assert running is not None and running.deal.id == first.deal_id
        assert running.available == running.deal.units == 20
        assert running.deal.price_minor < running.deal.regular_price_minor


async def _check_seller_signs_in(client: httpx.AsyncClient) -> None:
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "seller4@liveshop.demo", "password": get_settings().demo_password},
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    shops = (await client.get("/api/v1/me/shops", headers=headers)).json()
    assert [(s["slug"], s["my_role"]) for s in shops] == [("dapur-nusantara", "owner")]
    listing = await client.get(f"/api/v1/shops/{shops[0]['id']}/products", headers=headers)
    assert listing.json()["total"] >= 5

    public = (await client.get("/api/v1/products?market=VN&q=kopi")).json()
    assert public["total"] == 0  # 'kopi' is only in the image slug, not the text
    coffee = (await client.get("/api/v1/products?market=ID&q=toraja")).json()
    assert [p["price_display"] for p in coffee["items"]] == ["Rp95.000,00 – Rp175.000,00"]


def test_readme_documents_the_demo_logins() -> None:
    """The README's table is what `liveshop demo load` creates (names, roles, counts)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Demo logins", 1)[1]
    assert f"**`{Settings().demo_password}`**" in section
    for person in DEMO_PEOPLE:
        if person.email.startswith("buyer"):
            continue
        row = next(line for line in section.splitlines() if f"`{person.email}`" in line)
        assert person.display_name in row
        assert all(str(role) in row for role in person.roles)
    assert "`buyer20@liveshop.demo`" in section
    for shop in DEMO_SHOPS:
        assert f"`{shop.slug}`" in section and shop.owner_email in section
    n_products = sum(len(s.products) for s in DEMO_SHOPS)
    n_skus = sum(len(p.variants) for s in DEMO_SHOPS for p in s.products)
    assert f"{n_products} published products ({n_skus} SKUs" in section
