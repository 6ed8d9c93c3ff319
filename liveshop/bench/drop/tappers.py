"""The tappers: signed-in buyers on keep-alive connections, in load-generator processes.

Each process (``multiprocessing`` spawn) holds its share of the buyers, one connection
each (HTTP keep-alive, or the room's WebSocket with ``--via ws``), and runs the phases the
orchestrator sends it over its command queue, on the same connections:

- ``tap``: at the drop (one wall-clock instant for every process) every buyer taps the
  deal, and taps again until answered (a 5xx, 429 or a dropped connection is retried,
  never counted as an answer). A buyer told "held" (or queued, entered, pay now) is done;
  a buyer told "sold out" keeps tapping until ``window`` seconds after the first sold-out
  answer any tapper got, so the sold-out throughput is measured on enough samples.
- ``floor``: every buyer sends ``count`` pings, one after the other (the same connections,
  about as many taps as the drop answered).
- ``pay``: every buyer holding a claim pays it: over HTTP with the card typed in, or over
  their room socket (``--pay-via ws``: the ``pay`` frame, one tap with their saved card).

Every answered tap is recorded as (answer time, latency, outcome); the orchestrator merges
the processes' records. This module imports nothing of the app."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from liveshop.bench.drop.wire import HttpConn, WsConn, http_request
from liveshop.bench.fanout.options import pin_cpus, raise_nofile, run_loop

# Outcomes of one tap (what the answer said).
HELD, SOLD_OUT, QUEUED, ENTERED, PAY_NOW, REFUSED, PONG, PAID, UNEXPECTED = range(9)
OUTCOMES = (
    "held",
    "sold_out",
    "queued",
    "entered",
    "pay_now",
    "refused",
    "pong",
    "paid",
    "unexpected",
)
THROTTLED_WAIT_S = 0.05  # a rate-limited tap is sent again after this long (the room: 20/s)
_STATUS_OUTCOME = {"held": HELD, "queued": QUEUED, "entered": ENTERED, "pay_now": PAY_NOW}
_RETRY = -1  # not an answer: try again (5xx, a connection that went away)
_THROTTLED = -2  # not an answer: this buyer taps too fast (429, a rate-limited frame)


@dataclass
class Tapper:
    no: int  # the buyer's place in the run (0 … N-1)
    user_id: int
    token: str
    http: HttpConn | None = None
    ws: WsConn | None = None
    claim_id: int | None = None  # from the drop: what this buyer holds
    pay_now: bool = False  # first paid wins: told to pay now (the stock is taken at payment)
    taps: int = 0  # taps sent (retries included)
    answered: int = 0  # taps answered: a retried tap keeps its number (its idempotency key)


@dataclass
class Record:
    answer_ms: array.array[float] = field(default_factory=lambda: array.array("d"))
    latency_ms: array.array[float] = field(default_factory=lambda: array.array("d"))
    outcome: array.array[int] = field(default_factory=lambda: array.array("b"))
    first: array.array[int] = field(default_factory=lambda: array.array("b"))  # 1: a first tap
    retries: int = 0
    throttled: int = 0
    timeouts: int = 0
    samples: list[str] = field(default_factory=list)  # a few unexpected answers, for the report

    def add(self, answered_ms: float, latency: float, outcome: int, first: bool) -> None:
        self.answer_ms.append(answered_ms)
        self.latency_ms.append(latency)
        self.outcome.append(outcome)
        self.first.append(1 if first else 0)

    def unexpected(self, what: str) -> None:
        if len(self.samples) < 3:
            self.samples.append(what[:300])

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer_ms": self.answer_ms.tobytes(),
            "latency_ms": self.latency_ms.tobytes(),
            "outcome": self.outcome.tobytes(),
            "first": self.first.tobytes(),
            "retries": self.retries,
            "throttled": self.throttled,
            "timeouts": self.timeouts,
            "samples": self.samples,
        }


def classify_http(kind: str, status: int, body: bytes) -> tuple[int, int | None]:
    """What one HTTP answer says, and the claim (or order) id it holds."""
    if status == 429:
        return _THROTTLED, None
    if status >= 500:
        return _RETRY, None
    if kind == "floor":
        return (PONG, None) if status == 200 else (UNEXPECTED, None)
    if kind == "pay":
        if status in (200, 201) and b'"paid"' in body:
            return PAID, None
        if status == 409 and b"deal-sold-out" in body:  # first paid wins: lost at payment
            return SOLD_OUT, None
        return UNEXPECTED, None
    if status == 409:
        sold_out = b"deal-sold-out" in body or b'/problems/sold-out"' in body  # deal, shelf
        return (SOLD_OUT if sold_out else REFUSED), None
    if kind == "checkout":  # today's /buy: 201 (or 200, a replay) is an order holding units
        if status in (200, 201):
            return HELD, int(json.loads(body)["id"])
        return UNEXPECTED, None
    if status in (200, 201, 202):
        answer = json.loads(body)
        outcome = _STATUS_OUTCOME.get(str(answer.get("status")), UNEXPECTED)
        claim = answer.get("claim_id") if outcome == HELD else None
        return outcome, int(claim) if claim is not None else None
    return UNEXPECTED, None


def classify_ws(kind: str, answer: dict[str, Any]) -> tuple[int, int | None]:
    if answer.get("type") == "error":  # the frame was refused before it reached the drop
        return (_THROTTLED, None) if answer.get("code") == "rate-limited" else (UNEXPECTED, None)
    if kind == "floor":
        return (PONG, None) if answer.get("type") == "pong" else (UNEXPECTED, None)
    if kind == "pay":
        if answer.get("type") == "pay_result" and answer.get("status") == "paid":
            return PAID, None
        error = answer.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        if code == "try-again" or code == "internal-error":
            return _RETRY, None
        return (SOLD_OUT, None) if code == "deal-sold-out" else (UNEXPECTED, None)
    error = answer.get("error")
    if isinstance(error, dict):
        code = str(error.get("code"))
        if code in ("deal-sold-out", "sold-out"):  # a deal's, a product's on show
            return SOLD_OUT, None
        if code == "rate-limited":
            return _THROTTLED, None
        if code == "try-again":
            return _RETRY, None
        return REFUSED, None
    outcome = _STATUS_OUTCOME.get(str(answer.get("status")), UNEXPECTED)
    claim = answer.get("claim_id") if outcome == HELD else None
    return outcome, int(claim) if claim is not None else None


class Runner:
    """One load-generator process: its buyers, their connections, the phases."""

    def __init__(self, conf: dict[str, Any], buyers: list[tuple[int, int, str]], shared: Any):
        self.conf = conf
        self.host: str = conf["host"]
        self.port: int = conf["port"]
        self.hostport = f"{self.host}:{self.port}"
        self.session_id: int = conf["session_id"]
        self.tappers = [Tapper(no, uid, token) for no, uid, token in buyers]
        self.shared = shared
        self.gate = asyncio.Semaphore(64)  # connections opened at once

    # --- connections -----------------------------------------------------------------------

    async def _open_http(self, t: Tapper) -> None:
        async with self.gate:
            for attempt in range(8):
                try:
                    t.http = await HttpConn.open(self.host, self.port)
                    return
                except OSError:
                    await asyncio.sleep(0.05 * (attempt + 1))
            t.http = await HttpConn.open(self.host, self.port)

    async def _open_ws(self, t: Tapper) -> None:
        path = f"/ws/live/{self.session_id}?token={t.token}"
        async with self.gate:
            for attempt in range(8):
                try:
                    t.ws = await WsConn.open(self.host, self.port, path)
                    return
                except (OSError, TimeoutError):
                    await asyncio.sleep(0.05 * (attempt + 1))
            t.ws = await WsConn.open(self.host, self.port, path)

    async def connect(self, transport: str, tappers: list[Tapper] | None = None) -> None:
        """Open (or reopen) the given transport's connection of every buyer that needs one."""
        wanted = self.tappers if tappers is None else tappers
        if transport == "ws":
            todo = [self._open_ws(t) for t in wanted if t.ws is None or t.ws.closed]
        else:
            todo = [self._open_http(t) for t in wanted if t.http is None or t.http.closed]
        await asyncio.gather(*todo)

    def close(self) -> None:
        for t in self.tappers:
            for conn in (t.http, t.ws):
                if conn is not None:
                    conn.close()

    # --- one tap ---------------------------------------------------------------------------

    async def _ask(self, t: Tapper, phase: dict[str, Any], n: int) -> tuple[int, int | None, str]:
        """Send one tap of ``phase`` and wait for its answer (raises on a lost connection)."""
        kind, via = phase["kind"], phase["via"]
        if via == "ws" and kind == "pay" and t.claim_id is not None:
            if t.ws is None or t.ws.closed:
                await self._open_ws(t)
            assert t.ws is not None
            pay = {
                "type": "pay",
                "claim_id": t.claim_id,
                "kind": "shelf" if phase.get("shelf") else "deal",
                "ref": f"{t.no}.p{n}",
            }
            answer = await asyncio.wait_for(t.ws.send(pay), phase["answer_timeout_s"])
            outcome, held = classify_ws(kind, answer)
            return outcome, held, json.dumps(answer)[:300]
        if via == "ws" and kind != "pay":
            if t.ws is None or t.ws.closed:
                await self._open_ws(t)
            assert t.ws is not None
            ref = f"{t.no}.{n}"
            if kind == "floor":
                frame: dict[str, Any] = {"type": "ping", "ref": ref}
            elif phase.get("sku_id") is not None:  # a product on show, no deal
                frame = {"type": "claim", "sku_id": phase["sku_id"], "quantity": 1, "ref": ref}
            else:
                frame = {"type": "claim", "deal_id": phase["deal_id"], "quantity": 1, "ref": ref}
            answer = await asyncio.wait_for(t.ws.send(frame), phase["answer_timeout_s"])
            outcome, held = classify_ws(kind, answer)
            return outcome, held, json.dumps(answer)[:300]
        if t.http is None or t.http.closed:
            await self._open_http(t)
        assert t.http is not None
        request = self._request(t, phase, n)
        status, body = await asyncio.wait_for(t.http.send(request), phase["answer_timeout_s"])
        outcome, held = classify_http(kind, status, body)
        return outcome, held, f"{status} {body[:280]!r}"

    def _request(self, t: Tapper, phase: dict[str, Any], n: int) -> bytes:
        kind = phase["kind"]
        if kind == "floor":
            return http_request("POST", phase["path"], self.hostport, t.token, phase["body"])
        if kind == "pay" and t.claim_id is not None:
            kind_path = "shelf-claims" if phase.get("shelf") else "claims"
            path = f"/api/v1/live/{kind_path}/{t.claim_id}/pay"
            return http_request("POST", path, self.hostport, t.token, phase["body"])
        if kind == "pay":  # first paid wins: buy at the deal price, paying at once
            key = f"Idempotency-Key: drop-pay-{phase['deal_id']}-{t.no}\r\n"
            return http_request(
                "POST", phase["buy_path"], self.hostport, t.token, phase["buy_body"], key
            )
        if kind == "checkout":
            key = f"Idempotency-Key: drop-{phase['deal_id']}-{t.no}-{n}\r\n"
            return http_request("POST", phase["path"], self.hostport, t.token, phase["body"], key)
        return http_request("POST", phase["path"], self.hostport, t.token, phase["body"])

    # --- phases ----------------------------------------------------------------------------

    async def _tapper(self, t: Tapper, phase: dict[str, Any], rec: Record) -> None:
        kind = phase["kind"]
        deadline = phase["go_ms"] + phase["timeout_s"] * 1000
        window_ms = phase.get("window_s", 0.0) * 1000
        first_sold_out = self.shared["first_sold_out_ms"]
        count = phase.get("count", 1)
        answered = 0
        retry = 0
        retap_s = phase.get("retap_ms", 0.0) / 1000
        spread_ms = phase.get("spread_ms", 0.0)
        if spread_ms > 0:  # this buyer's reaction time to the drop, from the run's seed
            delay = random.Random(phase["seed"] * 1_000_003 + t.no).uniform(0, spread_ms)
            await asyncio.sleep(delay / 1000)
        while True:
            now_ms = time.time() * 1000
            if now_ms > deadline:
                rec.timeouts += 1
                return
            t.taps += 1
            started = time.perf_counter()
            try:
                outcome, held, text = await self._ask(t, phase, t.answered)
            except (OSError, TimeoutError, ConnectionError, ValueError) as exc:
                rec.retries += 1
                rec.unexpected(f"{kind}: {type(exc).__name__} {exc}")
                retry += 1
                await asyncio.sleep(min(0.2, 0.01 * retry))
                continue
            done_ms = time.time() * 1000
            if outcome == _THROTTLED:  # the server's per-buyer limit: wait a tap's turn
                rec.throttled += 1
                await asyncio.sleep(THROTTLED_WAIT_S)
                continue
            if outcome == _RETRY:
                rec.retries += 1
                retry += 1
                await asyncio.sleep(min(0.2, 0.01 * retry))
                continue
            retry = 0
            t.answered += 1
            rec.add(done_ms, (time.perf_counter() - started) * 1000, outcome, answered == 0)
            answered += 1
            if outcome == UNEXPECTED:
                rec.unexpected(f"{kind}: {text}")
                return
            if kind == "floor":
                if answered >= count:
                    return
                continue
            if kind == "pay":  # paid, or (first paid wins) sold out at payment: done
                return
            if outcome == HELD:
                t.claim_id = held
                return
            if outcome == PAY_NOW:
                t.pay_now = True
                return
            if outcome != SOLD_OUT:
                return
            first = first_sold_out.value
            if first == 0.0 or done_ms < first:
                first_sold_out.value = done_ms
                first = done_ms
            if done_ms >= first + window_ms:
                return
            if retap_s > 0:
                await asyncio.sleep(retap_s)

    async def run_phase(self, phase: dict[str, Any]) -> dict[str, Any]:
        rec = Record()
        kind = phase["kind"]
        tappers = [t for t in self.tappers if t.claim_id or t.pay_now] if kind == "pay" else None
        if tappers is None:
            tappers = self.tappers
        await asyncio.sleep(max(0.0, phase["go_ms"] / 1000 - time.time()))
        await asyncio.gather(*(self._tapper(t, phase, rec) for t in tappers))
        out = rec.as_dict()
        out["claims"] = sum(1 for t in self.tappers if t.claim_id is not None)
        out["pay_now"] = sum(1 for t in self.tappers if t.pay_now)
        return out


