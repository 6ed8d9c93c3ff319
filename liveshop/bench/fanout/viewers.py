"""The load generator: counting viewers, a parsed sample that measures latency, commenters.

These run in their own processes (``multiprocessing`` spawn): the module imports none of the
app, so a client process stays small."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import time
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from liveshop.bench.fanout.options import pin_cpus, raise_nofile, run_loop

# --- the viewers ---------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.window = False  # counting sockets count what arrives while this is set
        self.start_ms = 0.0
        self.end_ms = 0.0
        self.counted = 0
        self.parsed = 0
        self.frames = 0
        self.bytes = 0
        self.dropped = 0
        self.latencies = array.array("d")
        self.stock_latencies = array.array("d")  # the same, stock events only


_READ_BUFFER = bytearray(256 * 1024)
READ_EVERY_S = 0.5
READ_SLOTS = 5  # one per client process: reads are handled one by one


class CountingViewer(asyncio.BufferedProtocol):
    """A WebSocket viewer that only counts: bytes, tick frames and the benchmark's events.

    No frame parsing and no allocation per read: the event loop reads into one shared
    buffer and the markers are counted in place (``"type":"comment"`` cannot occur inside
    a JSON string, where quotes are escaped). The last bytes of each read are kept so a
    marker split across two reads is still counted once. Server pings are off in the
    benchmark's nodes, so nothing needs answering.

    While measuring, a counting socket reads once per ``READ_EVERY_S`` (the kernel keeps
    what arrives meanwhile; the server's cost per frame is the same): 20,000 sockets
    read at every tick would take more CPU than the client side has. Latency is measured
    on the parsed sockets, which read continuously.
    """

    MARKERS = (b'"type":"comment"', b'"type":"stock"')
    FRAME_START = b'[{"seq":'
    KEEP = 16

    def __init__(self, host: str, path: str, tally: Tally, beat: bytes = b"") -> None:
        self.host, self.path, self.tally = host, path, tally
        self.beat = beat  # this player's heartbeat, one masked client frame
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.handshake = b""
        self.tail = b""
        self.dead = False
        self.lazy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: bGl2ZXNob3AtYmVuY2gtMQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        elif self.tally.window and not self.dead:
            self.tally.dropped += 1
        self.dead = True

    def get_buffer(self, sizehint: int) -> bytearray:
        return _READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        buf = _READ_BUFFER
        if not self.opened.done():
            self.handshake += buf[:nbytes]
            if b"\r\n\r\n" not in self.handshake:
                return
            if not self.handshake.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(self.handshake[:40].decode()))
                return
            self.opened.set_result(None)  # what follows is the snapshot: not counted
            return
        tally = self.tally
        if not tally.window:
            self.tail = b""
            return
        tally.bytes += nbytes
        tail = self.tail
        if tail:  # markers that straddle the previous read and this one
            head = min(self.KEEP, nbytes)
            seam = tail + buf[:head]
            for marker in (*self.MARKERS, self.FRAME_START):
                found = seam.count(marker) - tail.count(marker) - buf.count(marker, 0, head)
                if marker == self.FRAME_START:
                    tally.frames += found
                else:
                    tally.counted += found
        for marker in self.MARKERS:
            tally.counted += buf.count(marker, 0, nbytes)
        tally.frames += buf.count(self.FRAME_START, 0, nbytes)
        if nbytes >= self.KEEP:
            self.tail = bytes(buf[nbytes - self.KEEP : nbytes])
        else:  # the last bytes of the stream, not just of this read
            self.tail = (tail + buf[:nbytes])[-self.KEEP :]
        if self.lazy and self.transport is not None:
            self.transport.pause_reading()

    def send_beat(self) -> None:
        if self.beat and self.transport is not None and not self.dead:
            with contextlib.suppress(Exception):
                self.transport.write(self.beat)

    def read_once(self) -> None:
        if self.transport is not None and not self.dead:
            with contextlib.suppress(Exception):
                self.transport.resume_reading()


def _scheduled_ts(event: dict[str, Any]) -> float | None:
    ts = event.get("ts")
    text = event.get("text")
    if event.get("type") == "comment" and isinstance(text, str) and text.startswith("bench t="):
        with contextlib.suppress(ValueError):
            return float(text[8:].split(" ", 1)[0])
    return float(ts) if isinstance(ts, int | float) else None


async def _read_parsed(ws: Any, tally: Tally) -> None:

    first = True
    try:
        async for message in ws:
            now = time.time() * 1000
            if first:
                first = False
                continue
            frame = json.loads(message)
            if not isinstance(frame, list) or not tally.window:
                continue
            tally.frames += 1
            tally.bytes += len(message)
            for event in frame:
                if event.get("type") not in ("comment", "stock"):
                    continue  # viewer counts and likes are not the benchmark's events
                ts = _scheduled_ts(event)
                if ts is not None and tally.start_ms <= ts <= tally.end_ms:
                    tally.parsed += 1
                    tally.latencies.append(now - ts)
                    if event["type"] == "stock":
                        tally.stock_latencies.append(now - ts)
    except ConnectionClosed:
        if tally.window:
            tally.dropped += 1


async def _viewers(
    urls: list[str], parse: bool, phase: float, shared: dict[str, Any], seconds: float
) -> dict[str, Any]:
    """One client process: parsed sockets only (the latency sample) or counting ones only,
    so the sample's frames never wait behind a burst of counting reads in the same loop."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    beat_s = float(shared.get("beat_s", 0.0))
    gate = asyncio.Semaphore(64)
    keep: list[Any] = []
    failed = 0

    async def open_one(i: int, url: str) -> None:
        nonlocal failed
        async with gate:
            for attempt in range(6):
                try:
                    if parse:
                        ws = await connect(url, compression=None, max_size=None, open_timeout=120)
                        keep.append(ws)
                        keep.append(loop.create_task(_read_parsed(ws, tally)))
                    else:
                        parts = urlsplit(url)
                        beat = heartbeat_frame(f"bench-{os.getpid()}-{i:06d}") if beat_s else b""
                        factory = partial(CountingViewer, parts.netloc, parts.path, tally, beat)
                        _, proto = await loop.create_connection(
                            factory, parts.hostname or "127.0.0.1", parts.port or 80
                        )
                        await asyncio.wait_for(proto.opened, 120)
                        keep.append(proto)
                    with shared["connected"].get_lock():
                        shared["connected"].value += 1
                    return
                except Exception:  # refused, reset, or a handshake cut short: try again
                    await asyncio.sleep(0.1 * (attempt + 1))
            failed += 1

    await asyncio.gather(*(open_one(i, u) for i, u in enumerate(urls)))
    shared["ready"].release()
    await loop.run_in_executor(None, shared["go"].wait)
    tally.start_ms = shared["start_ms"].value
    tally.end_ms = tally.start_ms + seconds * 1000
    counting = [p for p in keep if isinstance(p, CountingViewer)]
    for proto in counting:
        proto.lazy = True  # from now on: one read per socket per READ_EVERY_S
    tally.window = True
    until = tally.end_ms / 1000 + shared["drain"]
    # Spread the reads: a fifth of the sockets every READ_EVERY_S / 5, processes out of phase.
    groups = [counting[g::READ_SLOTS] for g in range(READ_SLOTS)]
    beats = loop.create_task(_beat(counting, beat_s, until)) if beat_s > 0 else None
    await asyncio.sleep(phase * READ_EVERY_S / READ_SLOTS)
    slot = 0
    while time.time() < until:
        await asyncio.sleep(min(READ_EVERY_S / READ_SLOTS, max(0.0, until - time.time())))
        for proto in groups[slot]:
            proto.read_once()
        slot = (slot + 1) % READ_SLOTS
    for proto in counting:  # whatever is still in the kernel buffers was delivered in time
        proto.lazy = False
        proto.read_once()
    if _BASE_NICE is not None:  # a low-priority reader takes its last read at full priority
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, _BASE_NICE)
    await asyncio.sleep(READ_EVERY_S)
    tally.window = False
    if beats is not None:
        beats.cancel()
    result = {
        "connected": len(urls) - failed,
        "counted": tally.counted,
        "parsed": tally.parsed,
        "frames": tally.frames,
        "bytes": tally.bytes,
        "dropped": tally.dropped,
        "latencies": tally.latencies.tobytes(),
        "stock_latencies": tally.stock_latencies.tobytes(),
    }
    for item in keep:
        if isinstance(item, CountingViewer) and item.transport is not None:
            item.transport.abort()
        elif isinstance(item, asyncio.Task):
            item.cancel()
    return result


