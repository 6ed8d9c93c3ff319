"""One drop: a fresh database, the server processes, the tappers, the phases, the checks.

The phases, in this order, on the same server processes and the same connections:

1. **claim** — the deal starts (``--policy``, ``--stock`` units); at the drop every buyer
   taps it (``--via http|ws``) until answered; refused buyers keep tapping for
   ``sold_out_window_s`` after the first sold-out answer.
2. **pay** — every buyer holding a claim pays it (HTTP).
3. **floor** — the same buyers on the same connections ping the cheapest authenticated
   endpoint (same auth, same transport, constant answer), about as many taps as phase 1
   answered: the ceiling the HTTP/WebSocket layer leaves.
4. **checkout** — today's path: ``POST /live/sessions/{id}/buy`` on a second deal (HTTP).
5. **naive** — ``POST /live/deals/{id}/claim?mode=naive`` on a third deal (HTTP): one
   guarded UPDATE transaction per tap (the server runs with ``LIVESHOP_BENCH_MODE=1``).

Each deal has a SKU of its own with ``--stock`` units, so the claim phase's figures and
checks are about its SKU alone; the checks afterwards cover every stock level."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from liveshop.accounts.passwords import _hasher
from liveshop.bench.drop import seed
from liveshop.bench.drop.options import CARD, DESK_COUNTERS, RESULT_KEYS, DropOptions
from liveshop.bench.drop.tappers import HELD, OUTCOMES, SOLD_OUT, UNEXPECTED, tapper_proc
from liveshop.bench.fanout.options import (
    free_port,
    machine_busy_s,
    percentile,
    proc_cpu_s,
    raise_nofile,
)
from liveshop.core.settings import get_settings

PING_PATH = "/api/v1/drops/ping"
APP_POOL = 40  # a server process's pooled database connections by default (20 + 20)
ANSWER_TIMEOUT_S = 60.0  # one tap waits this long for its answer before it is retried

# --- the server processes ------------------------------------------------------------------


def _answer(
    proc: subprocess.Popen[bytes], stdout: IO[bytes], key: str, deadline: float
) -> dict[str, Any] | None:
    """The first JSON line a server process prints with ``key`` in it, by ``deadline`` (None:
    it did not, or it exited)."""
    while time.monotonic() < deadline and proc.poll() is None:
        if not select.select([stdout], [], [], 0.1)[0]:
            continue
        line = stdout.readline()
        if not line:
            return None
        with contextlib.suppress(ValueError):
            parsed = json.loads(line)
            if isinstance(parsed, dict) and key in parsed:
                return parsed
    return None


class Nodes:
    """``workers`` server processes sharing one port, and their CPU use."""

    def __init__(self, opts: DropOptions, db_url: str, workdir: Path, pool: int) -> None:
        self.port = free_port()
        self.pool = pool
        broker = "memory://"
        if opts.workers > 1:
            sep = "&" if "?" in opts.redis_url else "?"
            broker = f"{opts.redis_url}{sep}prefix=drop{uuid.uuid4().hex[:8]}:"
        env = {
            **os.environ,
            "LIVESHOP_DATABASE_URL": db_url,
            "LIVESHOP_BROKER_URL": broker,
            "LIVESHOP_LOG_LEVEL": "WARNING",
            "LIVESHOP_BENCH_MODE": "1",  # lets ?mode=naive through (the naive baseline)
            "LIVESHOP_VIDEO_PROVIDER": "off",  # no media server in the measured processes
            "LIVESHOP_LIVE_WORKERS": str(opts.workers),
        }
        if pool:
            env["LIVESHOP_BENCH_DB_POOL"] = str(pool)
        ncpu = os.cpu_count() or 1
        self.procs: list[subprocess.Popen[bytes]] = []
        for i in range(opts.workers):
            cpu = i % ncpu if ncpu > 1 and opts.placement == "spread" else -1
            cmd = [sys.executable, "-m", "liveshop.bench.drop", "--node", str(self.port), str(cpu)]
            log = (workdir / f"server{i}.log").open("w")
            self.procs.append(
                subprocess.Popen(
                    cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
                )
            )
        self.workdir = workdir

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        for i, proc in enumerate(self.procs):
            stdout = proc.stdout
            assert stdout is not None
            if _answer(proc, stdout, "ready", deadline) is None:
                if proc.poll() is not None:
                    log = (self.workdir / f"server{i}.log").read_text()[-2000:]
                    raise RuntimeError(f"server process {i} exited ({proc.returncode}):\n{log}")
                raise TimeoutError(f"server process {i} did not start")

    def cpu_s(self) -> list[float]:
        return [proc_cpu_s(p.pid) if p.poll() is None else 0.0 for p in self.procs]

    def profile(self, prefix: str) -> list[subprocess.Popen[bytes]]:
        """py-spy sampling every server process until ``stop_profiles`` (a developer's tool:
        where a phase's server time goes; ``pip install py-spy``)."""
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        spies = []
        for proc in self.procs:
            cmd = [spy, "record", "--pid", str(proc.pid), "--rate", "250", "--nonblocking"]
            cmd += ["--format", "raw", "-o", f"{prefix}.{proc.pid}.txt"]
            spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(0.5)  # attached before the drop
        return spies

    def stats(self, timeout_s: float = 5.0) -> list[dict[str, int]]:
        """Each server process's claim desk counters (``server.desk_stats``; empty for a
        process that did not answer, e.g. a server of an older version)."""
        out: list[dict[str, int]] = []
        for proc in self.procs:
            got: dict[str, int] = {}
            if proc.poll() is None and proc.stdin is not None and proc.stdout is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.write(b"STATS\n")
                    proc.stdin.flush()
                    answer = _answer(proc, proc.stdout, "stats", time.monotonic() + timeout_s)
                    got = answer["stats"] if answer is not None else {}
            out.append(got)
        return out

    def exited(self) -> list[int]:
        """The server processes that are gone (their index)."""
        return [i for i, p in enumerate(self.procs) if p.poll() is not None]

    def log_tails(self, lines: int = 15) -> dict[str, list[str]]:
        """The last lines of each server's log (warnings and errors only: empty when all
        went well)."""
        tails = {}
        for i in range(len(self.procs)):
            text = (self.workdir / f"server{i}.log").read_text(errors="replace")
            if text.strip():
                tails[f"server{i}"] = text.strip().splitlines()[-lines:]
        return tails

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.write(b"STOP\n")
                proc.stdin.flush()
        deadline = time.monotonic() + 2  # the checks are done: nothing more is needed of it
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def stop_profiles(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on an interrupt
    for spy in spies:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()


# --- the load generator --------------------------------------------------------------------


class Tappers:
    """The load-generator processes and the phases they run together."""

    def __init__(self, opts: DropOptions, port: int, session_id: int, people: seed.People):
        ctx = mp.get_context("spawn")
        self.opts = opts
        self.shared: dict[str, Any] = {
            "results": ctx.Queue(),
            "first_sold_out_ms": ctx.RawValue("d", 0.0),
        }
        order = list(enumerate(people.buyers))
        random.Random(opts.seed).shuffle(order)  # who sits where, and who taps first
        n = opts.client_processes()
        conf = {"host": "127.0.0.1", "port": port, "session_id": session_id, "via": opts.via}
        self.queues = [ctx.Queue() for _ in range(n)]
        self.procs = []
        for p in range(n):
            share = [(no, uid, token) for no, (uid, token) in order[p::n]]
            proc = ctx.Process(
                target=tapper_proc, args=(conf, share, self.queues[p], self.shared), daemon=True
            )
            proc.start()
            self.procs.append(proc)
        self._gather(len(self.procs), 120 + opts.tappers / 50)  # connected

    def _gather(self, count: int, timeout_s: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < count:
            try:
                item = self.shared["results"].get(timeout=0.5)
            except Exception:  # queue.Empty
                failed = [p.exitcode for p in self.procs if p.exitcode not in (None, 0)]
                if failed or time.monotonic() > deadline:
                    raise RuntimeError(f"tapper processes failed or timed out ({failed})") from None
                continue
            if "error" in item:
                raise RuntimeError(f"a tapper process failed: {item['error']}")
            out.append(item)
        return out

    def phase(
        self, command: dict[str, Any], cpu: Callable[[], list[float]]
    ) -> tuple[dict[str, Any], float, list[float]]:
        """Run one phase in every process. Returns the merged records, the drop time, and
        the CPU cores each process ``cpu()`` reports on (CPU seconds so far) used from the
        drop until the last answer came in."""
        command = {
            "answer_timeout_s": ANSWER_TIMEOUT_S,
            "timeout_s": self.opts.phase_timeout_s,
            "window_s": self.opts.sold_out_window_s,
            "spread_ms": self.opts.spread_ms,
            "retap_ms": self.opts.retap_ms,
            "seed": self.opts.seed,
            **command,
        }
        for q in self.queues:
            q.put(command)
        self._gather(len(self.procs), 120 + self.opts.tappers / 50)  # connections ready
        self.shared["first_sold_out_ms"].value = 0.0
        go_ms = time.time() * 1000 + 200  # every process is waiting: the drop is in 0.2 s
        for q in self.queues:
            q.put({"go_ms": go_ms})
        time.sleep(max(0.0, go_ms / 1000 - time.time()))
        cpu0 = cpu()
        parts = self._gather(len(self.procs), self.opts.phase_timeout_s + ANSWER_TIMEOUT_S + 30)
        cpu1, end_ms = cpu(), time.time() * 1000
        span = max(end_ms - go_ms, 1.0) / 1000
        cores = [round((b - a) / span, 2) for a, b in zip(cpu0, cpu1, strict=True)]
        return _merge(parts), go_ms, cores

    def cpu_s(self) -> float:
        total = 0.0
        for p in self.procs:
            if p.pid is not None:
                with contextlib.suppress(OSError):
                    total += proc_cpu_s(p.pid)
        return total

    def stop(self) -> None:
        for q in self.queues:
            with contextlib.suppress(Exception):
                q.put({"kind": "stop"})
        for p in self.procs:
            p.join(15)
            if p.is_alive():
                p.kill()


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    answer, latency = array.array("d"), array.array("d")
    outcome, first = array.array("b"), array.array("b")
    for part in parts:
        answer.frombytes(part["answer_ms"])
        latency.frombytes(part["latency_ms"])
        outcome.frombytes(part["outcome"])
        first.frombytes(part["first"])
    return {
        "answer_ms": answer,
        "latency_ms": latency,
        "outcome": outcome,
        "first": first,
        "retries": sum(int(p["retries"]) for p in parts),
        "throttled": sum(int(p["throttled"]) for p in parts),
        "timeouts": sum(int(p["timeouts"]) for p in parts),
        "claims": sum(int(p["claims"]) for p in parts),
        "pay_now": sum(int(p["pay_now"]) for p in parts),
        "samples": [s for p in parts for s in p["samples"]][:5],
    }


# --- figures -------------------------------------------------------------------------------


def tap_figures(rec: dict[str, Any], go_ms: float) -> dict[str, Any]:
    """Throughput and latency of one phase's answered taps, and its sell-out.

    - ``taps_per_s``: taps answered from the drop to the last answer (the sold-out window
      included), ``p50_ms``/``p99_ms`` over all of them;
    - ``first_taps_per_s``: the drop's burst — every buyer's first tap answered, divided by
      the time until the last of them was; ``first_p50_ms``/``first_p99_ms`` over those;
    - ``sellout_s``: drop to the last unit's claim answered (the last "held");
      ``claims_per_s`` = units claimed / ``sellout_s``;
    - ``sold_out_per_s``: sold-out answers per second from the first to the last of them.
    An unexpected answer (a 404, a 422 …) is reported, never counted as a tap answered."""
    counts = {name: 0 for name in OUTCOMES}
    for o in rec["outcome"]:
        counts[OUTCOMES[o]] += 1
    kept = [i for i, o in enumerate(rec["outcome"]) if o != UNEXPECTED]
    answers = [rec["answer_ms"][i] for i in kept]
    outcomes = [rec["outcome"][i] for i in kept]
    latencies = sorted(rec["latency_ms"][i] for i in kept)
    firsts = [i for i in kept if rec["first"][i]]
    first_latencies = sorted(rec["latency_ms"][i] for i in firsts)
    first_end = max((rec["answer_ms"][i] for i in firsts), default=go_ms)
    taps = len(answers)
    end_ms = max(answers) if taps else go_ms
    duration = max(end_ms - go_ms, 1e-3) / 1000
    held_at = [a for a, o in zip(answers, outcomes, strict=True) if o == HELD]
    sold_out_at = sorted(a for a, o in zip(answers, outcomes, strict=True) if o == SOLD_OUT)
    sellout_s = None
    sold_out_per_s = 0.0
    if sold_out_at:
        sellout_s = round((max(held_at, default=sold_out_at[0]) - go_ms) / 1000, 3)
        span = (sold_out_at[-1] - sold_out_at[0]) / 1000
        if len(sold_out_at) > 1 and span > 0:
            sold_out_per_s = round((len(sold_out_at) - 1) / span, 1)
    claims_per_s = None
    if held_at:
        claimed_s = (max(held_at) - go_ms) / 1000
        claims_per_s = round(len(held_at) / max(claimed_s, 1e-3), 1)
    return {
        "taps": taps,
        "taps_per_s": round(taps / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else 0.0,
        "duration_s": round(duration, 3),
        "first_taps": len(firsts),
        "first_taps_per_s": round(len(firsts) / max((first_end - go_ms) / 1000, 1e-3), 1),
        "first_p50_ms": round(percentile(first_latencies, 0.50), 2),
        "first_p99_ms": round(percentile(first_latencies, 0.99), 2),
        "sellout_s": sellout_s,
        "claims_per_s": claims_per_s,
        "sold_out_per_s": sold_out_per_s,
        "answers": {k: v for k, v in counts.items() if v},
        "retries": rec["retries"],
        "throttled": rec["throttled"],
        "timeouts": rec["timeouts"],
        "unexpected_samples": rec["samples"],
    }


# --- the run -------------------------------------------------------------------------------


def run_drop(opts: DropOptions, console: Console | None = None) -> dict[str, Any]:
    """One measurement on a fresh database and fresh server processes."""
    opts.check()
    console = console or Console(stderr=True, quiet=True)
    # Cheap password hashing for the bench's throwaway users (this process only).
    os.environ.setdefault("LIVESHOP_PASSWORD_TIME_COST", "1")
    os.environ.setdefault("LIVESHOP_PASSWORD_MEMORY_COST_KIB", "8192")
    get_settings.cache_clear()
    _hasher.cache_clear()
    raise_nofile(opts.tappers * 4 + 4096)
    workdir = Path(tempfile.mkdtemp(prefix="liveshop-drop-"))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        step = progress.add_task("preparing the database", total=None)

        def say(text: str) -> None:
            progress.update(step, description=text)

        with seed.fresh_database(opts.db, opts.database_url) as url:
            say(f"seeding {opts.tappers} buyers")
            people = asyncio.run(seed.seed_people(url, opts.tappers))
            say(f"starting {opts.workers} server process(es)")
            pool = asyncio.run(seed.pool_per_server(url, opts.workers))
            nodes = Nodes(opts, url, workdir, pool)
            try:
                nodes.wait_ready()
                result = _measure(opts, url, nodes, people, say)
            finally:
                say("stopping the servers")
                nodes.stop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the servers' logs) on failure
    return result


def _measure(
    opts: DropOptions, url: str, nodes: Nodes, people: seed.People, say: Callable[[str], None]
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{nodes.port}"
    with httpx.Client(base_url=base, timeout=60) as http:
        say("setting up the shop and the live session")
        room = seed.prepare_shop(http, people, opts.stock)
        have_ping = seed.route_exists(http, people.buyers[0][1], PING_PATH)
        have_claim = seed.route_exists(http, people.buyers[0][1], "/api/v1/live/deals/0/claim")
        say(f"connecting {opts.tappers} tappers ({opts.via})")
        tappers = Tappers(opts, nodes.port, room.session_id, people)
        load_before = os.getloadavg()[0]
        phases: dict[str, dict[str, Any]] = {}
        claim_deal: int | None = None

        def measured(name: str, command: dict[str, Any]) -> dict[str, Any]:
            say(f"{name}: {opts.tappers} tappers")
            t0 = time.monotonic()
            before = nodes.stats()
            spies = nodes.profile(opts.profile_to) if opts.profile_phase == name else []
            try:
                rec, go_ms, cores = tappers.phase(
                    command, lambda: [*nodes.cpu_s(), tappers.cpu_s(), machine_busy_s()]
                )
            finally:
                stop_profiles(spies)
            figures = tap_figures(rec, go_ms)
            if command["kind"] != "floor":
                figures["claims_held"] = rec["claims"]
                figures["pay_now"] = rec["pay_now"]
            figures["server_cpu_cores"] = cores[:-2]
            # Each server's share of the phase: claims its taps got (where the winners are,
            # and so where they pay over their socket), its transactions, memory answers.
            after = nodes.stats()
            for key in DESK_COUNTERS:
                figures[f"server_{key}"] = [
                    a.get(key, 0) - b.get(key, 0) for a, b in zip(after, before, strict=True)
                ]
            figures["load_generator_cpu_cores"] = cores[-2]
            # Everything the machine ran meanwhile: servers, load generator, PostgreSQL, Redis
            # (and anything else running: meaningful on an otherwise idle machine only).
            figures["machine_cpu_cores"] = cores[-1]
            figures["wall_s"] = round(time.monotonic() - t0, 2)
            figures["servers_exited"] = nodes.exited()
            phases[name] = figures
            return figures

        try:
            if have_claim and opts.on == "shelf":
                sku = room.skus["claim"]
                claim: dict[str, Any] = {
                    "kind": "claim",
                    "via": opts.via,
                    "deal_id": None,
                    "sku_id": sku,
                    "path": f"/api/v1/live/sessions/{room.session_id}/claim",
                    "body": json.dumps({"sku_id": sku, "quantity": 1}).encode(),
                }
                measured("claim", claim)
                if phases["claim"]["claims_held"]:
                    pay: dict[str, Any] = {
                        "kind": "pay",
                        "via": opts.pay_via or opts.via,
                        "deal_id": None,
                        "shelf": True,
                        "body": _card(),
                        "new_connections": opts.pay_new_connections,
                    }
                    measured("pay", pay)
            elif have_claim:
                claim_deal = seed.start_deal(
                    http,
                    people,
                    room,
                    room.skus["claim"],
                    opts.stock,
                    policy=opts.policy,
                    hold_seconds=opts.hold_seconds,
                )
                claim = {
                    "kind": "claim",
                    "via": opts.via,
                    "deal_id": claim_deal,
                    "path": f"/api/v1/live/deals/{claim_deal}/claim",
                    "body": b'{"quantity":1}',
                }
                measured("claim", claim)
                if phases["claim"]["claims_held"] or phases["claim"]["pay_now"]:
                    buy = {"sku_id": room.skus["claim"], "deal_id": claim_deal, "quantity": 1}
                    pay = {
                        "kind": "pay",
                        "via": opts.pay_via or opts.via,
                        "deal_id": claim_deal,
                        "body": _card(),
                        "buy_path": f"/api/v1/live/sessions/{room.session_id}/buy",
                        "buy_body": json.dumps({**buy, "card_number": CARD}).encode(),
                        "new_connections": opts.pay_new_connections,
                    }
                    measured("pay", pay)
                seed.end_deal(http, people, room, claim_deal)
            if opts.floor and have_ping:
                taps = phases["claim"]["taps"] if "claim" in phases else opts.tappers * 4
                count = max(1, math.ceil(taps / opts.tappers))
                floor = {"kind": "floor", "via": opts.via, "path": PING_PATH, "body": b"{}"}
                measured("floor", {**floor, "count": count})
            if opts.checkout:
                deal = seed.start_deal(http, people, room, room.skus["checkout"], opts.stock)
                body = {"sku_id": room.skus["checkout"], "deal_id": deal, "quantity": 1}
                checkout = {
                    "kind": "checkout",
                    "via": "http",
                    "deal_id": deal,
                    "path": f"/api/v1/live/sessions/{room.session_id}/buy",
                    "body": json.dumps(body).encode(),
                    "reset": True,
                }
                measured("checkout", checkout)
                seed.end_deal(http, people, room, deal)
            if opts.naive and have_claim:
                deal = seed.start_deal(
                    http, people, room, room.skus["naive"], opts.stock, policy=opts.policy
                )
                naive = {
                    "kind": "naive",
                    "via": "http",
                    "deal_id": deal,
                    "path": f"/api/v1/live/deals/{deal}/claim?mode=naive",
                    "body": b'{"quantity":1}',
                    "reset": True,
                }
                measured("naive", naive)
                seed.end_deal(http, people, room, deal)
        finally:
            tappers.stop()
    say("checking the database")
    shelf_sku = room.skus["claim"] if opts.on == "shelf" else None
    checks = asyncio.run(
        seed.verify(url, claim_deal_id=claim_deal, stock=opts.stock, shelf_sku_id=shelf_sku)
    )
    result = _summary(opts, phases, checks, load_before, have_claim=have_claim, have_ping=have_ping)
    result["server_logs"] = nodes.log_tails()
    result["db_pool_per_server"] = nodes.pool or APP_POOL
    return result


def _card() -> bytes:
    return json.dumps({"card_number": CARD}).encode()


def _summary(
    opts: DropOptions,
    phases: dict[str, dict[str, Any]],
    checks: dict[str, Any],
    load_before: float,
    *,
    have_claim: bool,
    have_ping: bool,
) -> dict[str, Any]:
    claim = phases.get("claim", {})
    pay = phases.get("pay", {})

    def rate(name: str) -> float | None:
        return phases[name]["taps_per_s"] if name in phases else None

    floor = rate("floor")
    paid = pay.get("answers", {}).get("paid", 0)
    out: dict[str, Any] = {
        "taps": claim.get("taps", 0),
        "taps_per_s": claim.get("taps_per_s"),
        "claim_p50_ms": claim.get("p50_ms"),
        "claim_p99_ms": claim.get("p99_ms"),
        "sold_out_per_s": claim.get("sold_out_per_s"),
        "sellout_s": claim.get("sellout_s"),
        "paid_orders": checks["paid_orders"],
        "paid_per_s": round(paid / pay["duration_s"], 1) if pay.get("duration_s") else None,
        "oversold": checks["oversold"],
        "stock_identity_ok": checks["stock_identity_ok"],
        "ledger_balanced": checks["ledger_balanced"],
        "baseline_floor_taps_per_s": floor,
        "baseline_checkout_taps_per_s": rate("checkout"),
        "baseline_naive_taps_per_s": rate("naive"),
    }
    assert tuple(out) == RESULT_KEYS
    taps_per_s, sold_out_per_s = out["taps_per_s"], out["sold_out_per_s"]
    out["taps_vs_floor"] = _ratio(taps_per_s, floor)
    out["sold_out_vs_floor"] = _ratio(sold_out_per_s, floor)
    out["taps_vs_checkout"] = _ratio(taps_per_s, rate("checkout"))
    out["taps_vs_naive"] = _ratio(taps_per_s, rate("naive"))
    out["claims_per_s"] = claim.get("claims_per_s")
    out["first_taps_per_s"] = claim.get("first_taps_per_s")
    out["first_tap_p50_ms"] = claim.get("first_p50_ms")
    out["first_tap_p99_ms"] = claim.get("first_p99_ms")
    for name in ("checkout", "naive"):
        out[f"baseline_{name}_claims_per_s"] = phases.get(name, {}).get("claims_per_s")
        out[f"baseline_{name}_p99_ms"] = phases.get(name, {}).get("p99_ms")
    out["baseline_floor_p99_ms"] = phases.get("floor", {}).get("p99_ms")
    out["claims_vs_naive"] = _ratio(out["claims_per_s"], out["baseline_naive_claims_per_s"])
    out["claims_vs_checkout"] = _ratio(out["claims_per_s"], out["baseline_checkout_claims_per_s"])
    out["claims_held"] = claim.get("claims_held", 0)
    out["pay_now"] = claim.get("pay_now", 0)
    # Where the drop's winners are (claims per server process) and where they paid (each
    # process's CPU cores over the pay phase).
    out["claims_held_per_server"] = claim.get("server_held")
    out["claim_batches_per_server"] = claim.get("server_batches")
    out["pay_server_cpu_cores"] = pay.get("server_cpu_cores")
    out["pay_p50_ms"] = pay.get("p50_ms")
    out["pay_p99_ms"] = pay.get("p99_ms")
    # The servers' CPU per paid order over the pay phase (all processes): what a paid order
    # costs whatever else the machine is doing (a loaded box changes the rate, not this).
    out["server_cpu_ms_per_paid"] = (
        round(sum(pay["server_cpu_cores"]) * pay["duration_s"] * 1000 / paid, 3)
        if paid and pay.get("server_cpu_cores") and pay.get("duration_s")
        else None
    )
    # The same for the whole machine (servers, load generator, PostgreSQL, Redis): on an idle
    # machine, 1,000 ÷ this is the most paid orders per second all its cores could give.
    out["machine_cpu_ms_per_paid"] = (
        round(pay["machine_cpu_cores"] * pay["duration_s"] * 1000 / paid, 3)
        if paid and pay.get("machine_cpu_cores") is not None and pay.get("duration_s")
        else None
    )
    out["paid_units"] = checks["paid_units"]
    out["unexpected_answers"] = sum(p["answers"].get("unexpected", 0) for p in phases.values())
    out["host_load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["phases"] = phases
    out["endpoints"] = {"claim": have_claim, "ping": have_ping}
    out["options"] = asdict(opts)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the runs; the checks from the worst run."""
    out = dict(runs[-1])
    for key, value in runs[0].items():
        values = [r.get(key) for r in runs]
        if isinstance(value, bool):
            out[key] = all(bool(v) for v in values)
        elif key == "oversold":
            out[key] = max(int(v or 0) for v in values)
        elif key == "paid_orders":
            out[key] = min(int(v or 0) for v in values)
        elif isinstance(value, int | float) and all(isinstance(v, int | float) for v in values):
            med = statistics.median(float(v) for v in values if v is not None)
            out[key] = int(med) if isinstance(value, int) else round(med, 3)
    out["runs"] = len(runs)
    for key in ("taps_per_s", "claim_p99_ms", "sold_out_per_s", "paid_per_s"):
        out[f"{key}_each_run"] = [r.get(key) for r in runs]
    out["phases"] = [r["phases"] for r in runs]
    return out
