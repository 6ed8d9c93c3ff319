"""Claims: a tap on a drop takes units for the buyer in one cheap, batched step.

A node coalesces the taps of one deal that arrive while its previous batch is in the database
(``live.deals.desk``) and hands them here as one list, in arrival order. One transaction then
decides them all, whatever their number, in a fixed handful of statements:

1. ``UPDATE flash_deals SET stock_version = stock_version + 1 … RETURNING *`` — the deal's row
   lock: batches of the same deal (from any node) run one after the other;
2. ``SELECT … FROM reservations … FOR UPDATE`` — the deal's hold, the units left to give;
3. the buyers' units so far (limited deals), the waiting line (queue, drawn lottery);
4. decide in Python, first come first served — nothing is written back from a read without
   the guard: the hold gives its units by one guarded ``UPDATE … WHERE quantity >= total``;
5. one multi-row INSERT of the buyers' holds (children of the deal's hold) and one of their
   movements; one of the claims; one upsert of the buyers' limits (guarded by the limit);
   the line's served places; new places in line.

A claim is acknowledged only after this commits, so an answered tap survives ``kill -9``.
Per policy (``DealPolicy``):

- *hold then pay*: a claim holds its units for the deal's ``hold_seconds``;
- *first paid wins*: no claims (``live.deals.desk`` answers ``pay_now``; the units are taken
  by the payment itself, ``service.buy_in_room``);
- *queue*: while nothing is left, a tap takes a place in line (one per buyer); units given back
  go to the head of the line first, and a tap waits behind anyone already waiting;
- *lottery*: until the draw a tap is an entry (one per buyer); after it, the entries are
  served in the draw's order like a line, and a tap gets only units no entry waits for
  (``live.deals.lottery``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core import domain_events
from liveshop.core.clock import utcnow
from liveshop.core.db import table_of
from liveshop.inventory import service as inventory
from liveshop.inventory.errors import OutOfStock
from liveshop.inventory.levels import dialect_insert
from liveshop.inventory.models import Reservation, ReservationStatus
from liveshop.live.deals import expiry, limits
from liveshop.live.deals.models import (
    ClaimStatus,
    DealClaim,
    DealEntry,
    DealPolicy,
    DealStatus,
    EntryStatus,
    FlashDeal,
    FlashDealBuyer,
)
from liveshop.live.events import DealClaimed

MAX_BATCH = 500  # taps decided in one transaction


@dataclass(frozen=True, slots=True)
class Tap:
    buyer_id: int
    quantity: int = 1


@dataclass(slots=True)
class Answer:
    """What one tap gets. ``status``: ``held`` (a claim), ``queued`` (a place in line),
    ``entered`` (a lottery entry) or ``refused`` (``code`` says why: ``deal-sold-out``,
    ``deal-limit-reached``, ``deal-ended``)."""

    status: str
    claim_id: int | None = None
    quantity: int = 0
    expires_at: datetime | None = None
    seq: int | None = None  # place in line / entry number
    position: int | None = None  # places ahead of it + 1 (queue)
    code: str | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    _body: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def body(self) -> dict[str, Any]:
        """The JSON answer (HTTP body or the WebSocket's ``claim_result``). Callers must not
        change it (a refusal's is built once: the desk answers the same one many times)."""
        if self.status == "refused":
            if self._body is None:
                self._body = {"error": {"code": self.code, "detail": self.detail, **self.extra}}
            return self._body
        out: dict[str, Any] = {"status": self.status, **self.extra}
        if self.claim_id is not None:
            out["claim_id"] = self.claim_id
            out["quantity"] = self.quantity
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at.isoformat()
        if self.seq is not None:
            out["ticket"] = self.seq
        if self.position is not None:
            out["position"] = self.position
        return out


def refused(code: str, detail: str, **extra: Any) -> Answer:
    return Answer(status="refused", code=code, detail=detail, extra=extra)


@dataclass(frozen=True, slots=True)
class Grant:
    """A claim made by a batch: for a tap, or for a place in line reached (``entry_id``)."""

    buyer_id: int
    quantity: int
    claim_id: int
    entry_id: int | None


@dataclass(slots=True)
class BatchOutcome:
    answers: list[Answer]
    deal_id: int
    session_id: int | None = None
    available: int = 0  # the deal's units left after the batch (its hold's quantity)
    version: int = 0  # the deal's stock_version after the batch
    served_through: int = 0
    waiting: int = 0  # places still in line (queue / drawn lottery)
    grants: list[Grant] = field(default_factory=list)
    ended: bool = False


def hold_of(deal: FlashDeal, now: datetime) -> datetime:
    return now + timedelta(seconds=deal.hold_seconds)


def lines_up(deal: FlashDeal) -> bool:
    """Whether the deal serves a line: a queue, or a lottery once drawn."""
    return deal.policy == DealPolicy.QUEUE or (
        deal.policy == DealPolicy.LOTTERY and deal.drawn_at is not None
    )


async def starved_lines(session: AsyncSession, *, now: datetime | None = None) -> list[int]:
    """Running deals whose line waits while their hold has units again — given back outside a
    claim batch (an order from a claim cancelled unpaid or run out, stock lost at payment):
    the deal clock serves them (``DealClock.tick``)."""
    now = now or utcnow()
    waiting = (
        select(DealEntry.id)
        .where(
            DealEntry.deal_id == FlashDeal.id,
            DealEntry.status == EntryStatus.WAITING,
            DealEntry.rank.is_not(None),
        )
        .exists()
    )
    rows = await session.scalars(
        select(FlashDeal.id)
        .join(Reservation, Reservation.id == FlashDeal.reservation_id)
        .where(
            FlashDeal.status == DealStatus.ACTIVE,
            FlashDeal.ends_at > now - expiry.grace(),
            FlashDeal.policy.in_([DealPolicy.QUEUE, DealPolicy.LOTTERY]),
            Reservation.status == ReservationStatus.HELD,
            Reservation.quantity > 0,
            waiting,
        )
    )
    return list(rows.all())


async def _lock_deal(session: AsyncSession, deal_id: int) -> FlashDeal | None:
    return (
        await session.scalars(
            update(FlashDeal)
            .where(FlashDeal.id == deal_id)
            .values(stock_version=FlashDeal.stock_version + 1)
            .returning(FlashDeal),
            execution_options={"populate_existing": True, "synchronize_session": False},
        )
    ).one_or_none()


async def decide(
    session: AsyncSession, deal_id: int, taps: Sequence[Tap], *, now: datetime | None = None
) -> BatchOutcome:
    """Decide ``taps`` (arrival order) on deal ``deal_id`` in one transaction, and commit.
    With no taps, serves the deal's waiting line from whatever units are left."""
    now = now or utcnow()
    try:
        outcome = await _decide(session, deal_id, list(taps), now)
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return outcome


async def _decide(
    session: AsyncSession, deal_id: int, taps: list[Tap], now: datetime
) -> BatchOutcome:
    deal = await _lock_deal(session, deal_id)
    if deal is None:
        return BatchOutcome(
            answers=[refused("deal-not-found", f"flash deal {deal_id} does not exist")] * len(taps),
            deal_id=deal_id,
            ended=True,
        )
    outcome = BatchOutcome(
        answers=[], deal_id=deal.id, session_id=deal.session_id, version=deal.stock_version
    )
    if not expiry.taking(deal, now) or deal.reservation_id is None:
        outcome.answers = [refused("deal-ended", "this flash deal has ended")] * len(taps)
        outcome.ended = True
        outcome.served_through = deal.served_through
        return outcome
    if deal.policy == DealPolicy.LOTTERY and deal.drawn_at is None:
        outcome.answers = await _enter(session, deal, taps, now)
        outcome.available = await inventory.lock_reservation(session, deal.reservation_id)
        return outcome
    available = await inventory.lock_reservation(session, deal.reservation_id)
    plan = _Plan(deal, available, now)
    line: list[DealEntry] = []
    if lines_up(deal):
        line = list(
            (
                await session.scalars(
                    select(DealEntry)
                    .where(
                        DealEntry.deal_id == deal.id,
                        DealEntry.status == EntryStatus.WAITING,
                        DealEntry.rank.is_not(None),
                    )
                    .order_by(DealEntry.rank)
                    .limit(MAX_BATCH)
                )
            ).all()
        )
    buyers = {t.buyer_id for t in taps} | {e.buyer_id for e in line}
    if limits.limited(deal) and buyers:
        plan.elsewhere = await limits.product_units(session, deal, sorted(buyers))
        plan.taken = {
            b: int(u)
            for b, u in (
                await session.execute(
                    select(FlashDealBuyer.buyer_id, FlashDealBuyer.units).where(
                        FlashDealBuyer.deal_id == deal.id,
                        FlashDealBuyer.buyer_id.in_(sorted(buyers)),
                    )
                )
            ).all()
        }
    waiting_of: dict[int, DealEntry] = {}
    if deal.policy == DealPolicy.QUEUE and taps:
        waiting_of = {
            e.buyer_id: e
            for e in (
                await session.scalars(
                    select(DealEntry).where(
                        DealEntry.deal_id == deal.id,
                        DealEntry.buyer_id.in_(sorted({t.buyer_id for t in taps})),
                    )
                )
            ).all()
        }
    served, skipped = plan.serve_line(line)
    blocked = len(served) + len(skipped) < len(line)  # someone is still waiting ahead
    enqueue: dict[int, int] = {}  # buyer -> quantity, for new places in line
    for tap in taps:
        outcome.answers.append(plan.tap(tap, blocked, waiting_of, enqueue))
    await _write(session, deal, plan, outcome, served, skipped, enqueue, now)
    outcome.available = plan.available
    return outcome


class _Plan:
    """The batch's decisions, in memory, before the guarded writes."""

    def __init__(self, deal: FlashDeal, available: int, now: datetime) -> None:
        self.deal, self.available, self.now = deal, available, now
        self.taken: dict[int, int] = {}  # units of this deal per buyer
        self.elsewhere: dict[int, int] = {}  # of the product's other deals (per-product limit)
        self.children: list[tuple[int, int, int | None]] = []  # buyer, quantity, entry id
        self.answers_for: list[Answer] = []  # the tap answers that became claims
        self.queued: list[tuple[Answer, int]] = []  # answers waiting for a new place's number
        self.served_now: set[int] = set()  # places in line this batch served
        self.skipped_now: set[int] = set()  # … and passed over
        self.answers_of: dict[int, list[Answer]] = {}  # tap answers: a place served now

    def room_for(self, buyer_id: int, quantity: int) -> int | None:
        """How many more this buyer may take, if ``quantity`` is more than that."""
        left = limits.room_left(
            self.deal, self.taken.get(buyer_id, 0), self.elsewhere.get(buyer_id, 0)
        )
        return left if left is not None and quantity > left else None

    def _grant(self, buyer_id: int, quantity: int, entry_id: int | None) -> None:
        self.available -= quantity
        self.taken[buyer_id] = self.taken.get(buyer_id, 0) + quantity
        self.children.append((buyer_id, quantity, entry_id))

    def serve_line(self, line: Sequence[DealEntry]) -> tuple[list[DealEntry], list[DealEntry]]:
        """Serve the waiting line in order while units last; a place over its buyer's limit
        by now is skipped. Strictly in order: a place the units left cannot cover stops it."""
        served: list[DealEntry] = []
        skipped: list[DealEntry] = []
        for entry in line:
            if self.room_for(entry.buyer_id, entry.quantity) is not None:
                skipped.append(entry)
                continue
            if entry.quantity > self.available:
                break
            self._grant(entry.buyer_id, entry.quantity, entry.id)
            served.append(entry)
        self.served_now = {e.id for e in served}
        self.skipped_now = {e.id for e in skipped}
        return served, skipped

    def tap(
        self,
        tap: Tap,
        blocked: bool,
        waiting_of: dict[int, DealEntry],
        enqueue: dict[int, int],
    ) -> Answer:
        deal = self.deal
        queue = deal.policy == DealPolicy.QUEUE
        mine = waiting_of.get(tap.buyer_id)
        waiting = queue and mine is not None and mine.status == EntryStatus.WAITING
        if waiting and mine is not None and mine.id in self.served_now:
            # This batch reached the buyer's place: the tap answers with the claim it got.
            answer = Answer(status="held", quantity=mine.quantity)
            self.answers_of.setdefault(mine.id, []).append(answer)
            return answer
        left = self.room_for(tap.buyer_id, tap.quantity)
        if left is not None:
            more = f"you may take {left} more" if left else "you have reached it"
            return refused(
                "deal-limit-reached",
                f"{limits.limit_text(deal)}: {more}",
                per_buyer_limit=deal.per_buyer_limit,
                per_product_limit=deal.per_product_limit,
                remaining=left,
            )
        if waiting and mine is not None and mine.id not in self.skipped_now:
            return Answer(status="queued", seq=mine.seq, quantity=mine.quantity)
        # Nobody jumps a line that is still waiting (a queue, a drawn lottery's entries).
        if not (blocked and lines_up(deal)) and tap.quantity <= self.available:
            self._grant(tap.buyer_id, tap.quantity, None)
            answer = Answer(status="held", quantity=tap.quantity)
            self.answers_for.append(answer)
            return answer
        if queue and mine is None:
            enqueue.setdefault(tap.buyer_id, tap.quantity)
            answer = Answer(status="queued", quantity=enqueue[tap.buyer_id])
            self.queued.append((answer, tap.buyer_id))
            return answer
        return refused("deal-sold-out", "the flash deal is sold out", deal_id=deal.id, available=0)


async def _write(
    session: AsyncSession,
    deal: FlashDeal,
    plan: _Plan,
    outcome: BatchOutcome,
    served: list[DealEntry],
    skipped: list[DealEntry],
    enqueue: dict[int, int],
    now: datetime,
) -> None:
    assert deal.reservation_id is not None
    expires_at = hold_of(deal, now)
    if plan.children:
        try:
            child_ids = await inventory.split_many(
                session,
                deal.reservation_id,
                [(q, f"deal:{deal.id}:claim:{b}", expires_at) for b, q, _e in plan.children],
            )
        except OutOfStock as exc:  # the row lock makes this a bug, not a race
            raise RuntimeError(f"deal {deal.id}: its hold gave less than it showed") from exc
        table = table_of(DealClaim)
        claim_ids = (
            (
                await session.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "deal_id": deal.id,
                            "buyer_id": b,
                            "reservation_id": rid,
                            "quantity": q,
                            "status": str(ClaimStatus.HELD),
                            "expires_at": expires_at,
                            "order_id": None,
                            "created_at": now,
                        }
                        for (b, q, _e), rid in zip(plan.children, child_ids, strict=True)
                    ],
                )
            )
            .scalars()
            .all()
        )
        taps = iter(plan.answers_for)
        for (b, q, entry_id), claim_id in zip(plan.children, claim_ids, strict=True):
            outcome.grants.append(Grant(b, q, claim_id, entry_id))
            answers = [next(taps)] if entry_id is None else plan.answers_of.get(entry_id, [])
            for answer in answers:
                answer.claim_id, answer.expires_at = claim_id, expires_at
                answer.extra["pay_within_s"] = deal.hold_seconds
                answer.extra["deal_id"] = deal.id
        await _count_against_limits(session, deal, plan.children)
        await domain_events.announce(
            session,
            DealClaimed(
                live_session_id=deal.session_id,
                deal_id=deal.id,
                product_id=deal.product_id,
                claims=tuple((b, q) for b, q, _e in plan.children),
            ),
        )
    by_entry = {g.entry_id: g.claim_id for g in outcome.grants if g.entry_id is not None}
    if served:
        await session.execute(
            update(table_of(DealEntry))
            .where(table_of(DealEntry).c.id == bindparam("entry_id"))
            .values(status=str(EntryStatus.SERVED), claim_id=bindparam("claim"))
            .execution_options(synchronize_session=False),
            [{"entry_id": e.id, "claim": by_entry[e.id]} for e in served],
        )
    if skipped:
        await session.execute(
            update(DealEntry)
            .where(DealEntry.id.in_([e.id for e in skipped]))
            .values(status=EntryStatus.SKIPPED)
            .execution_options(synchronize_session=False)
        )
    reached = [e.rank or 0 for e in served + skipped]
    served_through = max([deal.served_through, *reached])
    if served_through != deal.served_through:
        await session.execute(
            update(FlashDeal)
            .where(FlashDeal.id == deal.id)
            .values(served_through=served_through)
            .execution_options(synchronize_session=False)
        )
    outcome.served_through = served_through
    if enqueue:
        seqs = await _enqueue(session, deal, enqueue, now)
        for answer, buyer in plan.queued:
            answer.seq = seqs[buyer]
    for answer in outcome.answers:
        if answer.status == "queued" and answer.seq is not None:
            answer.position = answer.seq - served_through
    if deal.policy == DealPolicy.QUEUE or lines_up(deal):
        outcome.waiting = int(
            await session.scalar(
                select(func.count())
                .select_from(DealEntry)
                .where(DealEntry.deal_id == deal.id, DealEntry.status == EntryStatus.WAITING)
            )
            or 0
        )


