"""Paying a drop's claims (and shelf claims) in batches: the node's ``PayDesk``.

When a drop sells out, every winner pays within seconds of the others. One by one, each paid
claim took ~8 transactions and ~40 statements (the order, its payment, the provider's record,
the capture, the completion), and paying ran at 20–30 orders/s. The desk group-commits them
(``core.group_commit``): the claims paid while a batch is being written wait for the next, and
a batch of any size takes

1. ONE transaction that orders them: the claims' guarded ``held → ordered`` UPDATE, the
   orders and their lines (priced once per deal and quantity: ``checkout.plain_goods``), their
   events, the claims' links, the payments, and the keep on their held units;
2. the provider, asked for every payment at once (concurrently, each under its payment's
   idempotency key, as the single path asks it);
3. ONE transaction that completes them (``completion.complete_payments``: payments, orders,
   events, the ledger's transactions, the held units sold).

A shelf claim (a tap on a product on show, no deal: ``shelf``) is paid in the same batches, at
the room's list price, its row's guard being the single way's (still unlinked, unexpired).

Whatever is not plain goes the single way (``checkout_claim`` then ``pay_order``) and gets the
same answers as before: a claim that is not the caller's, not held or run out, already ordered
(a retry), a deal price that a coupon or a campaign would change, a second pay of one claim in
the same batch. A batch that fails as a whole (an order key taken by a concurrent single pay)
is rolled back and each of its claims goes the single way too. What is acknowledged is
committed: a crash between 1 and 3 leaves payments ``processing`` that the recovery resolves by
asking the provider (``orders.payment_recovery``), as for a single payment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from liveshop.addresses.service import default_address_snapshots
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict, Problem
from liveshop.core.group_commit import GroupCommit
from liveshop.core.i18n import get_locale, set_locale, use_locale
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.inventory.models import Reservation, ReservationStatus
from liveshop.live import service as live
from liveshop.live.deals import shelf
from liveshop.live.deals.claim_checkout import checkout_claim, claim_key
from liveshop.live.deals.models import ClaimStatus, DealClaim, FlashDeal, ShelfClaim
from liveshop.live.deals.service import get_deal, room_attribution
from liveshop.markets.models import Market
from liveshop.markets.service import get_market
from liveshop.orders import completion, payment_flow
from liveshop.orders.checkout import fingerprint, new_order, plain_goods, ship_to_row
from liveshop.orders.events import announce_placed
from liveshop.orders.lines import Attribution, CheckoutLine
from liveshop.orders.models import Order, OrderEvent, Payment, PaymentStatus
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payment_method import saved_source
from liveshop.orders.payments.provider import PaymentProvider, PaymentSource
from liveshop.orders.pricing import PricedGoods, totals
from liveshop.orders.saved_cards import default_card, default_cards
from liveshop.orders.status import OrderStatus

log = structlog.get_logger("liveshop.live.deals.pay")

MAX_BATCH = 500
# A drop's winners pay within milliseconds of each other: the first batch waits this long for
# them instead of going out with the first one alone (a batch costs a fixed ~100 ms or more:
# its reads, three transactions, the provider's round trips).
LINGER_S = 0.005
# Batches being paid at once per node. Two would let the next batch be ordered while one
# waits on the provider or a commit (their claims, orders and payments are distinct; the hot
# rows they share — the deal's, the stock level's — are taken in one order, last); measured
# with the sandbox it gained nothing (BENCHMARKS.md): the completions queue on those rows.
IN_FLIGHT = 1


class ClaimKind(StrEnum):
    DEAL = "deal"  # a drop's claim (``claims``)
    SHELF = "shelf"  # a tap on a product on show, no deal (``shelf``)


@dataclass(frozen=True, slots=True)
class PayClaim:
    claim_id: int
    buyer_id: int
    card: PaymentSource | None  # None: the buyer's default saved card (one tap)
    expected_total_minor: int | None = None
    kind: ClaimKind = ClaimKind.DEAL
    # The payer's language, as their request set it: a batch runs in one task for many payers,
    # and each one's refusal (a declined card, a changed price) is written in their own words.
    locale: str = field(default_factory=get_locale)


@dataclass(frozen=True, slots=True)
class _Priced:
    goods: PricedGoods
    line: CheckoutLine
    fingerprint: str
    attribution: Attribution
    total_minor: int


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    buyer_id: int
    deal_id: int
    quantity: int
    reservation_id: int
    expires_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class Paid:
    """A claim's order (paid, or pending when the provider answers later) and its market."""

    order: Order
    market: Market


