"""The fan-out benchmark's viewers are players: they beat, and the server keeps the beats
(analytics capture) off the room's path — tiny: 20 viewers for 2 seconds."""

from __future__ import annotations

from liveshop.bench.fanout import FanoutOptions
from liveshop.bench.fanout.run import run_fanout


def test_fanout_viewers_beat_and_the_beats_are_captured() -> None:
    result = run_fanout(
        FanoutOptions(viewers=20, seconds=2, chat_rate=2, stock_rate=5, heartbeat_s=0.5)
    )
    assert result["viewers_connected"] == 20
    assert result["dropped_viewers"] == 0
    assert result["heartbeats_captured"] >= 19  # every counting viewer beat at least once