async def _main(
    conf: dict[str, Any], buyers: list[tuple[int, int, str]], commands: Any, shared: Any
) -> None:
    loop = asyncio.get_running_loop()
    runner = Runner(conf, buyers, shared)
    results = shared["results"]
    try:
        await runner.connect(conf["via"])
        results.put({"ready": True})
        while True:
            command = await loop.run_in_executor(None, commands.get)
            if command["kind"] == "stop":
                return
            # Prepare: every connection this phase uses is open before the drop.
            transport = command["via"]
            if command["kind"] == "pay":
                payers = [t for t in runner.tappers if t.claim_id or t.pay_now]
                if transport == "ws":  # on their room sockets (a first-paid-wins buy: HTTP)
                    await runner.connect("ws", [t for t in payers if t.claim_id])
                    payers = [t for t in payers if not t.claim_id]
                if command.get("new_connections"):  # the kernel spreads them over the servers
                    for t in payers:
                        if t.http is not None:
                            t.http.close()
                            t.http = None
                await runner.connect("http", payers)
            else:
                if command.get("reset"):
                    for t in runner.tappers:
                        t.claim_id, t.pay_now = None, False
                await runner.connect(transport)
            results.put({"ready": True})
            go = await loop.run_in_executor(None, commands.get)
            results.put(await runner.run_phase({**command, **go}))
    except Exception as exc:  # tell the orchestrator instead of leaving it waiting
        results.put({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        runner.close()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0.05)


def tapper_proc(
    conf: dict[str, Any], buyers: list[tuple[int, int, str]], commands: Any, shared: Any
) -> None:
    pin_cpus(conf.get("cpus"))
    raise_nofile(len(buyers) * 2 + 1024)
    run_loop(_main(conf, buyers, commands, shared))