def heartbeat_frame(vid: str) -> bytes:
    """A player's ``{"type":"hb",…}`` as a masked client text frame (RFC 6455 §5.3)."""
    payload = json.dumps({"type": "hb", "visible": True, "playing": True, "vid": vid}).encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


async def _beat(viewers: list[CountingViewer], every_s: float, until: float) -> None:
    """Every viewer's player beats once per ``every_s``, the beats spread evenly over it
    (a tenth of a second at a time), as real players' would be."""
    step = 0.1
    slots = max(int(every_s / step), 1)
    groups = [viewers[g::slots] for g in range(slots)]
    slot = 0
    while time.time() < until:
        for proto in groups[slot]:
            proto.send_beat()
        slot = (slot + 1) % slots
        await asyncio.sleep(step)


_BASE_NICE: int | None = None  # a counting viewer process's priority before it lowered it


def viewer_proc(
    urls: list[str], parse: bool, phase: float, shared: dict[str, Any], seconds: float
) -> None:
    global _BASE_NICE
    pin_cpus(shared["client_cpus"])
    if not parse and shared["placement"] in ("shared", "spread"):
        _BASE_NICE = os.nice(0)
        os.nice(40)  # the lowest priority: counting sockets take what the server leaves
    raise_nofile(len(urls) + 1024)
    result = run_loop(_viewers(urls, parse, phase, shared, seconds))
    shared["results"].put(result)