async def _count_against_limits(
    session: AsyncSession, deal: FlashDeal, children: Sequence[tuple[int, int, int | None]]
) -> None:
    """Add each buyer's new units to their row, guarded by the limit (the batch already
    checked it under the deal's lock: a refused row here is a bug, and rolls all back)."""
    if not limits.limited(deal):
        return
    limit = deal.per_buyer_limit
    per_buyer: dict[int, int] = {}
    for b, q, _e in children:
        per_buyer[b] = per_buyer.get(b, 0) + q
    ins = dialect_insert(session)(table_of(FlashDealBuyer))
    table = table_of(FlashDealBuyer)
    stmt = ins.on_conflict_do_update(
        index_elements=["deal_id", "buyer_id"],
        set_={"units": table.c.units + ins.excluded.units},
        where=(table.c.units + ins.excluded.units <= limit) if limit is not None else None,
    )
    result = await session.execute(
        stmt.values([{"deal_id": deal.id, "buyer_id": b, "units": u} for b, u in per_buyer.items()])
    )
    if int(getattr(result, "rowcount", -1)) not in (-1, len(per_buyer)):
        raise RuntimeError(f"deal {deal.id}: a buyer's limit moved under the deal's lock")


async def _enqueue(
    session: AsyncSession,
    deal: FlashDeal,
    enqueue: dict[int, int],
    now: datetime,
) -> dict[int, int]:
    """New places at the end of the line (one per buyer: the deal's lock orders them)."""
    last = int(
        await session.scalar(select(func.max(DealEntry.seq)).where(DealEntry.deal_id == deal.id))
        or 0
    )
    seqs = {b: last + i for i, b in enumerate(enqueue, start=1)}
    await session.execute(
        insert(table_of(DealEntry)),
        [
            {
                "deal_id": deal.id,
                "buyer_id": b,
                "seq": seqs[b],
                "quantity": q,
                "rank": seqs[b],
                "status": str(EntryStatus.WAITING),
                "claim_id": None,
                "created_at": now,
            }
            for b, q in enqueue.items()
        ],
    )
    return seqs


