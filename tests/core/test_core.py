from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveshop.core.money import currency_exponent, format_minor, split_rate, tax_included
from tests.support import assert_problem


async def test_healthz_reports_database(client: httpx.AsyncClient, db_url: str) -> None:
    resp = await client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["database"] in ("sqlite", "postgresql")


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    resp = await client.get("/openapi.json")
    assert resp.status_code == 200
    spec = resp.json()
    assert "/api/v1/markets" in spec["paths"]
    assert "Problem" in spec["components"]["schemas"]


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nope"), 404, "not-found")
    assert_problem(await client.delete("/api/v1/markets"), 405, "method-not-allowed")


def test_iso_4217_exponents() -> None:
    assert currency_exponent("GBP") == 2
    assert currency_exponent("VND") == 0
    assert currency_exponent("KWD") == 3
    with pytest.raises(ValueError):
        currency_exponent("XYZ")
    # ISO 4217 says IDR has 2 decimals even where CLDR shows none: we follow ISO.
    assert currency_exponent("IDR") == 2
    assert format_minor(150000, "IDR", "id_ID").replace("\xa0", " ") == "Rp1.500,00"


@given(
    gross=st.integers(min_value=0, max_value=10**15), rate=st.integers(min_value=0, max_value=10000)
)
def test_tax_included_splits_exactly(gross: int, rate: int) -> None:
    tax = tax_included(gross, rate)
    net = gross - tax
    assert 0 <= tax <= gross
    # The tax is the rounded-half-up value of gross·r/(1+r): within half a minor unit.
    assert abs(tax * (10000 + rate) - gross * rate) * 2 <= 10000 + rate
    assert net + tax == gross


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    rate=st.integers(min_value=0, max_value=10000),
)
def test_split_rate_rounds_half_up(amount: int, rate: int) -> None:
    part = split_rate(amount, rate)
    assert abs(part * 10000 - amount * rate) * 2 <= 10000
    assert 0 <= part <= amount
