"""``liveshop bench fanout``: N real WebSocket viewers in one live room.

The server runs as separate processes (``python -m liveshop.bench.fanout --node``), over
Redis when there is more than one, on a fresh SQLite database (or, with
``--database-url``, a fresh PostgreSQL one). Viewers connect from separate client
processes: about 5 % of sockets are full ``websockets`` clients that parse every frame and
measure latency; the rest are a bare asyncio protocol that parses frame headers and counts
the benchmark's events (``"type":"comment"``/``"stock"``) — a Python client cannot fully
parse 100k frames/s, and those sockets only need to prove delivery. A commenter process
sends R comments/s over signed-in sockets (each within the per-socket rate limit), node 0
publishes stock updates; every event carries its scheduled time, so a lagging publisher
shows up as latency.
Latency = receipt time at the viewer − scheduled publish time, same clock (one machine).

The server processes (K nodes × W workers; W > 1 share one port through SO_REUSEPORT and
split the node's frame budget; by default W is what the open-files limit needs) run as a
node's workers would: by default (``placement="spread"``) worker i is pinned to CPU i, and
the load generator takes what the server leaves — the counting viewers at the lowest
priority (they take their last read at full priority), the latency sample and the
commenters at the benchmark's own. ``placement="pinned"`` keeps every server process on
CPU 0 and the clients on the other CPUs (the server gets one core of the node, and pays
for its viewers' loopback receive path there too). ``naive=True`` runs the same server with
``LIVESHOP_LIVE_FANOUT=naive``: one send per event per viewer, no batching.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

RESULT_KEYS = (
    "viewers_connected",
    "events_sent",
    "deliveries",
    "deliveries_per_s",
    "p50_ms",
    "p99_ms",
    "dropped_viewers",
)
STOCK_SKUS = 5
COMMENTS_PER_SOCKET_S = 0.5  # well under the room's 1/s per-socket limit (burst 5)


@dataclass
class FanoutOptions:
    viewers: int = 1000
    chat_rate: float = 100.0
    seconds: float = 10.0
    nodes: int = 1
    # Server processes per node, sharing its port (SO_REUSEPORT); 0: as many as the
    # open-files limit needs (one process cannot hold more sockets than that).
    workers: int = 1
    stock_rate: float = 10.0
    naive: bool = False
    parse_every: int = 20  # one fully parsed socket in this many…
    max_parsed: int = 250  # …but no more than this many (the clients have one CPU)
    comment_cap: float | None = None  # server's LIVESHOP_LIVE_COMMENT_CAP_PER_S
    drain_s: float = 3.0  # keep listening this long after the last publish
    redis_url: str = "redis://127.0.0.1:6379/15"
    client_procs: int | None = None
    # A PostgreSQL URL: the run creates a fresh database next to it (dropped afterwards).
    # Default: a fresh SQLite file (the embedded database).
    database_url: str | None = None
    # "pinned": server processes on CPU 0, the load generator on the other CPUs.
    # "shared": the server may use every CPU of the node; the counting viewers (the bulk of
    # the load generator) run at the lowest priority and take what the server leaves; the
    # latency sample and the commenters keep the benchmark's priority.
    # "spread": as "shared", with server process i pinned to CPU i.
    placement: str = "spread"

    @property
    def processes(self) -> int:
        return self.nodes * self.workers


# --- small helpers -------------------------------------------------------------------------


def raise_nofile(wanted: int) -> int:
    """Raise the open-files limit (the hard one too when allowed); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
    except OSError:
        ceiling = hard
    target = min(max(wanted, soft), ceiling)
    for limits in ((target, max(target, hard)), (min(target, hard), hard)):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            break
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _pin(cpus: set[int] | None) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


# --- the server nodes ----------------------------------------------------------------------


async def _prepare(db_url: str, commenters: int) -> tuple[int, list[str]]:
    """A creator with a live session, and signed-in commenters (their API tokens)."""
    from liveshop.accounts import service as accounts
    from liveshop.accounts.models import Role, TokenKind
    from liveshop.core.clock import utcnow
    from liveshop.core.db import Database
    from liveshop.live import service as live
    from liveshop.live.models import SessionStatus

    db = Database(db_url)
    try:
        async with db.session() as s:
            creator = await accounts.create_user(
                s,
                email="creator@bench.invalid",
                password="bench-password",
                display_name="Bench creator",
                roles=[Role.CREATOR],
            )
            session = await live.create_session(
                s,
                creator_id=creator.id,
                title="Bench room",
                market_code="GB",
                planned_start=utcnow() + timedelta(minutes=1),
                planned_duration_minutes=60,
            )
            await live.transition(s, session, SessionStatus.LIVE)
            tokens = []
            for i in range(commenters):
                user = await accounts.create_user(
                    s,
                    email=f"viewer{i}@bench.invalid",
                    password="bench-password",
                    display_name=f"Viewer {i}",
                )
                issued = await accounts.issue_token(s, user, kind=TokenKind.API, name="bench")
                tokens.append(issued.token)
            return session.id, tokens
    finally:
        await db.dispose()