@dataclass(frozen=True, slots=True)
class _Started:
    """A request the batch took: its order, with its payment in flight."""

    index: int
    order: Order
    payment_id: int
    card: PaymentSource
    market: Market


# What a batch answers each request: its order, the exception its caller gets, or None: "pay
# it the single way".
Outcome = Paid | Exception | None


class PayDesk:
    def __init__(
        self,
        db: Database,
        provider: Callable[[], PaymentProvider],
        notifier: OrderNotifier | None,
    ) -> None:
        self.db = db
        self.provider = provider
        self.notifier = notifier
        self._batches: GroupCommit[PayClaim, Outcome] = GroupCommit(
            self._pay_all,
            max_batch=MAX_BATCH,
            name="claim-pay",
            in_flight=IN_FLIGHT,
            linger_s=LINGER_S,
        )

    @property
    def batches(self) -> int:
        return self._batches.batches

    async def pay(self, request: PayClaim) -> Paid | None:
        """The claim's order, paid (or pending); None when it must go the single way."""
        outcome = await self._batches.submit(request)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def pay_now(self, request: PayClaim) -> Paid:
        """The claim's order, paid (or pending): in the node's batch, else the single way
        (``checkout_claim`` or ``checkout_shelf_claim``, then ``pay_order``), which answers
        what the batch leaves to it (a retry, a claim not held, a price a campaign changes)
        the way ``POST /claims/{id}/pay`` does. Problems are raised."""
        paid = await self.pay(request)
        if paid is not None:
            return paid
        checkout = checkout_claim if request.kind == ClaimKind.DEAL else shelf.checkout_shelf_claim
        provider = self.provider()
        async with self.db.session() as s:
            placed = await checkout(
                s,
                request.claim_id,
                buyer_id=request.buyer_id,
                expected_total_minor=request.expected_total_minor,
            )
            order = placed.order
            if order.paid_at is None:
                card = request.card
                if card is None:
                    card = saved_source(await default_card(s, request.buyer_id), provider)
                order = await payment_flow.pay_order(
                    s,
                    provider,
                    order_id=order.id,
                    buyer_id=request.buyer_id,
                    card=card,
                    notifier=self.notifier,
                )
            return Paid(order, await get_market(s, order.market_code))

    async def _pay_all(self, requests: list[PayClaim]) -> list[Outcome]:
        outcomes: list[Outcome] = [None] * len(requests)
        try:
            async with self.db.session() as s:
                started = await self._order_all(s, requests, outcomes)
        except IntegrityError:
            log.info("a claim batch raced a single pay: each goes the single way")
            return [o if isinstance(o, Exception) else None for o in outcomes]
        if not started:
            return outcomes
        provider = self.provider()
        charged = await asyncio.gather(
            *(self._charge(provider, one, requests[one.index].locale) for one in started),
            return_exceptions=True,
        )
        captured: list[tuple[_Started, completion.Captured]] = []
        for one, got in zip(started, charged, strict=True):
            if isinstance(got, completion.Captured):
                captured.append((one, got))
            elif isinstance(got, Order):
                outcomes[one.index] = Paid(got, one.market)
            elif isinstance(got, Exception):
                outcomes[one.index] = got
            else:  # CancelledError and the like: the batch is being stopped
                raise got
        async with self.db.session() as s:
            done = await completion.complete_payments(
                s, provider, [c for _one, c in captured], notifier=self.notifier
            )
        for (one, _c), result in zip(captured, done, strict=True):
            outcomes[one.index] = (
                result if isinstance(result, Exception) else Paid(result, one.market)
            )
        return outcomes

    async def _charge(
        self, provider: PaymentProvider, one: _Started, locale: str
    ) -> completion.Captured | Order:
        # Its own task (``gather``): the payer's language for a declined card's reason.
        set_locale(locale, display=False)
        async with self.db.session() as s:  # touched only when the payment ends unpaid
            return await payment_flow.charge(
                s, provider, order=one.order, payment_id=one.payment_id, card=one.card
            )

    async def _order_all(
        self, s: AsyncSession, requests: list[PayClaim], outcomes: list[Outcome]
    ) -> list[_Started]:
        """Transaction 1: the plain claims become orders with payments in flight (commits).
        The requests it takes."""
        now = utcnow()
        deal_claims = await _claims(s, {r.claim_id for r in requests if r.kind == ClaimKind.DEAL})
        shelf_claims = await _shelf_claims(
            s, {r.claim_id for r in requests if r.kind == ClaimKind.SHELF}
        )
        priced: dict[tuple[object, ...], _Priced | None] = {}
        rooms: dict[tuple[object, ...], _Room] = {}  # read once per batch: a deal, a room's SKU
        chosen: list[tuple[_Take, _Priced]] = []
        seen: set[tuple[str, int]] = set()
        for i, request in enumerate(requests):
            take = _take(i, request, deal_claims, shelf_claims, now)
            if take is None or (request.kind, take.claim_id) in seen:
                continue  # the single way answers it (not found, expired, replayed…)
            seen.add((request.kind, take.claim_id))
            if take.price_key not in priced:
                try:
                    priced[take.price_key] = await _price(s, take, now, rooms)
                except Problem:  # the single way answers it the same way
                    priced[take.price_key] = None
            price = priced[take.price_key]
            if price is None:
                continue
            if (
                request.expected_total_minor is not None
                and request.expected_total_minor != price.total_minor
            ):
                with use_locale(request.locale):
                    outcomes[i] = Conflict(
                        _(
                            "the price changed since it was shown: nothing was charged, check "
                            "the new total"
                        ),
                        code="price-changed",
                        expected_total_minor=request.expected_total_minor,
                        total_minor=price.total_minor,
                    )
                continue
            chosen.append((take, price))
        cards = await self._cards(s, requests, [t.index for t, _p in chosen], outcomes)
        chosen = [(t, p) for t, p in chosen if t.index in cards]
        if not chosen:
            return []
        taken = await _take_claims(s, [t for t, _p in chosen], now)
        chosen = [(t, p) for t, p in chosen if (t.kind, t.claim_id) in taken]
        if not chosen:
            await s.rollback()
            return []
        orders = [
            new_order(
                p.goods,
                [replace(p.line, reservation_id=t.reservation_id)],
                buyer_id=t.buyer_id,
                attribution=p.attribution,
                idempotency_key=t.key,
                fingerprint=p.fingerprint,
                hold=t.expires_at - now,
                at=now,
            )
            for t, p in chosen
        ]
        s.add_all(orders)
        await s.flush()
        await announce_placed(s, orders)
        # Each order keeps its buyer's default address in its market, as a single checkout
        # does (one read for the batch; a buyer without one adds it before shipping).
        for market in {o.market_code for o in orders}:
            ship_to = await default_address_snapshots(
                s, {o.buyer_id for o in orders if o.market_code == market}, market
            )
            s.add_all(
                [
                    ship_to_row(o.id, ship_to[o.buyer_id])
                    for o in orders
                    if o.market_code == market and o.buyer_id in ship_to
                ]
            )
        await s.execute(
            insert(OrderEvent),
            [
                {
                    "order_id": o.id,
                    "to_status": OrderStatus.PENDING_PAYMENT,
                    "actor_id": o.buyer_id,
                    "created_at": now,
                }
                for o in orders
            ],
        )
        for kind, model in ((ClaimKind.DEAL, DealClaim), (ClaimKind.SHELF, ShelfClaim)):
            links = [
                {"id": t.claim_id, "order_id": o.id}
                for (t, _p), o in zip(chosen, orders, strict=True)
                if t.kind == kind
            ]
            if links:
                await s.execute(update(model), links)
        provider = self.provider()
        payment_ids = (
            await s.scalars(
                insert(Payment).returning(Payment.id, sort_by_parameter_order=True),
                [
                    {
                        "order_id": o.id,
                        "provider": provider.name,
                        "status": PaymentStatus.PROCESSING,
                        "amount_minor": o.total_minor,
                        "currency": o.currency,
                        "card_last4": cards[t.index].last4,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for (t, _p), o in zip(chosen, orders, strict=True)
                ],
            )
        ).all()
        # Until each payment is resolved its units stay held, whatever the hold's clock says.
        await inventory.keep_for_payment(s, [t.reservation_id for t, _p in chosen])
        await s.commit()
        return [
            _Started(t.index, o, pay_id, cards[t.index], p.goods.market)
            for (t, p), o, pay_id in zip(chosen, orders, payment_ids, strict=True)
        ]

    async def _cards(
        self,
        s: AsyncSession,
        requests: list[PayClaim],
        indexes: list[int],
        outcomes: list[Outcome],
    ) -> dict[int, PaymentSource]:
        """The card each of these requests pays with: its own, else its buyer's default
        saved card (one read for the batch); a buyer with none (or one saved with another
        provider) is answered 409 here, before anything is taken."""
        provider = self.provider()
        defaults = await default_cards(
            s, {requests[i].buyer_id for i in indexes if requests[i].card is None}
        )
        cards: dict[int, PaymentSource] = {}
        for i in indexes:
            card = requests[i].card
            if card is None:
                try:
                    with use_locale(requests[i].locale):
                        card = saved_source(defaults.get(requests[i].buyer_id), provider)
                except Problem as exc:
                    outcomes[i] = exc
                    continue
            cards[i] = card
        return cards


@dataclass(frozen=True, slots=True)
class _Take:
    """A request the batch can take: its claim (a drop's or a shelf's), as one shape."""

    index: int
    kind: ClaimKind
    claim_id: int
    buyer_id: int
    reservation_id: int
    expires_at: datetime
    quantity: int
    key: str  # the order's idempotency key (the single way's)
    deal_id: int | None = None
    session_id: int | None = None
    sku_id: int | None = None

    @property
    def price_key(self) -> tuple[object, ...]:
        """Claims priced alike: a deal and quantity, a room's SKU and quantity."""
        if self.kind == ClaimKind.DEAL:
            return ("deal", self.deal_id, self.quantity)
        return ("shelf", self.session_id, self.sku_id, self.quantity)


def _take(
    index: int,
    request: PayClaim,
    deal_claims: dict[int, _Claim],
    shelf_claims: dict[int, _Shelf],
    now: datetime,
) -> _Take | None:
    """The request as the batch takes it; None when the single way must answer it."""
    if request.kind == ClaimKind.DEAL:
        claim = deal_claims.get(request.claim_id)
        if (
            claim is None
            or claim.buyer_id != request.buyer_id
            or claim.status != ClaimStatus.HELD
            or claim.expires_at <= now
        ):
            return None
        return _Take(
            index,
            ClaimKind.DEAL,
            claim.id,
            claim.buyer_id,
            claim.reservation_id,
            claim.expires_at,
            claim.quantity,
            key=claim_key(claim.id),
            deal_id=claim.deal_id,
        )
    held = shelf_claims.get(request.claim_id)
    if (
        held is None
        or held.buyer_id != request.buyer_id
        or held.order_id is not None
        or held.expires_at <= now
        or held.reservation_status != ReservationStatus.HELD
    ):
        return None
    return _Take(
        index,
        ClaimKind.SHELF,
        held.id,
        held.buyer_id,
        held.reservation_id,
        held.expires_at,
        held.quantity,
        key=shelf.claim_key(held.id),
        session_id=held.session_id,
        sku_id=held.sku_id,
    )


async def _take_claims(
    s: AsyncSession, chosen: list[_Take], now: datetime
) -> set[tuple[ClaimKind, int]]:
    """The claims' guarded UPDATEs, the same guards as the single way's: a drop's claim
    ``held → ordered``; a shelf claim still unlinked and unexpired (its row is locked until
    the batch commits, so a give-up waiting on it then finds it linked). The ones taken."""
    taken: set[tuple[ClaimKind, int]] = set()
    deal_ids = [t.claim_id for t in chosen if t.kind == ClaimKind.DEAL]
    if deal_ids:
        rows = await s.scalars(
            update(DealClaim)
            .where(
                DealClaim.id.in_(deal_ids),
                DealClaim.status == ClaimStatus.HELD,
                DealClaim.expires_at > now,
            )
            .values(status=ClaimStatus.ORDERED)
            .returning(DealClaim.id)
            .execution_options(synchronize_session=False)
        )
        taken.update((ClaimKind.DEAL, i) for i in rows.all())
    shelf_ids = [t.claim_id for t in chosen if t.kind == ClaimKind.SHELF]
    if shelf_ids:
        rows = await s.scalars(
            update(ShelfClaim)
            .where(
                ShelfClaim.id.in_(shelf_ids),
                ShelfClaim.order_id.is_(None),
                ShelfClaim.expires_at > now,
            )
            .values(expires_at=ShelfClaim.expires_at)
            .returning(ShelfClaim.id)
            .execution_options(synchronize_session=False)
        )
        taken.update((ClaimKind.SHELF, i) for i in rows.all())
    return taken


async def _claims(s: AsyncSession, ids: set[int]) -> dict[int, _Claim]:
    if not ids:
        return {}
    rows = await s.execute(
        select(
            DealClaim.id,
            DealClaim.buyer_id,
            DealClaim.deal_id,
            DealClaim.quantity,
            DealClaim.reservation_id,
            DealClaim.expires_at,
            DealClaim.status,
        ).where(DealClaim.id.in_(ids))
    )
    return {row[0]: _Claim(*row) for row in rows.all()}


@dataclass(frozen=True, slots=True)
class _Shelf:
    id: int
    buyer_id: int
    session_id: int
    sku_id: int
    quantity: int
    reservation_id: int
    expires_at: datetime
    order_id: int | None
    reservation_status: str | None


async def _shelf_claims(s: AsyncSession, ids: set[int]) -> dict[int, _Shelf]:
    if not ids:
        return {}
    rows = await s.execute(
        select(
            ShelfClaim.id,
            ShelfClaim.buyer_id,
            ShelfClaim.session_id,
            ShelfClaim.sku_id,
            ShelfClaim.quantity,
            ShelfClaim.reservation_id,
            ShelfClaim.expires_at,
            ShelfClaim.order_id,
            Reservation.status,
        )
        .outerjoin(Reservation, Reservation.id == ShelfClaim.reservation_id)
        .where(ShelfClaim.id.in_(ids))
    )
    return {row[0]: _Shelf(*row) for row in rows.all()}


@dataclass(frozen=True, slots=True)
class _Room:
    market_code: str
    attribution: Attribution
    deal: FlashDeal | None = None


async def _price(
    s: AsyncSession, take: _Take, now: datetime, rooms: dict[tuple[object, ...], _Room]
) -> _Priced | None:
    """A claim's order as the single way prices it (``checkout_claim``: the deal's price;
    ``checkout_shelf_claim``: the room's list price), when it is the same for every buyer of
    these units (``plain_goods``); None otherwise. ``rooms``: the deals and rooms whose
    market and attribution this batch has read already."""
    if take.deal_id is not None:
        room = rooms.get(("deal", take.deal_id))
        if room is None:
            deal = await get_deal(s, take.deal_id)
            session_row = await live.get_session(s, deal.session_id)
            attribution = await room_attribution(s, session_row, deal.sku_id)
            room = rooms["deal", take.deal_id] = _Room(session_row.market_code, attribution, deal)
        assert room.deal is not None
        line = CheckoutLine(
            sku_id=room.deal.sku_id,
            quantity=take.quantity,
            unit_price_minor=room.deal.price_minor,
            deal_id=room.deal.id,
        )
    else:
        assert take.session_id is not None and take.sku_id is not None
        room = rooms.get(("room", take.session_id, take.sku_id))
        if room is None:
            session_row = await live.get_session(s, take.session_id)
            attribution = await room_attribution(s, session_row, take.sku_id)
            room = rooms["room", take.session_id, take.sku_id] = _Room(
                session_row.market_code, attribution
            )
        line = CheckoutLine(sku_id=take.sku_id, quantity=take.quantity)
    goods = await plain_goods(
        s, market_code=room.market_code, lines=[line], attribution=room.attribution, at=now
    )
    if goods is None:
        return None
    return _Priced(
        goods=goods,
        line=line,
        fingerprint=fingerprint(room.market_code, [line], room.attribution),
        attribution=room.attribution,
        total_minor=totals(goods, None).total_minor,
    )


def pay_desk_of(request: Request) -> PayDesk:
    desk: PayDesk = request.app.state.pay_desk
    return desk
