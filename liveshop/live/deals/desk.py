"""The node's claim desk: where taps on a drop arrive (HTTP and the room socket) and leave.

- **Who is asking** comes from the node's token cache (``accounts.token_cache``): no database
  read per tap, and a revoked token stops within a second.
- **Sold out is answered from memory.** The desk keeps each running deal's units left, as
  the last claim batch (of any node: they announce on the broker's ``deals:stock`` channel)
  left them. While that says 0 and is under a second old, a tap is refused without touching
  the database; after that one tap goes through a batch again, so units given back (a hold
  that ran out, a cancelled order) are on offer again within a second. *First paid wins*
  drops are answered from memory too (``pay_now``: no claim is made).
- **Everything else is batched**: one task per deal and node takes the taps that arrived
  while its previous batch was in the database and decides them in one transaction
  (``claims.decide``) — group commit: no added wait when taps are few, fewer and bigger
  transactions when they are many. Answers go out only after the commit.
- After each batch the room hears the units left (at most every 50 ms per deal and node,
  the last figure always), with the deal's ``version`` so a viewer never goes back to an
  older, higher figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.accounts.token_cache import TokenCache
from liveshop.core.broker import Broker, Subscription
from liveshop.core.db import Database
from liveshop.core.metrics import CLAIMS
from liveshop.core.tasks import stop_if_cancelled
from liveshop.live.deals import claims, expiry, shelf
from liveshop.live.deals.claims import Answer, BatchOutcome, Tap, refused
from liveshop.live.deals.models import DealPolicy, DealStatus, FlashDeal
from liveshop.live.deals.service import deal_available
from liveshop.realtime.ports import Tapper
from liveshop.realtime.publish import RoomPublisher

log = structlog.get_logger("liveshop.live.deals.desk")

CHANNEL = "deals:stock"
SOLD_OUT_FRESH_S = 1.0  # a remembered "0 left" answers taps for this long
IDLE_S = 30.0  # a deal's batcher stops after this long without taps
ROOM_EVERY_S = 0.05  # room stock events per deal and node, at most one per this
MAX_QUANTITY = 99
# While a deal still has units, a batch asks for at most this many (its first taps in arrival
# order; the rest wait for the next batch, first in line). Taps reach every node at once and
# the batches of all nodes take the deal's row lock in turn: a bound below the drop's units
# lets the nodes' batches interleave, so the winners — and their payments, made on the
# node their socket is on — are spread over the nodes instead of going to whichever node's
# first batch held enough taps to take everything. Chosen from ``liveshop bench drop`` (2,000
# tappers, 500 units, two server processes; BENCHMARKS.md, "a drop's winners on every node"):
# 250 still let one node's batches take 60 % of the units; 100 split them 248 : 252 with
# ~50 ms batches and no loss of taps/s; 50 tripled the transactions and raised claim p99.
CONTESTED_UNITS = 100
MAX_ID = 2**63 - 1


@dataclass(slots=True)
class DealInfo:
    """What this node knows of a running deal."""

    deal_id: int
    session_id: int
    sku_id: int
    product_id: int
    policy: str
    per_buyer_limit: int | None
    ends_at: datetime
    draw_at: datetime | None
    drawn: bool
    active: bool
    available: int
    version: int
    checked: float  # monotonic time ``available`` was last confirmed
    waiting: int = 0
    served_through: int = 0
    ends_ts: float = 0.0  # ends_at plus the grace (``expiry``), POSIX (a float compare per tap)
    sold_out: Answer = field(default_factory=lambda: _sold_out(0))  # answered again and again

    def __post_init__(self) -> None:
        self.ends_ts = (self.ends_at + expiry.grace()).timestamp()
        self.sold_out = _sold_out(self.deal_id)

    def refuses_from_memory(self) -> bool:
        """Whether a tap is answered "sold out" from memory now: the last figure heard says
        nothing is left and is under ``SOLD_OUT_FRESH_S`` old (a queue lines taps up, a
        lottery takes entries until its draw: those go to a batch)."""
        return (
            self.available <= 0
            and self.policy != DealPolicy.QUEUE
            and not self.taking_entries()
            and time.monotonic() - self.checked < SOLD_OUT_FRESH_S
        )

    def gives_units(self) -> bool:
        """Whether a tap may get units now (as far as this node knows)."""
        return self.available > 0 and not self.taking_entries()

    def taking_entries(self) -> bool:
        """A lottery before its draw: taps are entries, not claims."""
        return self.policy == DealPolicy.LOTTERY and not self.drawn

    def stock_fields(self) -> dict[str, int | None]:
        return {
            "version": self.version,
            "waiting": self.waiting,
            "served_through": self.served_through,
        }


@dataclass(slots=True)
class ShelfInfo:
    """What this node knows of a SKU on show in a live room (no deal): its units left, as
    the last shelf batch (of any node) left them."""

    session_id: int
    sku_id: int
    product_id: int | None
    available: int
    best: int  # the most one tap can get (one warehouse per hold)
    checked: float
    sold_out: Answer  # the refusal answered again and again while nothing is left
    version: int = 0  # of the figures above: a node's older batch never overwrites them


def _int_field(frame: dict[str, Any], key: str, *, default: int | None, top: int) -> int:
    value = frame.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise ValueError(f"{key} must be a whole number from 1 to {top}")
    return value


def is_buyer(principal: Principal) -> bool:
    return principal.has(Role.BUYER, Role.ADMIN)


class ClaimDesk:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        tokens: TokenCache,
        publisher: Callable[[], RoomPublisher],
    ) -> None:
        self.db = db
        self.broker = broker
        self.tokens = tokens
        self.publisher = publisher
        self.batches = 0  # transactions run (tests, metrics)
        self.memory_answers = 0  # taps answered without the database
        self.held = 0  # taps on this node answered with a claim (tests, ``bench drop``)
        self._info: dict[int, DealInfo] = {}
        self._loading: dict[int, asyncio.Future[DealInfo | None]] = {}
        # Announcements heard while the deal was being loaded: applied once it is (if newer).
        self._heard: dict[int, dict[str, Any]] = {}
        self._batchers: dict[int, _Batcher] = {}
        self._room: dict[int, _RoomStock] = {}
        self._shelf: dict[tuple[int, int], ShelfInfo] = {}  # (session, sku) -> units left
        self._shelf_batchers: dict[tuple[int, int], _ShelfBatcher] = {}
        self._shelf_room: dict[tuple[int, int], _RoomStock] = {}
        self._subscription: Subscription | None = None
        self._subscribing: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def start(self) -> None:
        """At the app's start: listen to every node's stock announcements now, so a deal
        started on any node is loaded here as soon as it is announced (``_remember``) and its
        first tap on this node finds it in memory — a cold node's first taps would otherwise
        wait for the subscription and the deal's read while a warm node's already claim.
        In the background: start-up never waits on the broker (if it is down, the first tap
        subscribes, as before)."""
        if not self._closed:
            self._spawn(self._subscribe())

    # --- taps --------------------------------------------------------------------------

    async def tap(
        self,
        principal: Principal,
        deal_id: int,
        quantity: int = 1,
        *,
        session_id: int | None = None,
        naive: bool = False,
    ) -> Answer:
        """Decide one tap (see the module docstring). ``session_id``: the room it came from
        (a deal of another room is refused); ``naive``: its own transaction, unbatched (the
        benchmark's baseline)."""
        if not is_buyer(principal):
            return refused("wrong-role", "buying needs the buyer role")
        info = self._info.get(deal_id) or await self.info(deal_id)
        if info is None or (session_id is not None and info.session_id != session_id):
            return refused("deal-not-found", f"flash deal {deal_id} does not exist")
        if naive:  # the benchmark's baseline: straight to its own transaction
            async with self.db.session() as s:
                outcome = await claims.decide(s, deal_id, [Tap(principal.user_id, quantity)])
            CLAIMS.inc()
            self.batches += 1
            self._after(outcome)
            return outcome.answers[0]
        if not info.active or info.ends_ts <= time.time():
            self.memory_answers += 1
            return refused("deal-ended", "this flash deal has ended", deal_id=deal_id)
        if info.policy == DealPolicy.FIRST_PAID_WINS:
            self.memory_answers += 1
            if info.available <= 0 and time.monotonic() - info.checked < SOLD_OUT_FRESH_S:
                return info.sold_out
            return Answer(
                status="pay_now",
                quantity=quantity,
                extra={"deal_id": deal_id, "available": info.available},
            )
        if info.refuses_from_memory():
            self.memory_answers += 1
            return info.sold_out
        answer = await self._batcher(deal_id).submit(Tap(principal.user_id, quantity))
        assert answer is not None
        return answer

    async def tap_shelf(
        self, principal: Principal, session_id: int, sku_id: int, quantity: int = 1
    ) -> Answer:
        """A tap on a product on show in a live room, without a deal (``live.deals.shelf``):
        refused from memory while the SKU's last batch (of any node) left fewer units than
        asked and is under a second old; else decided in this node's batch for the SKU."""
        if not is_buyer(principal):
            return refused("wrong-role", "buying needs the buyer role")
        info = self._shelf.get((session_id, sku_id))
        if (
            info is not None
            and info.best < quantity
            and time.monotonic() - info.checked < SOLD_OUT_FRESH_S
        ):
            self.memory_answers += 1
            return (
                info.sold_out if info.best == 0 else shelf.sold_out(session_id, sku_id, info.best)
            )
        await self._subscribe()
        answer = await self._shelf_batcher(session_id, sku_id).submit(
            Tap(principal.user_id, quantity)
        )
        assert answer is not None
        return answer

    async def serve_shelf(self, session_id: int, sku_id: int) -> None:
        """Run a shelf batch without taps: every node learns the SKU's units left now (after
        a claim was given up), so a remembered "sold out" does not outlive it."""
        await self._shelf_batcher(session_id, sku_id).submit(None)

    async def check(self, tapper: Tapper) -> bool:
        principal = await self.tokens.principal(tapper.token, via_cookie=tapper.via_cookie)
        return principal is not None

    async def tap_frame(
        self, tapper: Tapper, session_id: int, frame: dict[str, Any]
    ) -> dict[str, Any]:
        """A ``claim`` frame from a room socket (``realtime.ports.ClaimDesk``)."""
        try:
            on_shelf = "deal_id" not in frame and "sku_id" in frame
            deal_id = _int_field(
                frame, "sku_id" if on_shelf else "deal_id", default=None, top=MAX_ID
            )
            quantity = _int_field(frame, "quantity", default=1, top=MAX_QUANTITY)
        except ValueError as exc:
            return {"error": {"code": "bad-claim", "detail": str(exc)}}
        principal = await self.tokens.principal(tapper.token, via_cookie=tapper.via_cookie)
        if principal is None:
            return {
                "error": {
                    "code": "invalid-token",
                    "detail": "the token is unknown, expired or revoked: sign in again",
                }
            }
        if on_shelf:
            answer = await self.tap_shelf(principal, session_id, deal_id, quantity)
        else:
            answer = await self.tap(principal, deal_id, quantity, session_id=session_id)
        return answer.body()

    async def serve(self, deal_id: int) -> None:
        """Run a batch without taps: it serves the deal's line from the units left (after
        units came back, or a draw) in turn with this node's taps, and tells the room."""
        await self.info(deal_id)
        await self._batcher(deal_id).submit(None)

    # --- what the node knows -------------------------------------------------------------

    async def info(self, deal_id: int) -> DealInfo | None:
        known = self._info.get(deal_id)
        if known is not None:
            return known
        await self._subscribe()
        return await asyncio.shield(self._load_once(deal_id))

    def _load_once(self, deal_id: int) -> asyncio.Future[DealInfo | None]:
        """The deal's load: one at a time per deal, whoever asks."""
        loading = self._loading.get(deal_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(deal_id))
            self._loading[deal_id] = loading

            def done(_f: asyncio.Future[DealInfo | None]) -> None:
                self._loading.pop(deal_id, None)
                self._heard.pop(deal_id, None)  # the load failed, or found no such deal

            loading.add_done_callback(done)
        return loading

    async def _load(self, deal_id: int) -> DealInfo | None:
        async with self.db.session(deferred=True) as s:
            deal = await s.scalar(select(FlashDeal).where(FlashDeal.id == deal_id))
            if deal is None:
                return None
            available = await deal_available(s, deal)
        info = DealInfo(
            deal_id=deal.id,
            session_id=deal.session_id,
            sku_id=deal.sku_id,
            product_id=deal.product_id,
            policy=deal.policy,
            per_buyer_limit=deal.per_buyer_limit,
            ends_at=deal.ends_at,
            draw_at=deal.draw_at,
            drawn=deal.drawn_at is not None,
            active=deal.status == DealStatus.ACTIVE,
            available=available,
            version=deal.stock_version,
            checked=time.monotonic(),
            served_through=deal.served_through,
        )
        if len(self._info) > 10_000:  # ended deals are never asked for again: forget them
            self._info = {k: v for k, v in self._info.items() if v.active}
        self._info[deal_id] = info
        heard = self._heard.pop(deal_id, None)
        if heard is not None:  # announced while we read: newer than the read, or ignored
            self._remember(heard)
        return info

    def _warm(self, deal_id: int) -> None:
        """Load a deal announced by a batch or a start (of any node) that this node does not
        know yet, in the background; one load per deal (``_loading``) whoever asks."""
        if not self._closed and deal_id not in self._loading:
            self._load_once(deal_id).add_done_callback(_quiet)

    def forget(self, deal_id: int) -> None:
        self._info.pop(deal_id, None)

    def _after(self, outcome: BatchOutcome) -> None:
        """A batch committed: remember, tell the other nodes and the room."""
        message = {
            "deal_id": outcome.deal_id,
            "available": outcome.available,
            "version": outcome.version,
            "ended": outcome.ended,
            "waiting": outcome.waiting,
            "served_through": outcome.served_through,
        }
        info = self._remember(message)
        self._spawn(self._announce(message))
        if info is not None and not outcome.ended:
            room = self._room.get(info.deal_id)
            if room is None:
                deal_id = info.deal_id
                room = self._room[deal_id] = _RoomStock(lambda: self._send_deal_stock(deal_id))
            room.changed()

    def _after_shelf(self, outcome: shelf.ShelfOutcome) -> None:
        """A shelf batch committed: remember the SKU's units left, tell the other nodes and
        the room (coalesced)."""
        if outcome.closed:
            self._shelf.pop((outcome.session_id, outcome.sku_id), None)
            return
        message = {
            "shelf": 1,
            "session_id": outcome.session_id,
            "sku_id": outcome.sku_id,
            "product_id": outcome.product_id,
            "available": outcome.available,
            "best": outcome.best,
            "version": outcome.version,
        }
        self._remember_shelf(message)
        self._spawn(self._announce(message))
        key = (outcome.session_id, outcome.sku_id)
        room = self._shelf_room.get(key)
        if room is None:
            room = self._shelf_room[key] = _RoomStock(lambda: self._send_shelf_stock(key))
        room.changed()

    def _send_deal_stock(self, deal_id: int) -> None:
        info = self._info.get(deal_id)
        if info is None or self._closed:
            return
        self._spawn(
            self.publisher().stock(
                info.session_id,
                sku_id=info.sku_id,
                available=info.available,
                product_id=info.product_id,
                deal_id=info.deal_id,
                **info.stock_fields(),
            )
        )

    def _send_shelf_stock(self, key: tuple[int, int]) -> None:
        info = self._shelf.get(key)
        if info is None or self._closed:
            return
        self._spawn(
            self.publisher().stock(
                info.session_id,
                sku_id=info.sku_id,
                available=info.available,
                product_id=info.product_id,
                version=info.version,
            )
        )

    def _remember_shelf(self, msg: dict[str, Any]) -> None:
        key = (int(msg["session_id"]), int(msg["sku_id"]))
        info = self._shelf.get(key)
        product_id = msg.get("product_id")
        if info is None:
            if len(self._shelf) > 10_000:
                self._shelf.clear()
            info = self._shelf[key] = ShelfInfo(
                session_id=key[0],
                sku_id=key[1],
                product_id=product_id if isinstance(product_id, int) else None,
                available=0,
                best=0,
                checked=0.0,
                sold_out=shelf.sold_out(key[0], key[1]),
            )
        version = int(msg.get("version") or 0)
        if version < info.version:
            return  # another node's batch already told newer figures
        info.available, info.best, info.checked, info.version = (
            int(msg["available"]),
            int(msg["best"]),
            time.monotonic(),
            version,
        )

    async def announce_stock(
        self, deal_id: int, *, available: int, version: int, ended: bool
    ) -> None:
        """Tell every node's desk (this one at once) a deal's units left, outside a batch
        (a deal started, ended, or sold units)."""
        message = {"deal_id": deal_id, "available": available, "version": version, "ended": ended}
        self._remember(message)
        await self._announce(message)

    async def _announce(self, message: dict[str, Any]) -> None:
        try:
            await self.broker.publish(CHANNEL, json.dumps(message).encode())
        except Exception:  # the other nodes catch up within SOLD_OUT_FRESH_S
            stop_if_cancelled()
            log.exception("announcing a deal's stock failed", deal_id=message.get("deal_id"))

    def _on_message(self, raw: bytes) -> None:
        try:
            msg = json.loads(raw)
            if "shelf" in msg:
                self._remember_shelf(msg)
            else:
                self._remember(msg)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable deal stock announcement dropped", raw=raw[:200])

    def _remember(self, msg: dict[str, Any]) -> DealInfo | None:
        """Take a deal's figures (a batch's, or another node's) unless older than ours. A
        deal this node does not know is loaded (``_warm``) unless it has ended; figures heard
        while it loads are kept for when it has."""
        deal_id = int(msg["deal_id"])
        info = self._info.get(deal_id)
        version = int(msg["version"])
        if info is None:
            if self._closed:
                return None
            loading = deal_id in self._loading
            if loading or not msg.get("ended"):
                heard = self._heard.get(deal_id)
                if heard is None or int(heard["version"]) <= version:
                    self._heard[deal_id] = msg
                if not loading:
                    self._warm(deal_id)
            return None
        if version < info.version:
            return info
        info.available, info.version, info.checked = (
            int(msg["available"]),
            version,
            time.monotonic(),
        )
        if msg.get("ended"):
            info.active = False
        for key in ("waiting", "served_through"):
            if isinstance(msg.get(key), int):
                setattr(info, key, msg[key])
        return info

    async def _subscribe(self) -> None:
        if self._subscription is not None:
            return
        if self._subscribing is None:
            self._subscribing = asyncio.ensure_future(self._do_subscribe())
        await asyncio.shield(self._subscribing)

    async def _do_subscribe(self) -> None:
        try:
            subscription = await self.broker.subscribe(CHANNEL, self._on_message)
            if self._closed:  # closed while subscribing
                with contextlib.suppress(Exception):
                    await self.broker.unsubscribe(subscription)
                return
            self._subscription = subscription
        except Exception:
            stop_if_cancelled()
            log.exception("subscribing to deal stock failed; relying on batches")
            self._subscribing = None

    # --- tasks ---------------------------------------------------------------------------

    def _batcher(self, deal_id: int) -> _Batcher:
        batcher = self._batchers.get(deal_id)
        if batcher is None:
            batcher = self._batchers[deal_id] = _Batcher(self, deal_id)
        return batcher

    def _shelf_batcher(self, session_id: int, sku_id: int) -> _ShelfBatcher:
        key = (session_id, sku_id)
        batcher = self._shelf_batchers.get(key)
        if batcher is None:
            batcher = self._shelf_batchers[key] = _ShelfBatcher(self, session_id, sku_id)
        return batcher

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closed = True
        for room in [*self._room.values(), *self._shelf_room.values()]:
            room.cancel()
        for batcher in [*self._batchers.values(), *self._shelf_batchers.values()]:
            await batcher.stop()
        await self.tokens.close()
        pending = [*self._tasks, *self._loading.values()]
        if self._subscribing is not None:
            pending.append(self._subscribing)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self.broker.unsubscribe(self._subscription)


def desk_of(request: Request) -> ClaimDesk:
    """The app's claim desk (``install_deals``)."""
    desk: ClaimDesk = request.app.state.claim_desk
    return desk


def _quiet(loading: asyncio.Future[DealInfo | None]) -> None:
    """A background load's failure is logged (a tap loads the deal again)."""
    if not loading.cancelled() and loading.exception() is not None:
        log.warning("loading an announced deal failed", exc_info=loading.exception())


def _sold_out(deal_id: int) -> Answer:
    return refused("deal-sold-out", "the flash deal is sold out", deal_id=deal_id, available=0)


class _Batcher:
    """One deal's taps on this node, decided a batch per transaction, in arrival order."""

    def __init__(self, desk: ClaimDesk, deal_id: int) -> None:
        self.desk = desk
        self.deal_id = deal_id
        self.pending: list[tuple[Tap | None, asyncio.Future[Answer | None]]] = []
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def submit(self, tap: Tap | None) -> asyncio.Future[Answer | None]:
        future: asyncio.Future[Answer | None] = asyncio.get_running_loop().create_future()
        self.pending.append((tap, future))
        self.wake.set()
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name=self._name())
        return future

    def _name(self) -> str:
        return f"claims-{self.deal_id}"

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _tap, future in self.pending:
            if not future.done():
                future.set_result(refused("try-again", "the server is stopping; tap again"))
        self.pending = []

    async def _run(self) -> None:
        while True:
            if not self.pending:
                self.wake.clear()
                # asyncio.timeout, not wait_for: on Python 3.11 a cancel that lands as the
                # wait ends can be swallowed by wait_for, and stop() would wait forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_S):
                        await self.wake.wait()
                if not self.pending:
                    self.task = None  # no await between this check and leaving
                    return
                continue
            batch = self._take()
            if batch:
                await self._decide(batch)

    def _take(self) -> list[tuple[Tap | None, asyncio.Future[Answer | None]]]:
        """The next batch, in arrival order: up to ``claims.MAX_BATCH`` taps; while the deal
        gives units, only as many as ask for ``CONTESTED_UNITS`` (at least one tap). While
        the node knows it is sold out (another node's batch or its own just said so), the
        taps waiting are answered from memory, as a new tap would be (a batch without taps
        still goes to the database: it serves the deal's line)."""
        info = self.desk._info.get(self.deal_id)
        if info is not None and info.refuses_from_memory():
            kept: list[tuple[Tap | None, asyncio.Future[Answer | None]]] = []
            for tap, future in self.pending:
                if tap is None:
                    kept.append((tap, future))
                elif not future.done():
                    self.desk.memory_answers += 1
                    future.set_result(info.sold_out)
            self.pending = kept
        count = min(len(self.pending), claims.MAX_BATCH)
        if info is not None and info.gives_units():
            units = 0
            for i, (tap, _f) in enumerate(self.pending[:count]):
                units += tap.quantity if tap is not None else 0
                if units >= CONTESTED_UNITS:
                    count = i + 1
                    break
        batch = self.pending[:count]
        del self.pending[:count]
        return batch

    async def _decide(self, batch: list[tuple[Tap | None, asyncio.Future[Answer | None]]]) -> None:
        taps = [t for t, _f in batch if t is not None]
        try:
            async with self.desk.db.session() as s:
                outcome = await self._decide_in(s, taps)
            CLAIMS.inc(len(taps))
        except Exception:
            stop_if_cancelled()
            log.exception("a claim batch failed", batcher=self._name(), taps=len(taps))
            self._fail(batch)
            return
        self.desk.batches += 1
        self.desk.held += sum(1 for a in outcome.answers if a.status == "held")
        self._answer(batch, outcome.answers)
        self._after(outcome)

    async def _decide_in(self, s: AsyncSession, taps: list[Tap]) -> BatchOutcome:
        return await claims.decide(s, self.deal_id, taps)

    def _after(self, outcome: Any) -> None:
        self.desk._after(outcome)

    @staticmethod
    def _fail(batch: list[tuple[Tap | None, asyncio.Future[Answer | None]]]) -> None:
        for _tap, future in batch:
            if not future.done():
                future.set_result(
                    refused("try-again", "the drop is busy: nothing was taken, tap again")
                )

    @staticmethod
    def _answer(
        batch: list[tuple[Tap | None, asyncio.Future[Answer | None]]], answers: list[Answer]
    ) -> None:
        given = iter(answers)
        for tap, future in batch:
            if not future.done():
                future.set_result(next(given) if tap is not None else None)
            elif tap is not None:
                next(given)  # the tapper went away; the claim stands (it expires unpaid)