async def _commenters(
    urls: list[str], rate: float, shared: dict[str, Any], seconds: float
) -> dict[str, Any]:

    async def open_one(url: str) -> Any:
        for attempt in range(6):
            with contextlib.suppress(Exception):
                return await connect(url, compression=None, max_size=None, open_timeout=120)
            await asyncio.sleep(0.2 * (attempt + 1))
        return await connect(url, compression=None, max_size=None, open_timeout=120)

    sockets = [await open_one(u) for u in urls]

    async def drain(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    readers = [asyncio.create_task(drain(ws)) for ws in sockets]
    shared["ready"].release()
    await asyncio.get_running_loop().run_in_executor(None, shared["go"].wait)
    start = shared["start_ms"].value
    sent = 0
    lags = array.array("d")  # how late each comment left this process (client-side lag)
    for i in range(int(seconds * rate)):
        at = start + i * 1000.0 / rate
        await asyncio.sleep(max(0.0, (at - time.time() * 1000) / 1000))
        text = f"bench t={at:.3f} #{i}"
        with contextlib.suppress(Exception):
            await sockets[i % len(sockets)].send(json.dumps({"type": "comment", "text": text}))
            lags.append(time.time() * 1000 - at)
            sent += 1
    await asyncio.sleep(shared["drain"])
    for task in readers:
        task.cancel()
    return {"comments_sent": sent, "send_lags": lags.tobytes()}


def commenter_proc(urls: list[str], rate: float, shared: dict[str, Any], seconds: float) -> None:
    pin_cpus(shared["client_cpus"])
    shared["results"].put(run_loop(_commenters(urls, rate, shared, seconds)))
