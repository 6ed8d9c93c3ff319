"""Paying a drop's claims in batches (``live.deals.pay_desk``): claims paid at the same moment
are ordered in one transaction, charged together and completed in one more; each is paid
exactly once, the stock and the ledger add up, and whatever is not plain goes the single way
with the answer it always had."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from liveshop.accounts.models import Role
from liveshop.addresses.service import add_address
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict, Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import use_locale
from liveshop.ledger.service import trial_balance
from liveshop.live import service as live
from liveshop.live.deals import claims, shelf
from liveshop.live.deals import service as deals
from liveshop.live.deals.claims import Tap
from liveshop.live.deals.models import ClaimStatus, DealClaim, ShelfClaim
from liveshop.live.deals.pay_desk import ClaimKind, Paid, PayClaim, PayDesk
from liveshop.live.models import LiveSession
from liveshop.orders.completion import PaymentDeclined
from liveshop.orders.models import Order, OrderAddress, Payment
from liveshop.orders.payments.declines import decline_words
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_DECLINED, CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.status import OrderStatus
from liveshop.promotions import campaigns
from liveshop.promotions.models import CampaignKind
from tests.addresses.examples import address
from tests.live.deals.drops import stock_identity
from tests.shopfront import new_user, one_sku_shop, product_of, start_session

CARD = CardDetails(CARD_SUCCEEDS)


async def _drop(db: Database, buyers: int, units: int) -> tuple[int, int, list[int], list[int]]:
    """A running deal of ``units`` on a 50-unit SKU and ``buyers`` buyers holding a claim of
    one unit each: (deal, sku, buyer ids, claim ids)."""
    async with db.session() as s:
        creator = await new_user(s, "creator@example.com", Role.CREATOR)
        people = [await new_user(s, f"b{i}@example.com", Role.BUYER) for i in range(buyers)]
    _shop, sku_id = await one_sku_shop(db, 1200)
    room = await start_session(db, creator)
    async with db.session() as s:
        deal = await deals.start_deal(
            s,
            await live.get_session(s, room),
            sku_id=sku_id,
            price_minor=999,
            units=units,
            duration=timedelta(minutes=10),
            actor_id=creator,
        )
    async with db.session() as s:
        outcome = await claims.decide(s, deal.deal.id, [Tap(b) for b in people])
    claim_ids = [a.claim_id for a in outcome.answers]
    assert all(c is not None for c in claim_ids)
    return deal.deal.id, sku_id, people, [c for c in claim_ids if c is not None]


def _desk(db: Database) -> PayDesk:
    provider = SandboxProvider("s", delay_s=-1, db=db)
    return PayDesk(db, lambda: provider, None)


async def test_claims_paid_at_once_are_one_batch_and_each_is_paid_exactly_once(
    db: Database,
) -> None:
    deal_id, sku_id, buyers, claim_ids = await _drop(db, 12, 12)
    async with db.session() as s:  # the first buyer has a delivery address in the UK
        await add_address(s, user_id=buyers[0], data=address("GB"))
        await s.commit()
    desk = _desk(db)
    got = await asyncio.gather(
        *(desk.pay(PayClaim(c, b, CARD)) for c, b in zip(claim_ids, buyers, strict=True))
    )
    assert desk.batches == 1
    assert all(g is not None and g.market.code == "GB" for g in got)
    paid = [g.order if g is not None else None for g in got]
    assert all(o is not None and o.status == OrderStatus.PAID for o in paid)
    assert len({o.id for o in paid if o is not None}) == 12
    for order, buyer in zip(paid, buyers, strict=True):
        assert order is not None and order.buyer_id == buyer
        assert order.lines[0].unit_price_minor == 999 and order.lines[0].deal_id == deal_id
    # available, held, sold of the SKU: the deal's 12 units sold, the other 38 on sale.
    assert (await stock_identity(db, sku_id))[:3] == (38, 0, 12)
    async with db.session(deferred=True) as s:
        rows = (await s.execute(select(DealClaim.status, DealClaim.order_id))).all()
        assert {r.status for r in rows} == {ClaimStatus.ORDERED}
        assert sorted(r.order_id for r in rows) == sorted(o.id for o in paid if o is not None)
        payments = await s.scalar(select(func.count()).select_from(Payment))
        assert payments == 12
        assert all(v == 0 for v in (await trial_balance(s)).values())
    # The order keeps its buyer's default address (a buyer without one adds it later).
    async with db.session(deferred=True) as s:
        kept = (await s.execute(select(OrderAddress.order_id, OrderAddress.postal_code))).all()
    assert [(r.order_id, r.postal_code) for r in kept] == [(paid[0].id, "SW1A 2AA")]  # type: ignore[union-attr]
    # Paying again is the single way's replay: the same order, not a second charge.
    again = await desk.pay(PayClaim(claim_ids[0], buyers[0], CARD))
    assert again is None  # (the router then answers the existing order, 200)


async def test_what_is_not_plain_gets_its_own_answer_and_the_rest_are_paid(db: Database) -> None:
    _deal_id, sku_id, buyers, claim_ids = await _drop(db, 6, 6)
    async with db.session() as s:  # the last claim's hold has run out
        await s.execute(
            update(DealClaim)
            .where(DealClaim.id == claim_ids[5])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    desk = _desk(db)
    got = await asyncio.gather(
        desk.pay(PayClaim(claim_ids[0], buyers[0], CARD)),
        desk.pay(PayClaim(claim_ids[0], buyers[0], CARD)),  # the same claim twice at once
        desk.pay(PayClaim(claim_ids[1], buyers[2], CARD)),  # someone else's claim
        desk.pay(PayClaim(claim_ids[2], buyers[2], CARD, expected_total_minor=1)),
        desk.pay(PayClaim(claim_ids[3], buyers[3], CardDetails(CARD_DECLINED))),
        desk.pay(PayClaim(claim_ids[4], buyers[4], CARD)),
        desk.pay(PayClaim(claim_ids[5], buyers[5], CARD)),
        return_exceptions=True,
    )
    assert desk.batches == 1
    first, twice, not_theirs, shown_other, declined, fine, expired = got
    assert isinstance(first, Paid) and first.order.status == OrderStatus.PAID
    assert isinstance(fine, Paid) and fine.order.status == OrderStatus.PAID
    assert twice is None and not_theirs is None and expired is None  # the single way answers
    assert isinstance(shown_other, Conflict) and shown_other.code == "price-changed"
    assert isinstance(declined, PaymentDeclined)
    async with db.session(deferred=True) as s:
        status = {
            i: st for i, st in (await s.execute(select(DealClaim.id, DealClaim.status))).all()
        }
        # Untouched: the claim that was not theirs, the wrong total, the run-out hold.
        assert status[claim_ids[1]] == ClaimStatus.HELD
        assert status[claim_ids[2]] == ClaimStatus.HELD
        assert status[claim_ids[5]] == ClaimStatus.HELD
        # The declined one became its order, pending, its payment failed: pay again within
        # the hold (``POST /orders/{id}/pay``), as after a single declined payment.
        assert status[claim_ids[3]] == ClaimStatus.ORDERED
        declined_order = await s.scalar(
            select(Order).where(Order.idempotency_key == f"claim-{claim_ids[3]}")
        )
        assert declined_order is not None
        assert declined_order.status == OrderStatus.PENDING_PAYMENT
        failed = await s.scalar(select(Payment.status).where(Payment.order_id == declined_order.id))
        assert failed == "failed"
    available, held, sold, received = await stock_identity(db, sku_id)
    assert (sold, held) == (2, 4) and available + held + sold == received


async def test_a_deal_a_campaign_pays_part_of_goes_the_single_way(db: Database) -> None:
    """A platform campaign is claimed per order (from its budget): such claims are paid one
    by one, as before."""
    _deal_id, _sku, buyers, claim_ids = await _drop(db, 2, 2)
    async with db.session() as s:
        await campaigns.create_campaign(
            s,
            market_code="GB",
            currency="GBP",
            kind=CampaignKind.LIVE_DISCOUNT_BP,
            value=1000,
            budget_minor=100_000,
            per_order_cap_minor=10_000,
        )
    desk = _desk(db)
    got = await asyncio.gather(
        *(desk.pay(PayClaim(c, b, CARD)) for c, b in zip(claim_ids, buyers, strict=True))
    )
    assert got == [None, None]


async def test_shelf_claims_are_paid_in_the_same_batch_at_the_rooms_price(db: Database) -> None:
    """Taps on the product on show (no deal) are paid in the drop's batches: each at the
    room's list price, exactly once; a given-up claim and someone else's go the single way."""
    deal_id, sku_id, buyers, claim_ids = await _drop(db, 3, 3)
    product_id = await product_of(db, sku_id)
    async with db.session() as s:  # the host pins the deal's product (setup: no plan needed)
        room = (await deals.get_deal(s, deal_id)).session_id
        await s.execute(
            update(LiveSession).where(LiveSession.id == room).values(pinned_product_id=product_id)
        )
        await s.commit()
    async with db.session() as s:
        taken = await shelf.decide(s, room, sku_id, [Tap(b) for b in buyers])
    shelf_ids = [a.claim_id for a in taken.answers if a.claim_id is not None]
    assert len(shelf_ids) == 3
    async with db.session() as s:  # the last buyer gives their shelf claim up first
        await shelf.give_up(s, shelf_ids[2], buyers[2])
    desk = _desk(db)
    got = await asyncio.gather(
        *(desk.pay(PayClaim(c, b, CARD)) for c, b in zip(claim_ids, buyers, strict=True)),
        desk.pay(PayClaim(shelf_ids[0], buyers[0], CARD, kind=ClaimKind.SHELF)),
        desk.pay(PayClaim(shelf_ids[1], buyers[1], CARD, kind=ClaimKind.SHELF)),
        desk.pay(PayClaim(shelf_ids[1], buyers[0], CARD, kind=ClaimKind.SHELF)),
        desk.pay(PayClaim(shelf_ids[2], buyers[2], CARD, kind=ClaimKind.SHELF)),
    )
    assert desk.batches == 1
    drop_paid, shelf_paid = got[:3], got[3:5]
    assert got[5] is None and got[6] is None  # not theirs; given up: the single way answers
    for g in [*drop_paid, *shelf_paid]:
        assert isinstance(g, Paid) and g.order.status == OrderStatus.PAID
    for g in shelf_paid:
        assert g is not None
        assert g.order.lines[0].unit_price_minor == 1200 and g.order.lines[0].deal_id is None
        assert g.order.live_session_id == room
    async with db.session(deferred=True) as s:
        links = {
            i: o for i, o in (await s.execute(select(ShelfClaim.id, ShelfClaim.order_id))).all()
        }
        assert [links[c] for c in shelf_ids] == [
            *(g.order.id for g in shelf_paid if isinstance(g, Paid)),
            None,
        ]
        assert all(v == 0 for v in (await trial_balance(s)).values())
    # 3 deal units and 2 shelf units sold; the given-up unit is back on sale.
    available, held, sold, received = await stock_identity(db, sku_id)
    assert (sold, held) == (5, 0) and available + held + sold == received
    # Paying a paid shelf claim again is the single way's replay.
    assert await desk.pay(PayClaim(shelf_ids[0], buyers[0], CARD, kind=ClaimKind.SHELF)) is None


async def test_each_payer_in_a_batch_is_answered_in_their_own_language(db: Database) -> None:
    """One batch, three payers: an Indonesian and an English buyer whose cards are declined,
    and an Indonesian one whose shown total is stale — each refusal in the payer's words."""
    _deal_id, _sku_id, buyers, claim_ids = await _drop(db, 3, 3)
    desk = _desk(db)
    declined = CardDetails(CARD_DECLINED)

    async def pay_in(locale: str, request: tuple[int, int], **kw: object) -> object:
        with use_locale(locale):
            try:
                return await desk.pay(PayClaim(request[0], request[1], **kw))  # type: ignore[arg-type]
            except Problem as exc:
                return exc

    pairs = list(zip(claim_ids, buyers, strict=True))
    got = await asyncio.gather(
        pay_in("id", pairs[0], card=declined),
        pay_in("en_GB", pairs[1], card=declined),
        pay_in("id", pairs[2], card=CARD, expected_total_minor=1),
    )
    assert desk.batches == 1
    assert all(isinstance(g, Problem) for g in got), got
    with use_locale("id"):
        in_indonesian = str(decline_words("card_declined"))
    with use_locale("en_GB"):
        in_english = str(decline_words("card_declined"))
    assert in_indonesian != in_english
    assert [g.code for g in got] == ["payment-declined", "payment-declined", "price-changed"]  # type: ignore[attr-defined]
    assert got[0].detail == in_indonesian and got[1].detail == in_english  # type: ignore[attr-defined]
    with use_locale("id"):
        stale = _("the price changed since it was shown: nothing was charged, check the new total")
    assert (
        got[2].detail
        == stale
        != "the price changed since it was shown: nothing was charged, check the new total"
    )  # type: ignore[attr-defined]
