"""The fan-out benchmark runs end to end (tiny: 20 viewers for 2 seconds)."""

from __future__ import annotations

import os
from typing import Any

from liveshop.bench.fanout import RESULT_KEYS, FanoutOptions
from liveshop.bench.fanout.run import median_of, run_fanout
from tests.conftest import service_missing


def test_fanout_bench_smoke() -> None:
    result = run_fanout(FanoutOptions(viewers=20, seconds=2, chat_rate=4, stock_rate=5))
    assert set(RESULT_KEYS) <= set(result)
    assert result["viewers_connected"] == 20
    assert result["events_sent"] > 0
    assert result["deliveries"] > 0
    assert result["dropped_viewers"] == 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert median_of([result, result])["deliveries"] == result["deliveries"]


def test_fanout_bench_smoke_one_node_two_workers(redis_url: str) -> None:
    """One port served by two processes (SO_REUSEPORT) over Redis and a fresh PostgreSQL
    database: every viewer, whichever process took it, gets every event of the room
    (placed as the target's runs are: one process per CPU, counting viewers at low priority)."""
    admin = os.environ.get("LIVESHOP_TEST_POSTGRES_URL")
    if not admin:
        service_missing("PostgreSQL", "LIVESHOP_TEST_POSTGRES_URL is not set")
    opts = FanoutOptions(
        viewers=40,
        seconds=2,
        chat_rate=4,
        stock_rate=5,
        workers=2,
        redis_url=redis_url,
        database_url=admin,
        placement="spread",
    )
    result = run_fanout(opts)
    assert result["viewers_connected"] == 40
    assert result["dropped_viewers"] == 0
    assert len(result["server_cpu_cores"]) == 2
    # A small room has no sampling: every event goes to everyone. Were the workers not
    # sharing events, viewers on one would miss the other's comments and stock (~0.5); a
    # loaded CI box may deliver the last event after the drain window.
    assert result["completeness"] >= 0.9


async def test_counting_viewer_counts_markers_split_across_reads() -> None:
    from liveshop.bench import fanout

    tally = fanout.Tally()
    viewer = fanout.CountingViewer("h", "/p", tally)
    viewer.opened.set_result(None)
    tally.window = True
    stream = b'\x81\x7e\x00\x40[{"seq":1,"type":"comment","text":"a"},{"seq":2,"type":"stock"}]' * 5
    for size in (1, 3, 7, 16, 17, 64):
        tally.counted = tally.frames = 0
        viewer.tail = b""
        for i in range(0, len(stream), size):
            chunk = stream[i : i + size]
            fanout._READ_BUFFER[: len(chunk)] = chunk
            viewer.buffer_updated(len(chunk))
        assert (tally.counted, tally.frames) == (10, 5), size


def test_serve_with_workers_refuses_the_in_process_broker(monkeypatch: Any) -> None:
    """Several workers with the in-process broker would split a room's viewers into
    separate rooms: the command says so and exits instead of serving."""
    from typer.testing import CliRunner

    from liveshop.cli import app
    from liveshop.core.settings import get_settings

    monkeypatch.setenv("LIVESHOP_BROKER_URL", "memory://")
    monkeypatch.delenv("LIVESHOP_PORT", raising=False)  # serve sets it; restored after
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "LIVESHOP_BROKER_URL=redis" in result.output.replace("\n", "")


def test_workers_default_to_what_the_open_files_limit_needs() -> None:
    """``--workers 0`` (the default): one process per node unless its share of the sockets
    would pass the open-files limit (20,000 here): 20,000 viewers need two."""
    from liveshop.bench.fanout import workers_needed

    assert workers_needed(FanoutOptions(viewers=19_700, chat_rate=100), 20_000) == 1
    assert workers_needed(FanoutOptions(viewers=20_000, chat_rate=100), 20_000) == 2
    assert workers_needed(FanoutOptions(viewers=50_000, chat_rate=100, nodes=2), 20_000) == 2
    assert workers_needed(FanoutOptions(viewers=10, chat_rate=0), 1024) == 1