def _listen(port: int) -> socket.socket:
    """The node's port, shared by its worker processes (the kernel spreads connections)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def _node_main(port: int, cpu: int | None, drive_stock: bool) -> None:
    """One server process: the real app under uvicorn; the first also publishes stock."""
    _pin({cpu} if cpu is not None else None)
    raise_nofile(1_048_576)
    import uvicorn

    from liveshop.app import create_app

    app = create_app()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        ws_ping_interval=None,  # the counting viewers do not answer pings
        timeout_graceful_shutdown=3,
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            print(json.dumps({"ready": os.getpid()}), flush=True)  # serving now

    server = Server(config)

    async def drive(start_ms: float, seconds: float, rate: float, session_id: int) -> None:
        sent = 0
        n = int(seconds * rate)
        for i in range(n):
            at = start_ms + i * 1000.0 / rate
            await asyncio.sleep(max(0.0, (at - time.time() * 1000) / 1000))
            await app.state.hub.publisher.stock(
                session_id, sku_id=1 + i % STOCK_SKUS, available=n - i, ts=at
            )
            sent += 1
        print(json.dumps({"stock_sent": sent}), flush=True)

    async def control() -> None:
        """stdin: ``[start_ms, seconds, rate, session_id]`` starts the stock driver (node 0);
        ``STOP`` (or end of input) shuts the server down."""
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "STOP":
                server.should_exit = True
                for task in tasks:
                    task.cancel()
                return
            if drive_stock:
                tasks.append(asyncio.create_task(drive(*json.loads(line))))

    async def main() -> None:
        controller = asyncio.create_task(control())

        await server.serve(sockets=[_listen(port)])
        controller.cancel()

    profile_to = os.environ.get("LIVESHOP_BENCH_PROFILE")
    if not profile_to:
        _run_loop(main())
        return
    import cProfile

    with cProfile.Profile() as profiler:
        _run_loop(main())
    profiler.dump_stats(f"{profile_to}.{port}")


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

    def __init__(self, host: str, path: str, tally: Tally) -> None:
        self.host, self.path, self.tally = host, path, tally
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
    from websockets.exceptions import ConnectionClosed

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
    from urllib.parse import urlsplit

    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    tally = Tally()
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
                        factory = partial(CountingViewer, parts.netloc, parts.path, tally)
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


_BASE_NICE: int | None = None  # a counting viewer process's priority before it lowered it


def _viewer_proc(
    urls: list[str], parse: bool, phase: float, shared: dict[str, Any], seconds: float
) -> None:
    global _BASE_NICE
    _pin(shared["client_cpus"])
    if not parse and shared["placement"] in ("shared", "spread"):
        _BASE_NICE = os.nice(0)
        os.nice(40)  # the lowest priority: counting sockets take what the server leaves
    raise_nofile(len(urls) + 1024)
    result = _run_loop(_viewers(urls, parse, phase, shared, seconds))
    shared["results"].put(result)


async def _commenters(
    urls: list[str], rate: float, shared: dict[str, Any], seconds: float
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

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


def _commenter_proc(urls: list[str], rate: float, shared: dict[str, Any], seconds: float) -> None:
    _pin(shared["client_cpus"])
    shared["results"].put(_run_loop(_commenters(urls, rate, shared, seconds)))


# --- the run -------------------------------------------------------------------------------


class _Nodes:
    """The server processes, their ports, and their CPU and memory use."""

    def __init__(self, opts: FanoutOptions, db_url: str, workdir: Path) -> None:
        self.ports = [_free_port() for _ in range(opts.nodes)]
        broker = "memory://"
        if opts.processes > 1:
            sep = "&" if "?" in opts.redis_url else "?"
            broker = f"{opts.redis_url}{sep}prefix=bench{uuid.uuid4().hex[:8]}:"
        env = {
            **os.environ,
            "LIVESHOP_DATABASE_URL": db_url,
            "LIVESHOP_BROKER_URL": broker,
            "LIVESHOP_LIVE_FANOUT": "naive" if opts.naive else "batched",
            "LIVESHOP_LOG_LEVEL": "WARNING",
            "LIVESHOP_RESERVATION_SWEEP_SECONDS": "0",
            "LIVESHOP_VIDEO_PROVIDER": "off",  # no media server in the measured process
        }
        if opts.workers > 1:  # the node's frame budget is shared by its workers
            env["LIVESHOP_LIVE_WORKERS"] = str(opts.workers)
        if opts.comment_cap is not None:
            env["LIVESHOP_LIVE_COMMENT_CAP_PER_S"] = str(opts.comment_cap)
        ncpu = os.cpu_count() or 1
        self.procs = []
        self.procs_ports = [port for port in self.ports for _ in range(opts.workers)]
        for i, port in enumerate(self.procs_ports):
            # Pinned: the server processes share CPU 0, the load generator has the others
            # (floating clients at the same priority would take the server's core — they
            # are greedy readers — and the run would measure the clients).
            # Spread: worker i on CPU i (one core each, as a node's workers would run).
            cpu = 0 if ncpu > 1 and opts.placement == "pinned" else None
            if ncpu > 1 and opts.placement == "spread":
                cpu = i % ncpu
            cmd = [sys.executable, "-m", "liveshop.bench.fanout", "--node", str(port)]
            cmd += [str(cpu if cpu is not None else -1), "1" if i == 0 else "0"]
            log = (workdir / f"node{i}.log").open("w")
            self.procs.append(
                subprocess.Popen(
                    cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
                )
            )

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Every process says it is serving (a shared port answers as soon as one does,
        and the kernel only spreads connections over the processes listening by then)."""
        import select

        deadline = time.monotonic() + timeout_s
        for proc, port in zip(self.procs, self.procs_ports, strict=True):
            stdout = proc.stdout
            assert stdout is not None
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server process on port {port} exited ({proc.returncode})")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server process on port {port} did not start")
                if select.select([stdout], [], [], 0.1)[0]:
                    line = stdout.readline()
                    if line and "ready" in json.loads(line):
                        break

    def cpu_s(self) -> list[float]:
        return [_proc_cpu_s(p.pid) for p in self.procs]

    def rss_mb(self) -> list[float]:
        return [_proc_rss_mb(p.pid) for p in self.procs]

    def start_stock(self, start_ms: float, seconds: float, rate: float, session_id: int) -> None:
        stdin = self.procs[0].stdin
        assert stdin is not None
        stdin.write((json.dumps([start_ms, seconds, rate, session_id]) + "\n").encode())
        stdin.flush()

    def stock_sent(self) -> int:
        stdout = self.procs[0].stdout
        assert stdout is not None
        line = stdout.readline()
        return int(json.loads(line)["stock_sent"]) if line else 0

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.write(b"STOP\n")
                proc.stdin.flush()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _client_cpus(placement: str) -> set[int] | None:
    ncpu = os.cpu_count() or 1
    if ncpu > 1 and placement == "pinned":
        return set(range(1, ncpu))
    return None


