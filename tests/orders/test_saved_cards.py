"""A buyer's saved cards (``/api/v1/me/cards``) and paying with one, on SQLite and PostgreSQL.

The provider keeps the card; liveshop keeps its token, brand, last four digits and expiry. A
saved sandbox card behaves exactly as its number: the decline numbers still decline. Another
buyer's card is never charged (404), and bad input changes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.orders import saved_cards
from liveshop.orders.models import Order, Payment
from liveshop.orders.payments.provider import CardDetails, CardToken, ChargeOutcome
from liveshop.orders.payments.sandbox import (
    CARD_DECLINED,
    CARD_INSUFFICIENT,
    CARD_SUCCEEDS,
    SandboxProvider,
)
from liveshop.orders.payments.sandbox_methods import SandboxPaymentMethod
from liveshop.orders.saved_cards import SavedCard
from liveshop.orders.status import OrderStatus
from tests.orders.conftest import MakeStore, checkout, trial_balance
from tests.support import Actor, MakeActor, assert_problem

CARDS = "/api/v1/me/cards"
NEXT_YEAR = datetime.now(UTC).year + 1


def card_body(number: str = CARD_SUCCEEDS, **extra: Any) -> dict[str, Any]:
    return {"card_number": number, "exp_month": 12, "exp_year": NEXT_YEAR, **extra}


async def save(
    client: httpx.AsyncClient, buyer: Actor, number: str = CARD_SUCCEEDS, **extra: Any
) -> dict[str, Any]:
    resp = await client.post(CARDS, json=card_body(number, **extra), headers=buyer.headers)
    assert resp.status_code == 201, resp.text
    card: dict[str, Any] = resp.json()
    return card


async def listed(client: httpx.AsyncClient, buyer: Actor) -> list[dict[str, Any]]:
    resp = await client.get(CARDS, headers=buyer.headers)
    assert resp.status_code == 200, resp.text
    cards: list[dict[str, Any]] = resp.json()
    return cards


async def placed_order(
    client: httpx.AsyncClient, buyer: Actor, sku_id: int, key: str
) -> dict[str, Any]:
    resp = await checkout(client, buyer, [{"sku_id": sku_id, "quantity": 1}], key=key)
    assert resp.status_code == 201, resp.text
    order: dict[str, Any] = resp.json()
    return order


async def count(db: Database, model: Any) -> int:
    async with db.session(deferred=True) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def stored_cards(db: Database) -> list[SavedCard]:
    async with db.session(deferred=True) as s:
        return list(await s.scalars(select(SavedCard).order_by(SavedCard.id)))


# -- saving, listing, default, removing ------------------------------------------------------
async def test_the_first_card_is_the_default_and_only_its_token_is_kept(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    assert await listed(client, buyer) == []

    first = await save(client, buyer, "4242 4242 4242 4242", cvc="123")
    assert {k: first[k] for k in ("brand", "brand_name", "last4", "label", "is_default")} == {
        "brand": "visa",
        "brand_name": "Visa",
        "last4": "4242",
        "label": "Visa •••• 4242",
        "is_default": True,
    }
    assert (first["exp_month"], first["exp_year"], first["expired"]) == (12, NEXT_YEAR, False)
    assert "card_number" not in first and CARD_SUCCEEDS not in str(first)

    second = await save(client, buyer, CARD_DECLINED)
    assert second["is_default"] is False and second["last4"] == "0002"
    assert [c["id"] for c in await listed(client, buyer)] == [first["id"], second["id"]]

    # liveshop's table holds the provider's token and no number; the sandbox holds the number.
    rows = await stored_cards(db)
    assert [r.provider_token[:3] for r in rows] == ["pm_", "pm_"]
    for row in rows:
        assert CARD_SUCCEEDS not in repr(vars(row)) and CARD_DECLINED not in repr(vars(row))
    async with db.session(deferred=True) as s:
        kept = await s.get(SandboxPaymentMethod, rows[0].provider_token)
        assert kept is not None and kept.number == CARD_SUCCEEDS
        assert kept.customer == saved_cards.customer_of(buyer.id)


async def test_make_default_and_remove_the_default(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    a = await save(client, buyer)
    b = await save(client, buyer, CARD_DECLINED)
    c = await save(client, buyer, CARD_INSUFFICIENT, make_default=True)
    assert c["is_default"] is True
    assert [(x["id"], x["is_default"]) for x in await listed(client, buyer)] == [
        (c["id"], True),
        (b["id"], False),
        (a["id"], False),
    ]

    made = await client.post(f"{CARDS}/{a['id']}/default", headers=buyer.headers)
    assert made.status_code == 200, made.text
    assert made.json()["is_default"] is True
    again = await client.post(f"{CARDS}/{a['id']}/default", headers=buyer.headers)
    assert again.status_code == 200 and again.json()["is_default"] is True
    assert [x["id"] for x in await listed(client, buyer) if x["is_default"]] == [a["id"]]

    # Removing the default makes the newest card left the default; the provider forgets it.
    gone = await client.delete(f"{CARDS}/{a['id']}", headers=buyer.headers)
    assert gone.status_code == 204, gone.text
    assert [(x["id"], x["is_default"]) for x in await listed(client, buyer)] == [
        (c["id"], True),
        (b["id"], False),
    ]
    assert await count(db, SandboxPaymentMethod) == 2
    assert_problem(await client.delete(f"{CARDS}/{a['id']}", headers=buyer.headers), 404)

    for card in (b, c):
        resp = await client.delete(f"{CARDS}/{card['id']}", headers=buyer.headers)
        assert resp.status_code == 204
    assert await listed(client, buyer) == []
    assert await count(db, SandboxPaymentMethod) == 0


async def test_another_buyers_card_is_not_found_and_never_charged(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_store: MakeStore
) -> None:
    owner, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    card = await save(client, owner)
    store = await make_store()
    order = await placed_order(client, other, store.sku_id, "theirs-1")

    assert await listed(client, other) == []
    url = f"{CARDS}/{card['id']}"
    assert_problem(await client.delete(url, headers=other.headers), 404, "saved-card-not-found")
    assert_problem(
        await client.post(f"{url}/default", headers=other.headers), 404, "saved-card-not-found"
    )
    paid = await client.post(
        f"/api/v1/orders/{order['id']}/pay",
        json={"saved_card_id": card["id"]},
        headers=other.headers,
    )
    assert_problem(paid, 404, "saved-card-not-found")
    assert await count(db, Payment) == 0
    got = await client.get(f"/api/v1/orders/{order['id']}", headers=other.headers)
    assert got.json()["status"] == OrderStatus.PENDING_PAYMENT
    # The owner's card is untouched.
    assert [(c["id"], c["is_default"]) for c in await listed(client, owner)] == [(card["id"], True)]


async def test_only_buyers_have_cards(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    seller = await make_actor(Role.SELLER)
    assert_problem(await client.get(CARDS, headers=seller.headers), 403, "wrong-role")
    assert_problem(await client.post(CARDS, json=card_body(), headers=seller.headers), 403)
    assert_problem(await client.get(CARDS), 401)


# -- paying with a saved card -----------------------------------------------------------------
async def test_paying_an_order_with_a_saved_card_end_to_end(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_store: MakeStore
) -> None:
    buyer = await make_actor(Role.BUYER)
    store = await make_store()
    card = await save(client, buyer)

    first = await placed_order(client, buyer, store.sku_id, "saved-1")
    paid = await client.post(
        f"/api/v1/orders/{first['id']}/pay",
        json={"saved_card_id": card["id"]},
        headers=buyer.headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == OrderStatus.PAID

    second = await placed_order(client, buyer, store.sku_id, "saved-2")
    paid = await client.post(
        f"/api/v1/orders/{second['id']}/pay",
        json={"use_default_card": True},
        headers=buyer.headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == OrderStatus.PAID

    async with db.session(deferred=True) as s:
        payments = list(await s.scalars(select(Payment).order_by(Payment.id)))
    assert [(p.status, p.card_last4, p.amount_minor) for p in payments] == [
        ("succeeded", "4242", first["total_minor"]),
        ("succeeded", "4242", second["total_minor"]),
    ]
    balance = await trial_balance(db)
    assert sum(balance.values()) == 0
    # Paying again is a no-op (never a second charge).
    again = await client.post(
        f"/api/v1/orders/{first['id']}/pay", json={"use_default_card": True}, headers=buyer.headers
    )
    assert again.status_code == 200 and again.json()["status"] == OrderStatus.PAID
    assert await count(db, Payment) == 2


@pytest.mark.parametrize(
    ("number", "decline"), [(CARD_DECLINED, "card_declined"), (CARD_INSUFFICIENT, None)]
)
async def test_a_saved_decline_card_declines_like_its_number(
    client: httpx.AsyncClient,
    db: Database,
    make_actor: MakeActor,
    make_store: MakeStore,
    number: str,
    decline: str | None,
) -> None:
    buyer = await make_actor(Role.BUYER)
    store = await make_store()
    card = await save(client, buyer, number)
    order = await placed_order(client, buyer, store.sku_id, "declined-1")
    resp = await client.post(
        f"/api/v1/orders/{order['id']}/pay",
        json={"saved_card_id": card["id"]},
        headers=buyer.headers,
    )
    body = assert_problem(resp, 402, "payment-declined")
    assert body["order_id"] == order["id"]
    async with db.session(deferred=True) as s:
        payment = await s.scalar(select(Payment))
        assert payment is not None and payment.status == "failed"
        assert payment.failure_code == (decline or "insufficient_funds")
        status = await s.scalar(select(Order.status).where(Order.id == order["id"]))
    assert status == OrderStatus.PENDING_PAYMENT
    # The order can still be paid with another card.
    ok = await client.post(
        f"/api/v1/orders/{order['id']}/pay",
        json={"card_number": CARD_SUCCEEDS},
        headers=buyer.headers,
    )
    assert ok.status_code == 200 and ok.json()["status"] == OrderStatus.PAID


async def test_choosing_how_to_pay(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor, make_store: MakeStore
) -> None:
    buyer = await make_actor(Role.BUYER)
    store = await make_store()
    order = await placed_order(client, buyer, store.sku_id, "choose-1")
    url = f"/api/v1/orders/{order['id']}/pay"
    no_card = await client.post(url, json={"use_default_card": True}, headers=buyer.headers)
    assert_problem(no_card, 409, "no-default-card")
    assert_problem(await client.post(url, json={}, headers=buyer.headers), 422)
    card = await save(client, buyer)
    for body in (
        {"card_number": CARD_SUCCEEDS, "saved_card_id": card["id"]},
        {"card_number": CARD_SUCCEEDS, "use_default_card": True},
        {"saved_card_id": card["id"], "use_default_card": True},
        {"saved_card_id": card["id"], "cvc": "123"},
    ):
        resp = await client.post(url, json=body, headers=buyer.headers)
        assert_problem(resp, 422, "payment-method-ambiguous")
    missing = await client.post(url, json={"saved_card_id": 999_999}, headers=buyer.headers)
    assert_problem(missing, 404, "saved-card-not-found")
    assert await count(db, Payment) == 0


# -- bad input --------------------------------------------------------------------------------
BAD_CARDS: list[tuple[dict[str, Any], str | None]] = [
    ({"card_number": 4242424242424242, "exp_month": 12, "exp_year": NEXT_YEAR}, None),
    ({**card_body(), "exp_month": "12"}, None),
    ({**card_body(), "exp_year": 2.0e3}, None),
    ({**card_body(), "exp_month": 13}, None),
    ({**card_body(), "exp_year": 2**70}, None),
    ({**card_body(), "make_default": "yes"}, None),
    ({**card_body(), "make_default": 1}, None),
    ({**card_body(), "card_number": "4242424242424242\x00"}, None),
    ({**card_body(), "cvc": "12\x003"}, None),
    ({**card_body(), "nickname": "mine"}, None),
    ({"card_number": CARD_SUCCEEDS}, None),
    (card_body("4242424242424241"), "invalid-card"),
    (card_body("5555555555554444"), "live-card-in-test-mode"),
    ({**card_body(), "exp_year": 2001}, "card-expired"),
]


@pytest.mark.parametrize(("body", "code"), BAD_CARDS)
async def test_a_bad_card_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient,
    db: Database,
    make_actor: MakeActor,
    body: dict[str, Any],
    code: str | None,
) -> None:
    buyer = await make_actor(Role.BUYER)
    resp = await client.post(CARDS, json=body, headers=buyer.headers)
    assert_problem(resp, 422, code or "validation-error")
    assert await count(db, SavedCard) == 0
    assert await count(db, SandboxPaymentMethod) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"saved_card_id": "1"},
        {"saved_card_id": 2**70},
        {"saved_card_id": 0},
        {"saved_card_id": 1.5},
        {"use_default_card": "true"},
        {"use_default_card": 1},
        {"card_number": "4242\x004242 4242 4242"},
    ],
)
async def test_bad_pay_input_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    make_actor: MakeActor,
    make_store: MakeStore,
    body: dict[str, Any],
) -> None:
    buyer = await make_actor(Role.BUYER)
    store = await make_store()
    await save(client, buyer)
    order = await placed_order(client, buyer, store.sku_id, "bad-pay")
    resp = await client.post(f"/api/v1/orders/{order['id']}/pay", json=body, headers=buyer.headers)
    assert_problem(resp, 422, "validation-error")
    assert await count(db, Payment) == 0


async def test_bad_card_ids_in_the_path(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    card = await save(client, buyer)
    for bad in ("0", str(2**70), "abc", "1.5", "-1"):
        assert_problem(await client.delete(f"{CARDS}/{bad}", headers=buyer.headers), 422)
        resp = await client.post(f"{CARDS}/{bad}/default", headers=buyer.headers)
        assert_problem(resp, 422)
    assert [c["id"] for c in await listed(client, buyer)] == [card["id"]]


# -- limits and concurrency -------------------------------------------------------------------
async def test_at_most_ten_cards(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    for _ in range(saved_cards.MAX_CARDS):
        await save(client, buyer)
    resp = await client.post(CARDS, json=card_body(), headers=buyer.headers)
    assert_problem(resp, 409, "too-many-cards")
    assert await count(db, SavedCard) == saved_cards.MAX_CARDS
    assert await count(db, SandboxPaymentMethod) == saved_cards.MAX_CARDS


async def test_two_first_cards_at_once_make_one_default(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    answers = await asyncio.gather(
        *(client.post(CARDS, json=card_body(), headers=buyer.headers) for _ in range(4))
    )
    assert [r.status_code for r in answers] == [201] * 4
    assert sum(r.json()["is_default"] for r in answers) == 1
    assert sum(c["is_default"] for c in await listed(client, buyer)) == 1
    ids = [c["id"] for c in await listed(client, buyer)]
    flips = await asyncio.gather(
        *(client.post(f"{CARDS}/{i}/default", headers=buyer.headers) for i in ids)
    )
    assert [r.status_code for r in flips] == [200] * 4
    assert sum(c["is_default"] for c in await listed(client, buyer)) == 1


# -- the provider ---------------------------------------------------------------------------
async def test_the_sandbox_keeps_saved_cards_across_a_restart(db: Database) -> None:
    provider = SandboxProvider("s", delay_s=-1, db=db)
    saved = await provider.save_card(
        CardDetails(CARD_SUCCEEDS, 1, NEXT_YEAR), customer="liveshop-buyer-1"
    )
    assert (saved.brand, saved.last4, saved.exp_month) == ("visa", "4242", 1)
    restarted = SandboxProvider("s", delay_s=-1, db=db)
    token = CardToken(saved.token, saved.last4, "liveshop-buyer-1")
    result = await restarted.authorize(
        amount_minor=1000, currency="GBP", card=token, reference="t", idempotency_key="k1"
    )
    assert result.outcome is ChargeOutcome.SUCCEEDED
    # Someone else presenting the token: the provider does not know it for them.
    with pytest.raises(Exception, match="not on file"):
        await restarted.authorize(
            amount_minor=1000,
            currency="GBP",
            card=CardToken(saved.token, saved.last4, "liveshop-buyer-2"),
            reference="t",
            idempotency_key="k2",
        )
    await restarted.forget_card(saved.token)
    with pytest.raises(Exception, match="not on file"):
        await restarted.authorize(
            amount_minor=1000, currency="GBP", card=token, reference="t", idempotency_key="k3"
        )


async def test_a_saved_card_past_its_expiry_is_declined(db: Database) -> None:
    provider = SandboxProvider("s", delay_s=-1, db=db)
    saved = await provider.save_card(
        CardDetails(CARD_SUCCEEDS, 12, NEXT_YEAR), customer="liveshop-buyer-1"
    )
    async with db.session() as s:  # time passes: the card's expiry is now behind us
        row = await s.get(SandboxPaymentMethod, saved.token)
        assert row is not None
        row.exp_year = 2001
        await s.commit()
    result = await provider.authorize(
        amount_minor=1000,
        currency="GBP",
        card=CardToken(saved.token, saved.last4, "liveshop-buyer-1"),
        reference="t",
        idempotency_key="k-exp",
    )
    assert (result.outcome, result.failure_code) == (ChargeOutcome.FAILED, "expired_card")


async def test_the_database_holds_at_most_one_default_per_buyer(
    db: Database, make_actor: MakeActor
) -> None:
    """The partial unique index of migration 0018, on each engine."""
    buyer = await make_actor(Role.BUYER)

    def card(token: str, *, default: bool) -> SavedCard:
        return SavedCard(
            buyer_id=buyer.id,
            provider="sandbox",
            provider_token=token,
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=NEXT_YEAR,
            is_default=default,
        )

    async with db.session() as s:
        s.add_all([card("pm_a", default=True), card("pm_b", default=False)])
        await s.commit()
    async with db.session() as s:
        s.add(card("pm_c", default=True))
        with pytest.raises(IntegrityError):
            await s.commit()
    assert [(c.provider_token, c.is_default) for c in await stored_cards(db)] == [
        ("pm_a", True),
        ("pm_b", False),
    ]
