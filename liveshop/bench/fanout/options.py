"""What a fan-out run is asked to do, and the small helpers every part of it uses."""

from __future__ import annotations

import contextlib
import math
import os
import resource
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

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
    # Every counting viewer's player sends a heartbeat every heartbeat_s (0: none), and the
    # server keeps them (analytics capture) unless capture is False.
    heartbeat_s: float = 15.0
    capture: bool = True
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


def pin_cpus(cpus: set[int] | None) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_loop(coro: Any) -> Any:
    return uvloop.run(coro)


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process: /proc/stat's
    first line without idle and iowait)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def client_cpus(placement: str) -> set[int] | None:
    ncpu = os.cpu_count() or 1
    if ncpu > 1 and placement == "pinned":
        return set(range(1, ncpu))
    return None


def commenters_needed(opts: FanoutOptions) -> int:
    """Signed-in sockets needed to send the chat rate within the per-socket limit."""
    return math.ceil(opts.chat_rate / COMMENTS_PER_SOCKET_S) if opts.chat_rate > 0 else 0


SERVER_SPARE_FDS = 64  # a server process's own files: database, broker, listener, logs


def server_nofile() -> int:
    """The open-files limit a server process can reach (its hard limit)."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def workers_needed(opts: FanoutOptions, nofile: int) -> int:
    """Server processes per node so that each holds its share of the sockets."""
    per_node = math.ceil(opts.viewers / opts.nodes) + commenters_needed(opts)
    return max(1, math.ceil(per_node / max(1, nofile - SERVER_SPARE_FDS)))
