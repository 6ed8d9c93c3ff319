"""Pages over HTTP on both databases: access, CSRF, idempotent buy-now, seller isolation."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.catalog import products as catalog_products
from liveshop.catalog import service as catalog
from liveshop.catalog.schemas import PriceIn, ProductIn, ShopIn, SkuIn
from liveshop.core.db import Database
from liveshop.inventory import service as inventory
from liveshop.orders import queries
from tests.support import Actor, MakeActor

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def page_login(client: httpx.AsyncClient, actor: Actor) -> None:
    """Sign in through the login form, so the client holds the page session cookie."""
    form = await client.get("/login")
    resp = await client.post(
        "/login",
        data={"email": actor.email, "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    assert resp.status_code == 303, resp.text
    assert "liveshop_session" in client.cookies


async def make_product(db: Database, owner: Actor, slug: str, units: int = 5) -> tuple[int, int]:
    """A published product with one SKU priced in GB and ``units`` in stock: (product, sku)."""
    async with db.session() as s:
        shop = await catalog.create_shop(
            s, owner_id=owner.id, data=ShopIn(name=slug.title(), slug=slug, home_market="GB")
        )
        product = await catalog_products.create_product(
            s,
            shop,
            ProductIn(
                title=f"{slug} mug",
                category="home",
                status="published",
                skus=[
                    SkuIn(
                        code=f"{slug}-1",
                        prices=[PriceIn(market="GB", currency="GBP", amount_minor=1250)],
                    )
                ],
            ),
        )
        sku_id = product.skus[0].id
        await inventory.receive(s, sku_id=sku_id, quantity=units, reason="test", actor_id=None)
        await s.commit()
        return product.id, sku_id


async def test_anonymous_visitors_are_sent_to_log_in(client: httpx.AsyncClient) -> None:
    for path in ("/cart", "/orders", "/seller", "/admin/users?role=seller", "/studio"):
        resp = await client.get(path)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/login?next=%2F"), resp.headers
    resp = await client.get("/admin/users?role=seller")
    assert resp.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Frole%3Dseller"


async def test_wrong_role_gets_a_403_page(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    await page_login(client, await make_actor(Role.BUYER))
    for path in ("/seller", "/admin", "/studio"):
        resp = await client.get(path)
        assert resp.status_code == 403, path
        assert resp.headers["content-type"].startswith("text/html")
        assert "this needs one of the roles" in resp.text


async def test_every_page_renders_for_its_role(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    admin = await make_actor(Role.ADMIN, Role.SELLER, Role.BUYER, Role.CREATOR)
    product_id, _ = await make_product(db, admin, "atlas")
    await page_login(client, admin)
    for path in (
        "/",
        "/?q=mug",
        f"/p/{product_id}",
        "/cart",
        "/orders",
        "/seller",
        "/seller/orders",
        "/seller/products",
        "/admin",
        "/admin?rates=VN",
        "/admin/users",
        "/studio",
        "/login",
    ):
        resp = await client.get(path, follow_redirects=True)
        assert resp.status_code == 200, (path, resp.text[:300])
        assert "<main" in resp.text


async def test_form_posts_need_the_csrf_field(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database, session: AsyncSession
) -> None:
    seller = await make_actor(Role.SELLER)
    _, sku_id = await make_product(db, seller, "beacon")
    buyer = await make_actor(Role.BUYER)
    await page_login(client, buyer)
    form = {"sku_id": str(sku_id), "market": "GB", "quantity": "2"}

    refused = await client.post("/cart/add", data=form)
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    forged = await client.post("/cart/add", data={**form, "csrf_token": "f" * 40})
    assert forged.status_code == 403
    # The API's header does not stand in for the form field on pages.
    header_only = await client.post(
        "/cart/add", data=form, headers={"X-CSRF-Token": client.cookies["liveshop_csrf"]}
    )
    assert header_only.status_code == 403
    assert "beacon mug" not in (await client.get("/cart")).text

    page = await client.get("/")
    accepted = await client.post("/cart/add", data={**form, "csrf_token": csrf_of(page)})
    assert accepted.status_code == 303
    assert "beacon mug" in (await client.get("/cart")).text


async def test_buy_now_twice_with_one_form_makes_one_order(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database, session: AsyncSession
) -> None:
    seller = await make_actor(Role.SELLER)
    product_id, sku_id = await make_product(db, seller, "comet", units=3)
    buyer = await make_actor(Role.BUYER)
    await page_login(client, buyer)
    page = await client.get(f"/p/{product_id}")
    key = KEY.search(page.text)
    assert key is not None
    form = {
        "csrf_token": csrf_of(page),
        "idempotency_key": key.group(1),
        "market": "GB",
        "sku_id": str(sku_id),
        "quantity": "1",
    }
    first = await client.post("/buy", data=form)
    second = await client.post("/buy", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    orders, total = await queries.list_orders(session, buyer_id=buyer.id)
    assert total == 1
    order_id = orders[0].id
    stock = await inventory.stock_summary(session, sku_id)
    assert (stock.available, stock.held) == (2, 1)

    pay_page = await client.get(first.headers["location"])
    assert "TEST MODE" in pay_page.text
    paid = await client.post(
        first.headers["location"],
        data={"csrf_token": csrf_of(pay_page), "card_number": "4242 4242 4242 4242"},
    )
    assert paid.status_code == 303
    assert paid.headers["location"] == f"/orders/{order_id}"
    await session.rollback()
    order, _ = await queries.visible_order(session, _principal(buyer), order_id)
    assert order.status == "paid"


def _principal(actor: Actor) -> Any:
    from liveshop.accounts.service import Principal

    return Principal(user_id=actor.id, roles=actor.roles, token_id=0)


async def test_declined_card_goes_back_to_the_pay_page_with_the_reason(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    product_id, sku_id = await make_product(db, seller, "delta")
    await page_login(client, await make_actor(Role.BUYER))
    page = await client.get(f"/p/{product_id}")
    key = KEY.search(page.text)
    assert key is not None
    placed = await client.post(
        "/buy",
        data={
            "csrf_token": csrf_of(page),
            "idempotency_key": key.group(1),
            "market": "GB",
            "sku_id": str(sku_id),
        },
    )
    pay_url = placed.headers["location"]
    declined = await client.post(
        pay_url,
        data={"csrf_token": csrf_of(page), "card_number": "4000 0000 0000 0002"},
        headers={"Referer": f"http://testserver{pay_url}"},
    )
    assert declined.status_code == 303
    assert declined.headers["location"] == pay_url
    again = await client.get(pay_url)
    assert "flash-error" in again.text
    assert "TEST MODE" in again.text  # still unpaid, still payable


async def test_a_seller_cannot_act_on_another_shops_order(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database, session: AsyncSession
) -> None:
    owner = await make_actor(Role.SELLER)
    product_id, sku_id = await make_product(db, owner, "ember")
    buyer = await make_actor(Role.BUYER)
    await page_login(client, buyer)
    page = await client.get(f"/p/{product_id}")
    key = KEY.search(page.text)
    assert key is not None
    placed = await client.post(
        "/buy",
        data={
            "csrf_token": csrf_of(page),
            "idempotency_key": key.group(1),
            "market": "GB",
            "sku_id": str(sku_id),
        },
    )
    order_id = int(placed.headers["location"].split("/")[2])

    client.cookies.clear()
    await page_login(client, await make_actor(Role.SELLER))
    page = await client.get("/seller")
    resp = await client.post(
        f"/seller/orders/{order_id}/cancel", data={"csrf_token": csrf_of(page)}
    )
    assert resp.status_code == 404
    assert (await client.get(f"/seller/orders/{order_id}")).status_code == 404
    orders, _ = await queries.list_orders(session, buyer_id=buyer.id)
    assert orders[0].status == "pending_payment"


async def test_login_refuses_redirects_off_site(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    actor = await make_actor(Role.BUYER)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        form = await client.get("/login")
        resp = await client.post(
            "/login",
            data={
                "email": actor.email,
                "password": PASSWORD,
                "csrf_token": csrf_of(form),
                "next": target,
            },
        )
        assert resp.headers["location"] == "/", target


async def test_wrong_password_goes_back_to_the_form(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    actor = await make_actor(Role.BUYER)
    form = await client.get("/login")
    resp = await client.post(
        "/login",
        data={"email": actor.email, "password": "nope", "csrf_token": csrf_of(form)},
    )
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login?next=%2F&email=")
    assert "liveshop_session" not in client.cookies
    again = await client.get(resp.headers["location"])
    assert "E-mail or password is wrong." in again.text
