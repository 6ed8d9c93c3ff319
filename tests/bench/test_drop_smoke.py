"""A small ``liveshop bench drop`` on both databases and both transports: real server
processes, real load-generator processes, the claim and pay phases and the baselines, and
the database checks afterwards (the full run is in BENCHMARKS.md, never in the suite)."""

from __future__ import annotations

import os

import pytest

from liveshop.bench.drop import RESULT_KEYS, DropOptions
from liveshop.bench.drop.run import run_drop
from tests.conftest import service_missing

TAPPERS, STOCK = 40, 10


def _options(db: str, via: str, *, baselines: bool) -> DropOptions:
    opts = DropOptions(
        db=db,
        tappers=TAPPERS,
        stock=STOCK,
        via=via,
        workers=1,
        sold_out_window_s=0.3,
        phase_timeout_s=60,
        client_procs=1,
        floor=baselines,
        checkout=baselines,
        naive=baselines,
        placement="none",
    )
    if db == "postgres":
        pg = os.environ.get("LIVESHOP_TEST_POSTGRES_URL")
        redis = os.environ.get("LIVESHOP_TEST_REDIS_URL")
        if not pg:
            service_missing("PostgreSQL", "LIVESHOP_TEST_POSTGRES_URL is not set")
        if not redis:
            service_missing("Redis", "LIVESHOP_TEST_REDIS_URL is not set")
        opts.database_url, opts.redis_url, opts.workers = pg, str(redis), 2
    return opts


def _assert_sound(result: dict[str, object]) -> None:
    assert set(RESULT_KEYS) <= set(result)
    assert result["oversold"] == 0
    assert result["paid_orders"] == STOCK
    assert result["claims_held"] == STOCK
    assert result["stock_identity_ok"] is True
    assert result["ledger_balanced"] is True
    assert result["taps"] >= TAPPERS  # every buyer was answered (refused ones tapped again)
    assert isinstance(result["sellout_s"], float) and result["sellout_s"] > 0
    assert result["sold_out_per_s"] > 0 and result["paid_per_s"] > 0  # type: ignore[operator]
    assert 0 < result["claim_p50_ms"] <= result["claim_p99_ms"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("db", "via", "baselines"),
    [
        ("sqlite", "http", True),
        ("postgres", "http", True),
        ("sqlite", "ws", False),
        ("postgres", "ws", False),
    ],
)
def test_a_small_drop_sells_exactly_the_stock(db: str, via: str, baselines: bool) -> None:
    result = run_drop(_options(db, via, baselines=baselines))
    _assert_sound(result)
    phases = result["phases"]
    assert isinstance(phases, dict)
    if baselines:
        for key in (
            "baseline_floor_taps_per_s",
            "baseline_checkout_taps_per_s",
            "baseline_naive_taps_per_s",
        ):
            assert result[key] > 0, key  # type: ignore[operator]
        # Each baseline deal sold exactly its stock, no more.
        assert phases["checkout"]["answers"]["held"] == STOCK
        assert phases["naive"]["answers"]["held"] == STOCK
        assert phases["floor"]["answers"] == {"pong": phases["floor"]["taps"]}
