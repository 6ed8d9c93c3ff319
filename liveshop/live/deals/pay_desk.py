"""Paying a drop's claims in batches: the node's ``PayDesk``.

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
from dataclasses import dataclass, replace
from datetime import datetime

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
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.live import service as live
from liveshop.live.deals.claim_checkout import claim_key
from liveshop.live.deals.models import ClaimStatus, DealClaim, FlashDeal
from liveshop.live.deals.service import get_deal, room_attribution
from liveshop.markets.models import Market
from liveshop.orders import completion, payment_flow
from liveshop.orders.checkout import fingerprint, new_order, plain_goods, ship_to_row
from liveshop.orders.events import announce_placed
from liveshop.orders.lines import Attribution, CheckoutLine
from liveshop.orders.models import Order, OrderEvent, Payment, PaymentStatus
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payments.provider import PaymentProvider, PaymentSource
from liveshop.orders.pricing import PricedGoods, totals
from liveshop.orders.status import OrderStatus

log = structlog.get_logger("liveshop.live.deals.pay")

MAX_BATCH = 200
# Batches being paid at once per node. Two would let the next batch be ordered while one
# waits on the provider or a commit (their claims, orders and payments are distinct; the hot
# rows they share — the deal's, the stock level's — are taken in one order, last); measured
# with the sandbox it gained nothing (BENCHMARKS.md): the completions queue on those rows.
IN_FLIGHT = 1


@dataclass(frozen=True, slots=True)
class PayClaim:
    claim_id: int
    buyer_id: int
    card: PaymentSource
    expected_total_minor: int | None = None


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
            self._pay_all, max_batch=MAX_BATCH, name="claim-pay", in_flight=IN_FLIGHT
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
            *(self._charge(provider, one) for one in started), return_exceptions=True
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
        self, provider: PaymentProvider, one: _Started
    ) -> completion.Captured | Order:
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
        claims = await _claims(s, {r.claim_id for r in requests})
        priced: dict[tuple[int, int], _Priced | None] = {}
        rooms: dict[int, _Room] = {}  # a deal's room and attribution, read once per batch
        chosen: list[tuple[int, _Claim, _Priced]] = []
        seen: set[int] = set()
        for i, request in enumerate(requests):
            claim = claims.get(request.claim_id)
            if (
                claim is None
                or claim.buyer_id != request.buyer_id
                or claim.status != ClaimStatus.HELD
                or claim.expires_at <= now
                or claim.id in seen
            ):
                continue  # the single way answers it (not found, expired, replayed…)
            seen.add(claim.id)
            key = (claim.deal_id, claim.quantity)
            if key not in priced:
                try:
                    priced[key] = await _price(s, claim, now, rooms)
                except Problem:  # the single way answers it the same way
                    priced[key] = None
            price = priced[key]
            if price is None:
                continue
            if (
                request.expected_total_minor is not None
                and request.expected_total_minor != price.total_minor
            ):
                outcomes[i] = Conflict(
                    _(
                        "the price changed since it was shown: nothing was charged, check the "
                        "new total"
                    ),
                    code="price-changed",
                    expected_total_minor=request.expected_total_minor,
                    total_minor=price.total_minor,
                )
                continue
            chosen.append((i, claim, price))
        if not chosen:
            return []
        taken = set(
            (
                await s.scalars(
                    update(DealClaim)
                    .where(
                        DealClaim.id.in_([c.id for _i, c, _p in chosen]),
                        DealClaim.status == ClaimStatus.HELD,
                        DealClaim.expires_at > now,
                    )
                    .values(status=ClaimStatus.ORDERED)
                    .returning(DealClaim.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        )
        chosen = [(i, c, p) for i, c, p in chosen if c.id in taken]
        if not chosen:
            await s.rollback()
            return []
        orders = [
            new_order(
                p.goods,
                [replace(p.line, reservation_id=c.reservation_id)],
                buyer_id=c.buyer_id,
                attribution=p.attribution,
                idempotency_key=claim_key(c.id),
                fingerprint=p.fingerprint,
                hold=c.expires_at - now,
                at=now,
            )
            for _i, c, p in chosen
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
        await s.execute(
            update(DealClaim),
            [{"id": c.id, "order_id": o.id} for (_i, c, _p), o in zip(chosen, orders, strict=True)],
        )
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
                        "card_last4": requests[i].card.last4,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for (i, _c, _p), o in zip(chosen, orders, strict=True)
                ],
            )
        ).all()
        # Until each payment is resolved its units stay held, whatever the hold's clock says.
        await inventory.keep_for_payment(s, [c.reservation_id for _i, c, _p in chosen])
        await s.commit()
        return [
            _Started(i, o, pay_id, requests[i].card, p.goods.market)
            for (i, _c, p), o, pay_id in zip(chosen, orders, payment_ids, strict=True)
        ]


async def _claims(s: AsyncSession, ids: set[int]) -> dict[int, _Claim]:
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
class _Room:
    deal: FlashDeal
    market_code: str
    attribution: Attribution


async def _price(
    s: AsyncSession, claim: _Claim, now: datetime, rooms: dict[int, _Room]
) -> _Priced | None:
    """A claim's order as ``checkout_claim`` prices it, when it is the same for every buyer
    of this deal and quantity (``plain_goods``); None otherwise. ``rooms``: the deals whose
    room and attribution this batch has read already (one read per deal, not per quantity)."""
    room = rooms.get(claim.deal_id)
    if room is None:
        deal = await get_deal(s, claim.deal_id)
        session_row = await live.get_session(s, deal.session_id)
        attribution = await room_attribution(s, session_row, deal.sku_id)
        room = rooms[claim.deal_id] = _Room(deal, session_row.market_code, attribution)
    deal, market_code, attribution = room.deal, room.market_code, room.attribution
    line = CheckoutLine(
        sku_id=deal.sku_id,
        quantity=claim.quantity,
        unit_price_minor=deal.price_minor,
        deal_id=deal.id,
    )
    goods = await plain_goods(
        s, market_code=market_code, lines=[line], attribution=attribution, at=now
    )
    if goods is None:
        return None
    return _Priced(
        goods=goods,
        line=line,
        fingerprint=fingerprint(market_code, [line], attribution),
        attribution=attribution,
        total_minor=totals(goods, None).total_minor,
    )


def pay_desk_of(request: Request) -> PayDesk:
    desk: PayDesk = request.app.state.pay_desk
    return desk