def commenters_needed(opts: FanoutOptions) -> int:
    """Signed-in sockets needed to send the chat rate within the per-socket limit."""
    return math.ceil(opts.chat_rate / COMMENTS_PER_SOCKET_S) if opts.chat_rate > 0 else 0


SERVER_SPARE_FDS = 64  # a server process's own files: database, broker, listener, logs


def _server_nofile() -> int:
    """The open-files limit a server process can reach (its hard limit)."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def workers_needed(opts: FanoutOptions, nofile: int) -> int:
    """Server processes per node so that each holds its share of the sockets."""
    per_node = math.ceil(opts.viewers / opts.nodes) + commenters_needed(opts)
    return max(1, math.ceil(per_node / max(1, nofile - SERVER_SPARE_FDS)))


def run_fanout(opts: FanoutOptions, console: Any | None = None) -> dict[str, Any]:
    """Run one measurement and return the result object (``RESULT_KEYS`` and details)."""
    from rich.console import Console

    console = console or Console(stderr=True)
    # Cheap password hashing for the bench's throwaway users (this process only).
    os.environ.setdefault("LIVESHOP_PASSWORD_TIME_COST", "1")
    os.environ.setdefault("LIVESHOP_PASSWORD_MEMORY_COST_KIB", "8192")
    from liveshop.accounts.passwords import _hasher
    from liveshop.core.settings import get_settings

    get_settings.cache_clear()
    _hasher.cache_clear()
    limit = raise_nofile(opts.viewers * 2 + 4096)
    if opts.workers < 1:
        opts = replace(opts, workers=workers_needed(opts, _server_nofile()))
        console.print(f"{opts.workers} server process(es) per node (open-files limit)")
    per_proc = math.ceil(opts.viewers / opts.processes) + commenters_needed(opts) + SERVER_SPARE_FDS
    if per_proc > limit:
        console.print(
            f"[yellow]each server process may hold only {limit} open files (hard limit) but "
            f"needs ~{per_proc}: expect refused connections; use --workers 2[/yellow]"
        )
    workdir = Path(tempfile.mkdtemp(prefix="liveshop-fanout-"))
    db_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    fresh_pg = None
    if opts.database_url:
        fresh_pg = db_url = asyncio.run(_fresh_postgres(opts.database_url))
    try:
        result = _run_with(opts, db_url, workdir, console)
    finally:
        if fresh_pg is not None:
            asyncio.run(_drop_postgres(fresh_pg))
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the nodes' logs) when a run fails
    return result


def _run_with(opts: FanoutOptions, db_url: str, workdir: Path, console: Any) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from liveshop.core.migrate import upgrade

    commenters = commenters_needed(opts)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        step = progress.add_task("preparing database", total=None)
        upgrade(db_url)
        session_id, tokens = asyncio.run(_prepare(db_url, commenters))
        progress.update(step, description=f"starting {opts.processes} server process(es)")
        nodes = _Nodes(opts, db_url, workdir)
        try:
            nodes.wait_ready()
            result = _measure(opts, nodes, session_id, tokens, progress)
        finally:
            progress.update(step, description="stopping server nodes")
            nodes.stop()
    return result


async def _fresh_postgres(url: str) -> str:
    """A new empty database on the server of ``url``; returns its URL."""
    from sqlalchemy.engine import make_url

    base = make_url(url)
    if base.drivername in ("postgres", "postgresql"):
        base = base.set(drivername="postgresql+asyncpg")
    name = f"liveshop_bench_{uuid.uuid4().hex[:10]}"
    await _pg_admin(base, f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres(url: str) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = target.set(database="postgres")
    with contextlib.suppress(Exception):
        await _pg_admin(admin, f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')


async def _pg_admin(url: Any, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _measure(
    opts: FanoutOptions, nodes: _Nodes, session_id: int, tokens: list[str], progress: Any
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    urls = [
        f"ws://127.0.0.1:{nodes.ports[i % len(nodes.ports)]}/ws/live/{session_id}"
        for i in range(opts.viewers)
    ]
    every = max(opts.parse_every, math.ceil(opts.viewers / opts.max_parsed))
    sampled = urls[::every]
    rest = [u for i, u in enumerate(urls) if i % every]
    procs_n = opts.client_procs or max(1, min(8, math.ceil(len(rest) / 2500)))
    shared: dict[str, Any] = {
        "connected": ctx.Value("i", 0),
        "ready": ctx.Semaphore(0),
        "go": ctx.Event(),
        "start_ms": ctx.Value("d", 0.0),
        "drain": opts.drain_s,
        "results": ctx.Queue(),
        "client_cpus": _client_cpus(opts.placement),
        "placement": opts.placement,
    }
    rss_idle = nodes.rss_mb()
    sample_args = (sampled, True, 0.0, shared, opts.seconds)
    procs = [ctx.Process(target=_viewer_proc, args=sample_args, daemon=True)]
    for p in range(procs_n if rest else 0):
        args = (rest[p::procs_n], False, p / procs_n, shared, opts.seconds)
        procs.append(ctx.Process(target=_viewer_proc, args=args, daemon=True))
    if tokens:
        comment_urls = [
            f"ws://127.0.0.1:{nodes.ports[i % len(nodes.ports)]}/ws/live/{session_id}?token={t}"
            for i, t in enumerate(tokens)
        ]
        args2 = (comment_urls, opts.chat_rate, shared, opts.seconds)
        procs.append(ctx.Process(target=_commenter_proc, args=args2, daemon=True))
    for proc in procs:
        proc.start()
    connecting = progress.add_task("viewers connected", total=opts.viewers)
    ready = 0
    deadline = time.monotonic() + 120 + opts.viewers / 100
    while ready < len(procs):
        if shared["ready"].acquire(timeout=0.2):
            ready += 1
        progress.update(connecting, completed=shared["connected"].value)
        failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
        if time.monotonic() > deadline or failed:
            raise RuntimeError(
                f"viewers could not connect: {shared['connected'].value} of {opts.viewers}"
                f" connected, client exit codes {failed}"
            )
    progress.update(connecting, completed=shared["connected"].value)
    rss_loaded = nodes.rss_mb()
    start_ms = time.time() * 1000 + 500
    shared["start_ms"].value = start_ms
    if opts.stock_rate:
        nodes.start_stock(start_ms, opts.seconds, opts.stock_rate, session_id)
    cpu_before = nodes.cpu_s()
    load_before = os.getloadavg()[0]
    shared["go"].set()
    window = progress.add_task("measuring", total=round(opts.seconds + opts.drain_s))
    while time.time() * 1000 < start_ms + opts.seconds * 1000:
        progress.update(window, completed=int((time.time() * 1000 - start_ms) / 1000))
        time.sleep(0.2)
    cpu_after = nodes.cpu_s()
    rss_end = nodes.rss_mb()
    results = [shared["results"].get(timeout=120 + opts.drain_s) for _ in procs]
    for proc in procs:
        proc.join(30)
    stock_sent = nodes.stock_sent() if opts.stock_rate else 0
    summary = _summary(
        opts, results, stock_sent, cpu_before, cpu_after, rss_idle, rss_loaded, rss_end
    )
    # Other work on the machine shows up as latency: say how busy it was.
    summary["host_load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return summary


def _summary(
    opts: FanoutOptions,
    results: list[dict[str, Any]],
    stock_sent: int,
    cpu_before: list[float],
    cpu_after: list[float],
    rss_idle: list[float],
    rss_loaded: list[float],
    rss_end: list[float],
) -> dict[str, Any]:
    viewer_results = [r for r in results if "connected" in r]
    comments_sent = sum(int(r.get("comments_sent", 0)) for r in results)
    send_lags = _merged([r for r in results if "send_lags" in r], "send_lags")
    latencies = _merged(viewer_results, "latencies")
    stock = _merged(viewer_results, "stock_latencies")
    connected = sum(int(r["connected"]) for r in viewer_results)
    deliveries = sum(int(r["counted"]) + int(r["parsed"]) for r in viewer_results)
    events_sent = comments_sent + stock_sent
    cpu = [(a - b) / opts.seconds for a, b in zip(cpu_after, cpu_before, strict=True)]
    per_k = max(connected, 1) / 1000
    return {
        "viewers_connected": connected,
        "events_sent": events_sent,
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / opts.seconds),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "dropped_viewers": sum(int(r["dropped"]) for r in viewer_results),
        "max_ms": round(latencies[-1], 1) if latencies else 0.0,
        "stock_p50_ms": round(percentile(stock, 0.50), 1),
        "stock_p99_ms": round(percentile(stock, 0.99), 1),
        "comments_sent": comments_sent,
        # Latency the load generator itself adds: how late comments left the commenters.
        "comment_send_lag_p99_ms": round(percentile(send_lags, 0.99), 1),
        "stock_sent": stock_sent,
        "completeness": round(deliveries / max(events_sent * connected, 1), 3),
        "latency_samples": len(latencies),
        "frames_received": sum(int(r["frames"]) for r in viewer_results),
        "server_cpu_cores": [round(c, 2) for c in cpu],
        "server_cpu_per_1k_viewers": round(sum(cpu) / per_k, 3),
        "server_rss_mb": [round(m, 1) for m in rss_end],
        "server_mem_per_1k_viewers_mb": round((sum(rss_loaded) - sum(rss_idle)) / per_k, 1),
        "mode": "naive" if opts.naive else "batched",
        "options": asdict(opts),
    }


def _merged(results: list[dict[str, Any]], key: str) -> list[float]:
    values: list[float] = []
    for r in results:
        block = array.array("d")
        block.frombytes(r[key])
        values.extend(block)
    values.sort()
    return values


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each number over several runs (other fields from the first run)."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            med = statistics.median(float(r[key]) for r in runs)
            out[key] = int(med) if isinstance(value, int) else round(med, 3)
        elif isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            out[key] = [  # per node
                round(statistics.median(float(r[key][i]) for r in runs), 3)
                for i in range(len(value))
            ]
    out["runs"] = len(runs)
    for key in ("p99_ms", "stock_p99_ms", "deliveries_per_s", "host_load_1m"):
        out[f"{key}_each_run"] = [r[key] for r in runs]
    return out


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--node":
    _cpu = int(sys.argv[3])
    _node_main(int(sys.argv[2]), None if _cpu < 0 else _cpu, sys.argv[4] == "1")
