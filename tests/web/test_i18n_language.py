"""The language a person is answered in (issue 21), on both databases: an Indonesian browser
in an Indonesian room, a Thai user's choice sticking across devices, problem+json in the
caller's language, and money and dates as the chosen locale writes them."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role, User
from liveshop.catalog.models import Shop, Sku
from liveshop.core import i18n
from liveshop.core.db import Database
from liveshop.web.templating import option_names
from tests.orders.conftest import add_sku
from tests.shopfront import start_session
from tests.support import MakeActor, assert_problem
from tests.web.test_live_pages import room_data
from tests.web.test_pages import csrf_of, page_login

INDONESIAN = {"accept-language": "id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"}
MESSAGES = re.compile(r'<script type="application/json" id="page-messages">(.*?)</script>', re.S)


def page_messages(page: httpx.Response) -> dict[str, Any]:
    found = MESSAGES.search(page.text)
    assert found, "the page has no messages for its scripts"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


async def test_indonesian_browser_sees_the_room_and_prices_in_indonesian(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR)
    room_id = await start_session(db, creator.id, market="ID")
    room = await client.get(f"/live/{room_id}", headers=INDONESIAN)
    assert room.status_code == 200
    assert '<html lang="id">' in room.text
    assert "Ketuk untuk suara" in room.text  # "Tap for sound"
    assert "Masuk untuk chat" in room.text  # "Log in to chat"
    # The room's script words come from the page, in Indonesian.
    words = page_messages(room)
    assert (words["buy"], words["sold_out"], words["log_in_to_buy"]) == (
        "Beli",
        "Habis",
        "Masuk untuk beli",
    )
    assert words["purchase_in"] == "Seseorang di %(city)s baru saja membeli %(what)s"
    # Money in the script: Intl's id-ID digits inside babel's sign, as the server writes it.
    assert room_data(room)["money"] == {
        "locale": "id-ID",
        "currency": "IDR",
        "exponent": 2,
        "prefix": "Rp",
        "suffix": "",
    }

    async with db.session() as s:
        s.add(Shop(slug="toko-batik", name="Toko Batik", home_market="ID"))
        await s.commit()
        shop_id = (await s.scalars(select(Shop.id).where(Shop.slug == "toko-batik"))).one()
    sku = await add_sku(
        db, shop_id, title="Batik", category="fashion", prices={"ID": ("IDR", 15_000_000)}, stock=5
    )
    async with db.session() as s:
        product_id = (await s.scalars(select(Sku.product_id).where(Sku.id == sku))).one()
    page = await client.get(f"/p/{product_id}?market=ID", headers=INDONESIAN)
    assert page.status_code == 200
    assert "Beli sekarang" in page.text and "Tambah ke keranjang" in page.text
    assert "Rp150.000,00" in page.text  # as Indonesians write it (IDR has 2 ISO digits)

    # The same page for a British browser in the same market: English words, rupiah kept.
    page = await client.get(f"/p/{product_id}?market=ID", headers={"accept-language": "en-GB"})
    assert "Buy now" in page.text and "Rp150.000,00" in page.text
    # A bare API call keeps the market's own formatting, whatever the language.
    api = await client.get(f"/api/v1/products/{product_id}")
    assert "Rp150.000,00" in api.text


async def test_thai_user_switches_in_the_header_and_it_sticks(
    db: Database, app: Any, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    await page_login(client, buyer)
    home = await client.get("/", headers={"accept-language": "en-GB"})
    assert '<html lang="en-GB">' in home.text and 'action="/language"' in home.text
    switched = await client.post(
        "/language",
        data={"language": "th", "next": "/orders", "csrf_token": csrf_of(home)},
        headers={"accept-language": "en-GB"},
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/orders"
    orders = await client.get("/orders", headers={"accept-language": "en-GB"})
    assert '<html lang="th">' in orders.text
    assert "คำสั่งซื้อของฉัน" in orders.text  # "My orders"
    async with db.session() as s:
        assert await s.scalar(select(User.language).where(User.id == buyer.id)) == "th"

    # Another device: an English browser, the same user signed in — still Thai.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as phone:
        await page_login(phone, buyer)
        page = await phone.get("/", headers={"accept-language": "en-US"})
        assert '<html lang="th">' in page.text

    # The API answers this user's errors in Thai too (bearer token, no header).
    missing = await client.get("/api/v1/live/sessions/987654", headers=buyer.headers)
    body = assert_problem(missing, 404, "live-session-not-found")
    assert body["title"] == "ไม่พบ"
    assert body["detail"] == "ไม่มีไลฟ์ 987654"

    # An unknown language changes nothing.
    bad = await client.post(
        "/language",
        data={"language": "xx", "next": "/", "csrf_token": csrf_of(orders)},
        headers={"referer": "http://testserver/orders"},
    )
    assert bad.status_code in (303, 422)
    async with db.session() as s:
        assert await s.scalar(select(User.language).where(User.id == buyer.id)) == "th"


async def test_problem_json_in_the_browsers_language(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/live/sessions/987654", headers=INDONESIAN)
    body = assert_problem(resp, 404, "live-session-not-found")
    assert (body["title"], body["detail"]) == ("Tidak ditemukan", "Siaran 987654 tidak ditemukan")
    resp = await client.get(
        "/api/v1/live/sessions/987654", headers={"accept-language": "vi-VN,vi;q=0.9"}
    )
    assert assert_problem(resp, 404)["title"] == "Không tìm thấy"
    # A viewer shopping in the UK market: Accept-Language picks among that market's languages.
    resp = await client.get(
        "/api/v1/live/sessions/987654",
        headers={"accept-language": "vi-VN", "cookie": "liveshop_market=GB"},
    )
    assert assert_problem(resp, 404)["title"] == "Not found"


def test_option_names_are_said_as_shoppers_say_them() -> None:
    with i18n.use_locale("th"):
        assert option_names({"size": "M", "colour": "Black"}) == "ไซซ์ & สี"
        assert option_names({"Nib_width": "F"}) == "Nib width"  # the seller's own, as written
        assert option_names({}) == "ตัวเลือก"
    with i18n.use_locale("de"):
        assert option_names({"length": "2 m"}) == "Länge"
