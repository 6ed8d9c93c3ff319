from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from liveshop.accounts.models import Role
from liveshop.core.errors import Unprocessable
from liveshop.core.migrate import upgrade
from liveshop.markets import service
from liveshop.markets.reference import market_rules
from tests.support import MakeActor, assert_problem


async def test_reference_markets_with_iso_exponents(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/markets")
    assert resp.status_code == 200
    markets = {m["code"]: m for m in resp.json()}
    assert set(markets) == {"GB", "ID", "TH", "MY", "VN", "DE", "FR", "IT", "ES", "US"}
    assert (markets["GB"]["currency"], markets["GB"]["currency_exponent"]) == ("GBP", 2)
    assert (markets["VN"]["currency"], markets["VN"]["currency_exponent"]) == ("VND", 0)
    assert markets["GB"]["tax_rate_bp"] == 2000 and markets["GB"]["prices_include_tax"]
    assert markets["US"]["prices_include_tax"] is False
    live = {c for c, m in markets.items() if m["launch_state"] == "live"}
    assert live == {"GB", "ID", "VN"}
    assert {c for c, m in markets.items() if m["sellable"]} == {"GB", "ID", "VN", "TH", "MY"}
    assert all(markets[c]["launch_state"] == "planned" for c in ("DE", "FR", "IT", "ES", "US"))


async def test_unknown_market_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/markets/XX"), 404, "unknown-market")


async def test_launch_state_machine(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    admin = await make_actor(Role.ADMIN)

    async def move(code: str, state: str) -> httpx.Response:
        return await client.post(
            f"/api/v1/markets/{code}/launch-state",
            json={"state": state, "reason": "test"},
            headers=admin.headers,
        )

    assert_problem(await move("DE", "live"), 409, "illegal-launch-transition")
    assert (await move("DE", "pilot")).json()["launch_state"] == "pilot"
    assert (await move("DE", "live")).json()["sellable"] is True
    assert (await move("DE", "paused")).json()["sellable"] is False
    assert_problem(await move("DE", "planned"), 409, "illegal-launch-transition")
    history = await client.get("/api/v1/markets/DE/launch-history", headers=admin.headers)
    assert [(e["from_state"], e["to_state"]) for e in history.json()] == [
        ("planned", "pilot"),
        ("pilot", "live"),
        ("live", "paused"),
    ]


async def test_only_admin_changes_markets(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    seller = await make_actor(Role.SELLER)
    resp = await client.post(
        "/api/v1/markets/DE/launch-state", json={"state": "pilot"}, headers=seller.headers
    )
    assert_problem(resp, 403, "wrong-role")
    resp = await client.patch("/api/v1/markets/GB", json={"tax_rate_bp": 0}, headers=seller.headers)
    assert_problem(resp, 403, "wrong-role")
    assert (await client.get("/api/v1/markets/GB")).json()["tax_rate_bp"] == 2000


async def test_rates_validated(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    admin = await make_actor(Role.ADMIN)
    for body in ({"tax_rate_bp": -1}, {"platform_commission_bp": 10001}, {"tax": 5}):
        resp = await client.patch("/api/v1/markets/GB", json=body, headers=admin.headers)
        assert_problem(resp, 422, "validation-error")
    ok = await client.patch(
        "/api/v1/markets/GB", json={"platform_commission_bp": 800}, headers=admin.headers
    )
    assert ok.json()["platform_commission_bp"] == 800


async def test_nothing_sold_into_closed_market(session: AsyncSession) -> None:
    assert (await service.ensure_sellable(session, "GB")).currency == "GBP"
    assert (await service.ensure_sellable(session, "th")).code == "TH"
    with pytest.raises(Unprocessable) as exc:
        await service.ensure_sellable(session, "DE")
    assert exc.value.code == "market-not-open"
    with pytest.raises(Unprocessable) as exc:
        await service.ensure_sellable(session, "ZZ")
    assert exc.value.code == "unknown-market"


async def test_tax_breakdown(session: AsyncSession) -> None:
    gb = await service.get_market(session, "GB")
    split = service.tax_breakdown(gb, 1200)  # £12.00 inclusive of 20 % VAT
    assert (split.net_minor, split.tax_minor, split.gross_minor) == (1000, 200, 1200)
    us = await service.get_market(session, "US")
    us.tax_rate_bp = 800
    split = service.tax_breakdown(us, 1000)  # $10.00 before 8 % sales tax
    assert (split.net_minor, split.tax_minor, split.gross_minor) == (1000, 80, 1080)
    assert service.display_price(gb, 129900) == "£1,299.00"
    vn = await service.get_market(session, "VN")
    assert service.display_price(vn, 259000).replace("\xa0", " ") == "259.000 ₫"


async def test_category_commission_overrides_default(
    client: httpx.AsyncClient, session: AsyncSession, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    gb = await service.get_market(session, "GB")
    assert await service.platform_commission_bp(session, gb, "beauty") == 500
    resp = await client.put(
        "/api/v1/markets/GB/commissions/beauty", json={"rate_bp": 800}, headers=admin.headers
    )
    assert resp.status_code == 200, resp.text
    await session.rollback()  # a new transaction sees the API's write (SQLite WAL snapshot)
    gb = await service.get_market(session, "GB")
    assert await service.platform_commission_bp(session, gb, "beauty") == 800
    assert await service.platform_commission_bp(session, gb, "fashion") == 500
    listed = await client.get("/api/v1/markets/GB/commissions")
    assert [(c["category"], c["rate_bp"]) for c in listed.json()] == [("beauty", 800)]

    seller = await make_actor(Role.SELLER)
    refused = await client.put(
        "/api/v1/markets/GB/commissions/beauty", json={"rate_bp": 0}, headers=seller.headers
    )
    assert_problem(refused, 403, "wrong-role")
    bad = await client.put(
        "/api/v1/markets/GB/commissions/beauty", json={"rate_bp": 10001}, headers=admin.headers
    )
    assert_problem(bad, 422, "validation-error")


async def test_return_window_and_shipping_fee_per_market(
    client: httpx.AsyncClient, session: AsyncSession, make_actor: MakeActor
) -> None:
    markets = {m["code"]: m for m in (await client.get("/api/v1/markets")).json()}
    rules = {c: (m["return_window_days"], m["shipping_fee_minor"]) for c, m in markets.items()}
    assert rules == {
        "GB": (14, 300),  # Consumer Contracts Regulations: 14 days; £3.00 with VAT
        "DE": (14, 490), "FR": (14, 490), "IT": (14, 490), "ES": (14, 490),  # EU: 14 days
        "ID": (7, 1_000_000), "TH": (7, 4_000), "MY": (7, 490), "VN": (7, 20_000),
        "US": (30, 599),
    }  # fmt: skip
    assert await service.return_window(session, "vn") == timedelta(days=7)
    assert (await service.return_windows(session))["GB"] == timedelta(days=14)
    gb = await service.get_market(session, "GB")
    split = service.shipping_breakdown(gb)
    assert (split.net_minor, split.tax_minor, split.gross_minor) == (250, 50, 300)

    admin, seller = await make_actor(Role.ADMIN), await make_actor(Role.SELLER)
    body = {"return_window_days": 21, "shipping_fee_minor": 350}
    assert_problem(await client.patch("/api/v1/markets/GB", json=body), 401)
    assert_problem(await client.patch("/api/v1/markets/GB", json=body, headers=seller.headers), 403)
    for bad in (
        {"return_window_days": -1},
        {"return_window_days": 366},
        {"shipping_fee_minor": -1},
        {"shipping_fee_minor": 10**12},
        {"shipping_fee_minor": 2.5},
    ):
        resp = await client.patch("/api/v1/markets/GB", json=bad, headers=admin.headers)
        assert_problem(resp, 422, "validation-error")
    with pytest.raises(Unprocessable) as exc:  # the service refuses them too
        await service.update_rates(session, "GB", return_window_days=-3)
    assert exc.value.code == "bad-market-setting"
    await session.rollback()
    ok = await client.patch("/api/v1/markets/GB", json=body, headers=admin.headers)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["return_window_days"], ok.json()["shipping_fee_minor"]) == (21, 350)
    await session.rollback()
    assert await service.return_window(session, "GB") == timedelta(days=21)


def test_a_migrated_database_has_the_reference_rules(tmp_path: Path) -> None:
    """Migration 0009 gives existing markets the same rules a fresh load of the reference has."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)

    async def read() -> dict[str, tuple[int, int]]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT code, return_window_days, shipping_fee_minor FROM markets")
            )
            found = {code: (days, fee) for code, days, fee in rows.all()}
        await engine.dispose()
        return found

    assert asyncio.run(read()) == market_rules()
