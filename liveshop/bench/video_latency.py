"""``liveshop bench video-latency``: glass-to-glass latency of the room's live video.

What runs is what ``make run`` runs: ``liveshop serve`` (a real server process over a fresh
SQLite database) with the embedded media server; ffmpeg pushes over RTMP like OBS, and
headless Chromium opens the room page, whose own player (``static/js/live/video.js``, hls.js)
plays the stream.

Every frame carries the wall-clock time at which it was made: ffmpeg draws the low 24 bits of
the epoch milliseconds as a row of black and white boxes at the top of the picture (drawbox
filters enabled by ``time(0)`` when the frame is filtered, i.e. "glass"). The page reads that
row back from each presented frame (``requestVideoFrameCallback`` → canvas) and compares it
with its own clock — same machine, same clock. Latency = now − the time in the picture.

Two viewers watch the same stream at once: the room's player as it is (``tuned``) and the
player as it was before issue 17 (``baseline``: ``lowLatencyMode`` with three segments of
``liveSyncDurationCount``), so the ratio comes from the same stream, load and minute.

Reported per viewer: ``latency_p50_s``/``latency_p95_s`` over the samples, ``stalls``
(``waiting`` events after the first frame), ``startup_s`` (opening the room → first frame,
the stream already running).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

RESULT_KEYS = ("latency_p50_s", "latency_p95_s", "stalls", "startup_s")
CHROMIUM = "/usr/bin/chromium"
BITS = 24
CELL = 21  # px per bit box (20 px box + 1 px gap), at the top left of a 640x360 picture
SAMPLE_EVERY_MS = 100
VARIANTS = ("tuned", "baseline")


@dataclass
class VideoLatencyOptions:
    seconds: float = 30.0
    fps: int = 30
    keyframe_s: float = 1.0  # what the studio tells creators (OBS: "Keyframe Interval")
    size: str = "640x360"
    baseline: bool = True
    baseline_tuning: str = "baseline"  # video.js TUNINGS: "baseline" or "h17"
    startup_timeout_s: float = 60.0

    @property
    def gop(self) -> int:
        return max(1, round(self.fps * self.keyframe_s))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clock_filter() -> str:
    """ffmpeg filters drawing the frame's wall clock (ms, low BITS bits) as boxes."""
    parts = [f"drawbox=x=0:y=0:w={4 + BITS * CELL}:h=28:color=black:t=fill"]
    for k in range(BITS):
        on = f"mod(floor(time(0)*1000/pow(2\\,{k}))\\,2)"
        parts.append(
            f"drawbox=x={4 + k * CELL}:y=4:w={CELL - 1}:h=20:color=white:t=fill:enable='{on}'"
        )
    return ",".join(parts)


def encoder_command(opts: VideoLatencyOptions, url: str) -> list[str]:
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"testsrc2=size={opts.size}:rate={opts.fps}",
        "-f", "lavfi", "-i", "sine=frequency=440",
        "-vf", clock_filter(),
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-g", str(opts.gop), "-pix_fmt", "yuv420p", "-b:v", "1200k",
        "-c:a", "aac", "-b:a", "64k", "-f", "flv", url,
    ]  # fmt: skip


