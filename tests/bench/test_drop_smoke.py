"""A small ``liveshop bench drop``: real server processes, real load-generator processes,
the claim, pay, floor, checkout and naive phases, and the database checks afterwards — on
SQLite over HTTP (through the command line, one server process) and on PostgreSQL over the
room's WebSocket (two server processes over Redis, as the acceptance run; the winners pay
with one tap on their room socket, with the saved card each was seeded with). The full run is
in BENCHMARKS.md, never in the suite."""

from __future__ import annotations

import json
import os
from typing import Any

from typer.testing import CliRunner

from liveshop.bench.drop import RESULT_KEYS, DropOptions
from liveshop.bench.drop.run import run_drop
from liveshop.cli import app
from tests.conftest import service_missing

TAPPERS, STOCK = 40, 10


def _assert_sound(result: dict[str, Any]) -> None:
    """What the acceptance run must show, at any size: exactly the stock claimed and paid,
    nothing oversold, every stock level's identity and the ledger intact; every buyer
    answered; each baseline's deal sold exactly its stock too."""
    assert result["oversold"] == 0
    assert result["paid_orders"] == STOCK
    assert result["claims_held"] == STOCK
    assert result["stock_identity_ok"] is True
    assert result["ledger_balanced"] is True
    assert result["unexpected_answers"] == 0
    assert result["taps"] >= TAPPERS  # every buyer was answered (refused ones tapped again)
    assert result["sellout_s"] > 0
    assert result["sold_out_per_s"] > 0 and result["paid_per_s"] > 0
    assert 0 < result["claim_p50_ms"] <= result["claim_p99_ms"]
    assert result["server_cpu_ms_per_paid"] > 0 and result["machine_cpu_ms_per_paid"] > 0
    for key in (
        "baseline_floor_taps_per_s",
        "baseline_checkout_taps_per_s",
        "baseline_naive_taps_per_s",
    ):
        assert result[key] > 0, key
    phases = result["phases"][0]
    assert phases["checkout"]["answers"]["held"] == STOCK
    assert phases["naive"]["answers"]["held"] == STOCK
    assert phases["floor"]["answers"] == {"pong": phases["floor"]["taps"]}


def test_cli_drop_on_sqlite_over_http() -> None:
    args = ["bench", "drop", "--db", "sqlite", "--tappers", str(TAPPERS), "--stock", str(STOCK)]
    args += ["--via", "http", "--workers", "1", "--sold-out-window", "0.3", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert tuple(figures)[: len(RESULT_KEYS)] == RESULT_KEYS
    _assert_sound(figures)


def test_drop_on_postgres_over_the_room_socket() -> None:
    pg = os.environ.get("LIVESHOP_TEST_POSTGRES_URL")
    redis = os.environ.get("LIVESHOP_TEST_REDIS_URL")
    if not pg:
        service_missing("PostgreSQL", "LIVESHOP_TEST_POSTGRES_URL is not set")
    if not redis:
        service_missing("Redis", "LIVESHOP_TEST_REDIS_URL is not set")
    opts = DropOptions(
        db="postgres",
        database_url=pg,
        redis_url=str(redis),
        tappers=TAPPERS,
        stock=STOCK,
        via="ws",
        workers=2,
        sold_out_window_s=0.3,
        client_procs=1,
        placement="none",
    )
    result = run_drop(opts)
    result["phases"] = [result["phases"]]
    _assert_sound(result)


def test_cli_drop_on_a_product_on_show_without_a_deal() -> None:
    args = ["bench", "drop", "--db", "sqlite", "--tappers", str(TAPPERS), "--stock", str(STOCK)]
    args += ["--on", "shelf", "--workers", "1", "--sold-out-window", "0.3", "--no-baselines"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["oversold"] == 0 and figures["paid_orders"] == STOCK
    assert figures["claims_held"] == STOCK and figures["unexpected_answers"] == 0
    assert figures["stock_identity_ok"] is True and figures["ledger_balanced"] is True
    assert figures["taps"] >= TAPPERS and figures["sold_out_per_s"] > 0
