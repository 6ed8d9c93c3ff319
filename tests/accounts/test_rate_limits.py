"""Brute force and cheap abuse get 429 problem+json with Retry-After, on the embedded
(in-process) counters and on Redis (shared by every node)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings, get_settings
from tests.conftest import redis_broker_url
from tests.support import MakeActor, app_client, assert_problem

PASSWORD = "s3cret-pass"


@pytest.fixture(params=["memory", "redis"])
async def limited(request: pytest.FixtureRequest, db: Database) -> AsyncIterator[Any]:
    url = "memory://"
    if request.param == "redis":
        url = redis_broker_url(request.getfixturevalue("redis_url"))
    async with app_client(db, broker_url=url) as c:
        yield c


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_the_sixth_failed_login_in_a_minute_gets_429(limited: httpx.AsyncClient) -> None:
    made = await limited.post(
        "/api/v1/auth/signup",
        json={"email": "ann@example.com", "password": PASSWORD, "display_name": "Ann"},
    )
    assert made.status_code == 201, made.text
    assert (await _login(limited, "ann@example.com", PASSWORD)).status_code == 200
    limited.cookies.clear()  # a successful log-in does not count
    for _ in range(5):
        assert_problem(await _login(limited, "ann@example.com", "wrong"), 401, "bad-credentials")
    sixth = await _login(limited, "ANN@example.com", "wrong")
    body = assert_problem(sixth, 429, "rate-limited")
    assert 1 <= int(sixth.headers["Retry-After"]) <= 60
    assert body["retry_after_s"] == int(sixth.headers["Retry-After"])
    # Locked for the window, even with the right password; other accounts are not.
    assert_problem(await _login(limited, "ann@example.com", PASSWORD), 429, "rate-limited")
    assert "liveshop_session" not in limited.cookies
    assert_problem(await _login(limited, "bob@example.com", "wrong"), 401, "bad-credentials")


async def test_failed_logins_across_accounts_are_limited_per_address(
    limited: httpx.AsyncClient,
) -> None:
    for n in range(20):
        assert_problem(await _login(limited, f"u{n}@example.com", "wrong"), 401)
    assert_problem(await _login(limited, "u99@example.com", "wrong"), 429, "rate-limited")


async def test_signups_per_address_are_limited(limited: httpx.AsyncClient) -> None:
    for n in range(10):
        resp = await limited.post(
            "/api/v1/auth/signup",
            json={"email": f"s{n}@example.com", "password": PASSWORD, "display_name": "S"},
        )
        assert resp.status_code == 201, resp.text
    resp = await limited.post(
        "/api/v1/auth/signup",
        json={"email": "s10@example.com", "password": PASSWORD, "display_name": "S"},
    )
    assert "Retry-After" in resp.headers
    assert_problem(resp, 429, "rate-limited")


async def test_checkouts_per_buyer_are_limited(db: Database, make_actor: MakeActor) -> None:
    settings = get_settings().model_copy(update={"rate_limit_checkout": "2/60"})
    app = create_app(settings, database=db)
    buyer, other = await make_actor(), await make_actor()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def checkout(who: Any, n: int) -> httpx.Response:
            return await client.post(
                "/api/v1/checkout",
                json={"market": "GB", "lines": [{"sku_id": 999_999, "quantity": 1}]},
                headers={**who.headers, "Idempotency-Key": f"k{n}"},
            )

        for n in range(2):  # counted whatever the outcome (here: no such SKU)
            assert (await checkout(buyer, n)).status_code != 429
        refused = await checkout(buyer, 3)
        assert_problem(refused, 429, "rate-limited")
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await checkout(other, 4)).status_code != 429


def test_a_bad_limit_setting_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="count/seconds"):
        create_app(Settings(rate_limit_pay="lots"))


async def test_payments_per_buyer_are_limited_across_orders_and_claims(
    db: Database, make_actor: MakeActor
) -> None:
    settings = get_settings().model_copy(update={"rate_limit_pay": "2/60"})
    app = create_app(settings, database=db)
    buyer = await make_actor()
    card = {"card_number": "4242424242424242"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = await client.post("/api/v1/orders/999/pay", json=card, headers=buyer.headers)
        assert first.status_code == 404  # counted whatever the outcome
        claim = await client.post("/api/v1/live/claims/999/pay", json=card, headers=buyer.headers)
        assert claim.status_code != 429
        third = await client.post("/api/v1/orders/999/pay", json=card, headers=buyer.headers)
        assert_problem(third, 429, "rate-limited")
