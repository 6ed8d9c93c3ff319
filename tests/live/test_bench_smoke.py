"""The fan-out benchmark runs end to end (tiny: 20 viewers for 2 seconds)."""

from __future__ import annotations

from liveshop.bench.fanout import RESULT_KEYS, FanoutOptions, median_of, run_fanout


def test_fanout_bench_smoke() -> None:
    result = run_fanout(FanoutOptions(viewers=20, seconds=2, chat_rate=4, stock_rate=5))
    assert set(RESULT_KEYS) <= set(result)
    assert result["viewers_connected"] == 20
    assert result["events_sent"] > 0
    assert result["deliveries"] > 0
    assert result["dropped_viewers"] == 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert median_of([result, result])["deliveries"] == result["deliveries"]