async def _enter(
    session: AsyncSession, deal: FlashDeal, taps: Sequence[Tap], now: datetime
) -> list[Answer]:
    """Lottery, before the draw: each buyer's first tap is their entry (later taps answer
    with the same entry). Entries are numbered in arrival order."""
    existing = {
        e.buyer_id: e
        for e in (
            await session.scalars(
                select(DealEntry).where(
                    DealEntry.deal_id == deal.id,
                    DealEntry.buyer_id.in_(sorted({t.buyer_id for t in taps})),
                )
            )
        ).all()
    }
    last = int(
        await session.scalar(select(func.max(DealEntry.seq)).where(DealEntry.deal_id == deal.id))
        or 0
    )
    new: dict[int, tuple[int, int]] = {}
    answers: list[Answer] = []
    limit = limits.room_left(deal, 0, 0)
    draw = {"draw_at": deal.draw_at.isoformat() if deal.draw_at else None}
    for tap in taps:
        if limit is not None and tap.quantity > limit:
            answers.append(
                refused(
                    "deal-limit-reached",
                    limits.limit_text(deal),
                    per_buyer_limit=limit,
                    remaining=limit,
                )
            )
            continue
        if tap.buyer_id in existing:
            e = existing[tap.buyer_id]
            answers.append(Answer(status="entered", seq=e.seq, quantity=e.quantity, extra=draw))
            continue
        if tap.buyer_id not in new:
            last += 1
            new[tap.buyer_id] = (last, tap.quantity)
        seq, q = new[tap.buyer_id]
        answers.append(Answer(status="entered", seq=seq, quantity=q, extra=dict(draw)))
    if new:
        await session.execute(
            insert(table_of(DealEntry)),
            [
                {
                    "deal_id": deal.id,
                    "buyer_id": b,
                    "seq": seq,
                    "quantity": q,
                    "rank": None,
                    "status": str(EntryStatus.WAITING),
                    "claim_id": None,
                    "created_at": now,
                }
                for b, (seq, q) in new.items()
            ],
        )
    return answers