# Installed before the room's scripts run: the player tuning, and the reader of the clock.
SAMPLER_JS = """
window.LIVESHOP_PLAYER_TUNING = %(tuning)s;
window.__latency = {samples: [], stalls: 0, first: null, unread: 0};
document.addEventListener("DOMContentLoaded", () => {
  const v = document.querySelector("video.room-player");
  if (!v) return;
  const r = window.__latency;
  const width = %(width)d;
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = 28;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  v.addEventListener("waiting", () => { if (r.first !== null) r.stalls += 1; });
  let last = 0;
  const onFrame = () => {
    const now = Date.now();
    if (v.videoWidth > 0 && now - last >= %(every)d) {
      last = now;
      ctx.drawImage(v, 0, 0, width, 28, 0, 0, width, 28);
      const px = ctx.getImageData(0, 0, width, 28).data;
      const lum = (x, y) => px[(y * width + x) * 4];
      if (lum(2, 14) < 64) {  // the black frame of the clock is there
        let bits = 0;
        for (let k = 0; k < %(bits)d; k++) {
          if (lum(4 + k * %(cell)d + 10, 14) > 128) bits += 2 ** k;
        }
        const span = 2 ** %(bits)d;
        const age = (((now - bits) %% span) + span) %% span;
        if (age < 60000) {
          if (r.first === null) r.first = performance.now();
          r.samples.push(age);
        } else r.unread += 1;
      } else r.unread += 1;
    }
    v.requestVideoFrameCallback(onFrame);
  };
  v.requestVideoFrameCallback(onFrame);
});
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))
    return ordered[index]


def figures(state: dict[str, Any]) -> dict[str, Any]:
    samples = [s / 1000 for s in state.get("samples", [])]
    first = state.get("first")
    return {
        "latency_p50_s": round(percentile(samples, 0.5), 3),
        "latency_p95_s": round(percentile(samples, 0.95), 3),
        "stalls": int(state.get("stalls", 0)),
        "startup_s": round(first / 1000, 3) if first is not None else None,
        "samples": len(samples),
        "unread_frames": int(state.get("unread", 0)),
    }


async def _seed(url: str) -> tuple[int, str]:
    """A creator with a scheduled session and a stream key (through the services)."""
    from liveshop.accounts import service as accounts
    from liveshop.accounts.models import Role
    from liveshop.core.clock import utcnow
    from liveshop.core.db import Database
    from liveshop.live import service as live
    from liveshop.video.service import rotate_key

    db = Database(url)
    try:
        async with db.session() as s:
            creator = await accounts.create_user(
                s,
                email="latency@bench.invalid",
                password="bench-password-1",
                display_name="Latency bench",
                roles=(Role.CREATOR,),
            )
            await s.commit()
            show = await live.create_session(
                s,
                creator_id=creator.id,
                title="Latency bench",
                market_code="GB",
                planned_start=utcnow() + timedelta(minutes=1),
                planned_duration_minutes=60,
            )
            await s.commit()
            session_id = show.id
            issued = await rotate_key(s, creator.id)
            await s.commit()
            return session_id, issued.key
    finally:
        await db.dispose()


class _Server:
    """``liveshop serve`` with the embedded media server, on free ports."""

    def __init__(self, work: Path, db_url: str) -> None:
        self.port, self.rtmp_port = _free_port(), _free_port()
        video_dir = work / "video"
        video_dir.mkdir()
        os.chmod(work, 0o755)  # nginx's workers (nobody, under root) write HLS here
        env = {
            **os.environ,
            "LIVESHOP_DATABASE_URL": db_url,
            "LIVESHOP_VIDEO_PROVIDER": "embedded",
            "LIVESHOP_VIDEO_DIR": str(video_dir),
            "LIVESHOP_RTMP_PORT": str(self.rtmp_port),
            "LIVESHOP_VIDEO_HTTP_PORT": str(_free_port()),
            "LIVESHOP_RESERVATION_SWEEP_SECONDS": "0",
            "LIVESHOP_LOG_LEVEL": "WARNING",
        }
        self.log_path = work / "server.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "liveshop.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"

    async def up(self, within_s: float) -> None:
        import httpx

        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError("the server exited:\n" + self.log_path.read_text()[-3000:])
                with contextlib.suppress(OSError, httpx.TransportError):
                    if (await c.get("/healthz")).status_code == 200:
                        _, w = await asyncio.open_connection("127.0.0.1", self.rtmp_port)
                        w.close()
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not come up:\n" + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


async def _playlist_ready(base: str, session_id: int, within_s: float) -> None:
    import httpx

    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError, ValueError):
                body = (await c.get(f"/api/v1/video/{session_id}")).json()
                if body.get("playlist_ready"):
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError("the stream never became playable")


async def _measure(opts: VideoLatencyOptions, console: Console | None) -> dict[str, dict[str, Any]]:
    from playwright.async_api import async_playwright

    from liveshop.core.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="liveshop-bench-video-"))
    db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    server: _Server | None = None
    encoder: asyncio.subprocess.Process | None = None
    try:
        await asyncio.to_thread(upgrade, db_url)
        session_id, key = await _seed(db_url)
        for attempt in range(3):  # a free port taken by someone else meanwhile: new ports
            server = _Server(work, db_url)
            try:
                await server.up(opts.startup_timeout_s)
                break
            except RuntimeError:
                server.stop()
                shutil.rmtree(work / "video", ignore_errors=True)
                if attempt == 2:
                    raise
        assert server is not None
        encoder = await asyncio.create_subprocess_exec(
            *encoder_command(opts, f"rtmp://127.0.0.1:{server.rtmp_port}/live/{key}"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await _playlist_ready(server.base, session_id, opts.startup_timeout_s)
        variants = VARIANTS if opts.baseline else VARIANTS[:1]
        width = 4 + BITS * CELL
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            pages = {}
            for variant in variants:
                ctx = await browser.new_context(base_url=server.base)
                tuning = "live" if variant == "tuned" else opts.baseline_tuning
                await ctx.add_init_script(
                    SAMPLER_JS
                    % {
                        "tuning": f'"{tuning}"',
                        "width": width,
                        "every": SAMPLE_EVERY_MS,
                        "bits": BITS,
                        "cell": CELL,
                    }
                )
                pages[variant] = await ctx.new_page()
            await asyncio.gather(*(p.goto(f"/live/{session_id}") for p in pages.values()))
            with _progress(console) as progress:
                task = progress.add_task("watching", total=opts.seconds) if progress else None
                started = time.monotonic()
                while (elapsed := time.monotonic() - started) < opts.seconds:
                    await asyncio.sleep(min(0.5, opts.seconds - elapsed))
                    if progress is not None and task is not None:
                        progress.update(task, completed=min(opts.seconds, elapsed + 0.5))
            out = {}
            for variant, page in pages.items():
                out[variant] = figures(await page.evaluate("() => window.__latency"))
            await browser.close()
        return out
    finally:
        if encoder is not None and encoder.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                encoder.terminate()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(encoder.wait(), 5)
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _progress(console: Console | None) -> Any:
    if console is None:
        yield None
        return
    with Progress(console=console, transient=True) as progress:
        yield progress


def run_video_latency(opts: VideoLatencyOptions, console: Console | None = None) -> dict[str, Any]:
    """One run: the tuned player's figures at the top level, the baseline's beside them."""
    measured = asyncio.run(_measure(opts, console))
    tuned = measured["tuned"]
    result: dict[str, Any] = {
        **tuned,
        "keyframe_s": opts.keyframe_s,
        "fps": opts.fps,
        "seconds": opts.seconds,
        "load_1m": round(os.getloadavg()[0], 2),
    }
    base = measured.get("baseline")
    if base is not None:
        result["baseline"] = base
        if base["latency_p50_s"]:
            result["p50_vs_baseline"] = round(tuned["latency_p50_s"] / base["latency_p50_s"], 3)
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the runs' figures (each key, the baseline's too)."""

    def med(values: list[Any]) -> Any:
        nums = sorted(v for v in values if isinstance(v, int | float))
        if not nums:
            return None
        mid = len(nums) // 2
        return nums[mid] if len(nums) % 2 else round((nums[mid - 1] + nums[mid]) / 2, 3)

    out: dict[str, Any] = {k: med([r.get(k) for r in runs]) for k in runs[0] if k != "baseline"}
    bases = [r["baseline"] for r in runs if "baseline" in r]
    if bases:
        out["baseline"] = {k: med([b.get(k) for b in bases]) for k in bases[0]}
    out["runs"] = len(runs)
    return out