class _ShelfBatcher(_Batcher):
    """One SKU's taps in one room (no deal) on this node, a batch per transaction."""

    def __init__(self, desk: ClaimDesk, session_id: int, sku_id: int) -> None:
        super().__init__(desk, sku_id)
        self.session_id, self.sku_id = session_id, sku_id

    def _name(self) -> str:
        return f"shelf-claims-{self.session_id}-{self.sku_id}"

    def _take(self) -> list[tuple[Tap | None, asyncio.Future[Answer | None]]]:
        batch = self.pending[: claims.MAX_BATCH]
        del self.pending[: claims.MAX_BATCH]
        return batch

    async def _decide_in(self, s: AsyncSession, taps: list[Tap]) -> Any:
        return await shelf.decide(s, self.session_id, self.sku_id, taps)

    def _after(self, outcome: Any) -> None:
        self.desk._after_shelf(outcome)


class _RoomStock:
    """Stock events to a room: the latest figure, at most every ROOM_EVERY_S (``send`` reads
    the figure when it goes out)."""

    def __init__(self, send: Callable[[], None]) -> None:
        self.send = send
        self.last = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def changed(self) -> None:
        if self.timer is not None:
            return
        wait = self.last + ROOM_EVERY_S - time.monotonic()
        if wait <= 0:
            self._send()
        else:
            self.timer = asyncio.get_running_loop().call_later(wait, self._send)

    def _send(self) -> None:
        self.timer = None
        self.last = time.monotonic()
        self.send()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
