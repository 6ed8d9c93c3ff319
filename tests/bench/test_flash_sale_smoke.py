"""A small run of ``liveshop bench flash-sale`` on both databases (the full run is in
BENCHMARKS.md, never in the test suite)."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from liveshop.bench.flash_sale import run_flash_sale
from liveshop.cli import app
from tests.conftest import service_missing

KEYS = {
    "orders",
    "oversold",
    "stock_left",
    "reservations_per_s",
    "p50_ms",
    "p99_ms",
    "ledger_balanced",
}


def test_cli_json_has_exactly_the_documented_keys() -> None:
    result = CliRunner().invoke(
        app, ["bench", "flash-sale", "--db", "sqlite", "--buyers", "30", "--stock", "8", "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == KEYS
    assert (figures["orders"], figures["oversold"], figures["stock_left"]) == (8, 0, 0)
    assert figures["ledger_balanced"] is True


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_flash_sale_never_oversells(kind: str) -> None:
    pg = os.environ.get("LIVESHOP_TEST_POSTGRES_URL")
    if kind == "postgres" and not pg:
        service_missing("PostgreSQL", "LIVESHOP_TEST_POSTGRES_URL is not set")
    result = await run_flash_sale(
        db_kind=kind, buyers=60, stock=15, concurrency=16, pg_admin_url=pg
    )
    assert (result.orders, result.oversold, result.stock_left) == (15, 0, 0)
    assert result.ledger_balanced
    assert result.p99_ms >= result.p50_ms > 0
    baseline = await run_flash_sale(
        db_kind=kind, buyers=20, stock=5, concurrency=8, naive=True, pg_admin_url=pg
    )
    assert baseline.orders >= 5 and baseline.ledger_balanced
