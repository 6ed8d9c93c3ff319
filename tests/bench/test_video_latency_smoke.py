"""The video latency benchmark runs end to end (a few seconds): the frames' clock is read
back in Chromium, both players report, and the tuned one is not behind the baseline."""

from __future__ import annotations

import os
import shutil

import pytest

from liveshop.bench.video_latency import (
    CHROMIUM,
    RESULT_KEYS,
    VideoLatencyOptions,
    median_of,
    run_video_latency,
)
from liveshop.video.media_server import missing_tools
from tests.conftest import service_missing


@pytest.fixture
def tools() -> None:
    missing = missing_tools() + [t for t in ("ffmpeg",) if shutil.which(t) is None]
    if missing or not os.path.exists(CHROMIUM):
        service_missing("nginx-rtmp, ffmpeg, Chromium", f"missing {missing or CHROMIUM}")


def test_video_latency_bench_smoke(tools: None) -> None:
    result = run_video_latency(VideoLatencyOptions(seconds=4))
    assert set(RESULT_KEYS) <= set(result) and set(RESULT_KEYS) <= set(result["baseline"])
    for figures in (result, result["baseline"]):
        assert figures["samples"] > 0, result  # the picture's clock was read back
        assert 0 < figures["latency_p50_s"] <= figures["latency_p95_s"] < 30, result
        assert figures["startup_s"] is not None and figures["startup_s"] > 0
    assert result["latency_p50_s"] <= result["baseline"]["latency_p50_s"] + 0.5, result
    assert median_of([result, result])["latency_p50_s"] == result["latency_p50_s"]
