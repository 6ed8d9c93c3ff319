"""The account page's "Payment methods" over HTTP, on both databases: add a card (CSRF like
every form), make another the default, remove one; another buyer's card is a 404 and stays
as it was; the pay page pays with a saved card."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import CARD_DECLINED
from liveshop.orders.saved_cards import SavedCard
from tests.support import MakeActor
from tests.web.test_pages import KEY, csrf_of, make_product, page_login

NEXT_YEAR = str(datetime.now(UTC).year + 1)
CARD_ROW = re.compile(r'<li class="saved-card( is-default)?" id="card-(\d+)">')


def _form(page: httpx.Response, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_of(page),
        "card_number": "4242 4242 4242 4242",
        "exp_month": "12",
        "exp_year": NEXT_YEAR,
        "cvc": "123",
        **fields,
    }


async def _cards(db: Database) -> list[tuple[int, int, bool, str]]:
    async with db.session(deferred=True) as s:
        rows = await s.scalars(select(SavedCard).order_by(SavedCard.id))
        return [(c.id, c.buyer_id, c.is_default, c.last4) for c in rows]


async def test_add_make_default_and_remove_cards(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    buyer = await make_actor(Role.BUYER)
    await page_login(client, buyer)
    page = await client.get("/account")
    assert page.status_code == 200
    assert "Payment methods" in page.text and "No saved cards yet" in page.text

    # Without the form's CSRF value nothing is saved.
    forged = await client.post("/account/cards", data={**_form(page), "csrf_token": "x"})
    assert forged.status_code == 403
    assert await _cards(db) == []

    added = await client.post("/account/cards", data=_form(page))
    assert added.status_code == 303
    assert added.headers["location"] == "/account#payment-methods"
    page = await client.get("/account")
    assert "Visa •••• 4242 is saved. It is your default card." in page.text
    assert "Visa •••• 4242" in page.text and "Expires 12/" in page.text
    second = await client.post(
        "/account/cards", data=_form(page, card_number=CARD_DECLINED, make_default="true")
    )
    assert second.status_code == 303
    cards = await _cards(db)
    assert [(c[2], c[3]) for c in cards] == [(False, "4242"), (True, "0002")]
    first_id, second_id = cards[0][0], cards[1][0]
    page = await client.get("/account")
    assert [(m.group(2), bool(m.group(1))) for m in CARD_ROW.finditer(page.text)] == [
        (str(second_id), True),
        (str(first_id), False),
    ]

    made = await client.post(
        f"/account/cards/{first_id}/default", data={"csrf_token": csrf_of(page)}
    )
    assert made.status_code == 303
    assert [c[2] for c in await _cards(db)] == [True, False]
    removed = await client.post(
        f"/account/cards/{first_id}/delete", data={"csrf_token": csrf_of(page)}
    )
    assert removed.status_code == 303
    page = await client.get("/account")
    assert "Visa •••• 4242 is removed." in page.text
    assert await _cards(db) == [(second_id, buyer.id, True, "0002")]


async def test_bad_cards_change_nothing(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    await page_login(client, await make_actor(Role.BUYER))
    page = await client.get("/account")
    back = {"referer": "http://testserver/account"}
    for fields, shown in (
        ({"card_number": "4242 4242 4242 4241"}, "not a valid card number"),
        ({"card_number": "5555 5555 5555 4444"}, "test-mode sandbox"),
        ({"exp_year": "2001"}, "has expired"),
    ):
        resp = await client.post("/account/cards", data=_form(page, **fields), headers=back)
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"].startswith("/account")
        shown_page = await client.get(resp.headers["location"])
        assert shown_page.status_code == 200 and shown_page.text.count(shown) >= 1, shown
    for fields in (
        {"exp_month": "abc"},
        {"exp_month": "13"},
        {"exp_year": str(2**70)},
        {"card_number": "4242\x004242"},  # refused by the form's own types (core/types)
    ):
        resp = await client.post("/account/cards", data=_form(page, **fields))
        assert resp.status_code in (303, 422), resp.text
    assert await _cards(db) == []


async def test_another_buyers_card_is_not_found(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    owner = await make_actor(Role.BUYER)
    await page_login(client, owner)
    page = await client.get("/account")
    await client.post("/account/cards", data=_form(page))
    [(card_id, _, _, _)] = await _cards(db)
    client.cookies.clear()
    await page_login(client, await make_actor(Role.BUYER))
    page = await client.get("/account")
    assert "No saved cards yet" in page.text and f"card-{card_id}" not in page.text
    for action in ("default", "delete"):
        resp = await client.post(
            f"/account/cards/{card_id}/{action}", data={"csrf_token": csrf_of(page)}
        )
        assert resp.status_code == 404
    assert await _cards(db) == [(card_id, owner.id, True, "4242")]


async def test_only_buyers_keep_cards(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    await page_login(client, await make_actor(Role.SELLER))
    page = await client.get("/account")
    assert "Payment methods are for buyer accounts" in page.text
    resp = await client.post("/account/cards", data=_form(page))
    assert resp.status_code == 403


async def test_the_pay_page_pays_with_a_saved_card(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    product_id, sku_id = await make_product(db, seller, "saved")
    other = await make_actor(Role.BUYER)
    await page_login(client, other)
    page = await client.get("/account")
    await client.post("/account/cards", data=_form(page))
    [(theirs, _, _, _)] = await _cards(db)
    client.cookies.clear()

    await page_login(client, await make_actor(Role.BUYER))
    page = await client.get("/account")
    await client.post("/account/cards", data=_form(page))
    mine = (await _cards(db))[-1][0]
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
            "quantity": "1",
        },
    )
    pay_url = placed.headers["location"]
    pay_page = await client.get(pay_url)
    assert f'value="card-{mine}" checked' in pay_page.text and "Visa •••• 4242" in pay_page.text
    stolen = await client.post(
        pay_url, data={"csrf_token": csrf_of(pay_page), "pay_with": f"card-{theirs}"}
    )
    assert stolen.status_code == 404
    paid = await client.post(
        pay_url,
        data={"csrf_token": csrf_of(pay_page), "pay_with": f"card-{mine}", "card_number": "x"},
    )
    assert paid.status_code == 303, paid.text
    async with db.session(deferred=True) as s:
        statuses = list(await s.scalars(select(Order.status)))
        assert statuses == ["paid"]
        assert await s.scalar(select(func.count()).select_from(SavedCard)) == 2
