"""One measurement: start the nodes, connect the viewers, publish, collect and summarise."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.accounts.passwords import _hasher
from liveshop.bench.fanout.options import (
    SERVER_SPARE_FDS,
    FanoutOptions,
    client_cpus,
    commenters_needed,
    free_port,
    percentile,
    proc_cpu_s,
    proc_rss_mb,
    raise_nofile,
    server_nofile,
    workers_needed,
)
from liveshop.bench.fanout.server import prepare_room
from liveshop.bench.fanout.viewers import commenter_proc, viewer_proc
from liveshop.core.migrate import upgrade
from liveshop.core.settings import get_settings

# --- the run -------------------------------------------------------------------------------


class Nodes:
    """The server processes, their ports, and their CPU and memory use."""

    def __init__(self, opts: FanoutOptions, db_url: str, workdir: Path) -> None:
        self.ports = [free_port() for _ in range(opts.nodes)]
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
            "LIVESHOP_ANALYTICS_CAPTURE": "1" if opts.capture else "0",
            "LIVESHOP_LIVE_HEARTBEAT_S": str(opts.heartbeat_s or 15.0),
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
        return [proc_cpu_s(p.pid) for p in self.procs]

    def rss_mb(self) -> list[float]:
        return [proc_rss_mb(p.pid) for p in self.procs]

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


def run_fanout(opts: FanoutOptions, console: Any | None = None) -> dict[str, Any]:
    """Run one measurement and return the result object (``RESULT_KEYS`` and details)."""
    console = console or Console(stderr=True)
    # Cheap password hashing for the bench's throwaway users (this process only).
    os.environ.setdefault("LIVESHOP_PASSWORD_TIME_COST", "1")
    os.environ.setdefault("LIVESHOP_PASSWORD_MEMORY_COST_KIB", "8192")
    get_settings.cache_clear()
    _hasher.cache_clear()
    limit = raise_nofile(opts.viewers * 2 + 4096)
    if opts.workers < 1:
        opts = replace(opts, workers=workers_needed(opts, server_nofile()))
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
    commenters = commenters_needed(opts)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        step = progress.add_task("preparing database", total=None)
        upgrade(db_url)
        session_id, tokens = asyncio.run(prepare_room(db_url, commenters))
        progress.update(step, description=f"starting {opts.processes} server process(es)")
        nodes = Nodes(opts, db_url, workdir)
        try:
            nodes.wait_ready()
            result = _measure(opts, nodes, session_id, tokens, progress)
        finally:
            progress.update(step, description="stopping server nodes")
            nodes.stop()
    # the players' heartbeats the nodes kept (written by their capture writers; the last
    # buffer is flushed when a node stops)
    result["heartbeats_captured"] = asyncio.run(_heartbeats(db_url))
    return result


async def _heartbeats(db_url: str) -> int:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM analytics_events WHERE kind = 'hb'")
            )
            return int(found.scalar() or 0)
    finally:
        await engine.dispose()


async def _fresh_postgres(url: str) -> str:
    """A new empty database on the server of ``url``; returns its URL."""
    base = make_url(url)
    if base.drivername in ("postgres", "postgresql"):
        base = base.set(drivername="postgresql+asyncpg")
    name = f"liveshop_bench_{uuid.uuid4().hex[:10]}"
    await _pg_admin(base, f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = target.set(database="postgres")
    with contextlib.suppress(Exception):
        await _pg_admin(admin, f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')


async def _pg_admin(url: Any, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _measure(
    opts: FanoutOptions, nodes: Nodes, session_id: int, tokens: list[str], progress: Any
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
        "beat_s": opts.heartbeat_s,
        "results": ctx.Queue(),
        "client_cpus": client_cpus(opts.placement),
        "placement": opts.placement,
    }
    rss_idle = nodes.rss_mb()
    sample_args = (sampled, True, 0.0, shared, opts.seconds)
    procs = [ctx.Process(target=viewer_proc, args=sample_args, daemon=True)]
    for p in range(procs_n if rest else 0):
        args = (rest[p::procs_n], False, p / procs_n, shared, opts.seconds)
        procs.append(ctx.Process(target=viewer_proc, args=args, daemon=True))
    if tokens:
        comment_urls = [
            f"ws://127.0.0.1:{nodes.ports[i % len(nodes.ports)]}/ws/live/{session_id}?token={t}"
            for i, t in enumerate(tokens)
        ]
        args2 = (comment_urls, opts.chat_rate, shared, opts.seconds)
        procs.append(ctx.Process(target=commenter_proc, args=args2, daemon=True))
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
