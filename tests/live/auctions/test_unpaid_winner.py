"""A winner whose card's payment is pending and then fails (SQLite and PostgreSQL): their
order waits on the pay page, where they may pay it with another card; if instead it is
cancelled unpaid (its hold ran out: the orders sweeper), the lot is offered to the
runner-up at their own highest bid — through the orders domain's ``OrderCancelledUnpaid``,
which auctions subscribe to. Stock identity and the ledger hold throughout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live.auctions.models import AuctionOffer, AuctionStatus
from liveshop.notices.models import Notice
from liveshop.orders import lifecycle, payment_flow
from liveshop.orders.models import Order
from liveshop.orders.payments.sandbox import SandboxProvider
from tests.live.auctions.lots import Lot, bid, bidder, end_in, lot_row, open_lot, sold_or_unsold
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, stock_identity
from tests.live.helpers import eventually
from tests.support import Actor, MakeActor

PENDING_THEN_FAILS = "4000000000000341"


async def _won_pending(
    http: httpx.AsyncClient, app: FastAPI, db: Database, make_actor: MakeActor
) -> tuple[Lot, Actor, Actor, int]:
    """A lot of 2 (stock 3) won by a bidder whose card's payment is pending and then failed
    (its webhook delivered); the runner-up's maximum is 1500."""
    sandbox: SandboxProvider = app.state.payment_providers["sandbox"]
    sandbox.delay_s = -1  # the late outcome waits for the test to deliver it
    lot = await open_lot(http, make_actor, stock=3, quantity=2)
    runner_up = await bidder(http, make_actor)
    winner = await bidder(http, make_actor, PENDING_THEN_FAILS)
    assert (await bid(http, lot.id, runner_up, 1500)).status_code == 200
    assert (await bid(http, lot.id, winner, 3000)).json()["leading"] is True
    await end_in(db, lot.id, 0)
    row = await sold_or_unsold(db, app, lot.id)
    assert row.status == AuctionStatus.SOLD and row.winner_id == winner.id
    assert row.order_id is not None
    # The lot's units are held for the winner's order while its payment is open.
    assert (await stock_identity(db, lot.sku_id))[:3] == (1, 2, 0)
    async with db.session() as s:  # the pay page says so (and paying again would be 409)
        assert await payment_flow.payment_in_progress(s, row.order_id)
    [(body, headers)] = sandbox.pending_webhooks()
    sandbox.cancel_all()
    failed = await http.post("/api/v1/payments/webhooks/sandbox", content=body, headers=headers)
    assert failed.json() == {"result": "processed"}
    async with db.session() as s:
        assert not await payment_flow.payment_in_progress(s, row.order_id)
    return lot, winner, runner_up, row.order_id


async def _offers(db: Database, lot_id: int) -> list[tuple[int, str]]:
    async with db.session() as s:
        rows = await s.scalars(
            select(AuctionOffer)
            .where(AuctionOffer.auction_id == lot_id)
            .order_by(AuctionOffer.rank)
        )
        return [(o.bidder_id, o.status) for o in rows.all()]


async def _lot_json(http: httpx.AsyncClient, lot_id: int, who: Actor) -> Any:
    got = await http.get(f"/api/v1/live/auctions/{lot_id}", headers=who.headers)
    assert got.status_code == 200, got.text
    return got.json()


async def test_an_order_cancelled_unpaid_hands_the_lot_to_the_runner_up(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        lot, winner, runner_up, order_id = await _won_pending(http, app, db, make_actor)
        mine = await _lot_json(http, lot.id, winner)
        assert (mine["order_id"], mine["payment_due"]) == (order_id, True)

        # The winner does not pay another way; the order's hold runs out and the orders
        # sweeper cancels it.
        async with db.session() as s:
            await s.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(hold_expires_at=utcnow() - timedelta(seconds=1))
            )
            await s.commit()
            assert await lifecycle.cancel_unpaid_expired(s) == 1

        async def resold() -> bool:
            row = await lot_row(db, lot.id)
            return row.status == AuctionStatus.SOLD and row.winner_id == runner_up.id

        await eventually(resold, within=30)
        row = await lot_row(db, lot.id)
        assert row.hammer_minor == 1500  # the runner-up's own highest bid
        assert await _offers(db, lot.id) == [(winner.id, "failed"), (runner_up.id, "paid")]
        async with db.session() as s:
            lost = await s.get(Order, order_id)
            won = await s.get(Order, row.order_id)
            kinds = [
                (n.user_id, n.kind)
                for n in (await s.scalars(select(Notice).order_by(Notice.id))).all()
                if n.kind.startswith("auction.")
            ]
        assert lost is not None and lost.status == "cancelled"
        assert won is not None and won.status == "paid" and won.buyer_id == runner_up.id
        assert (won.lines[0].quantity, won.lines[0].unit_price_minor) == (2, 1500)
        assert kinds == [
            (winner.id, "auction.won"),
            (winner.id, "auction.payment_failed"),
            (runner_up.id, "auction.won"),
        ]
        # Exactly the lot's two units sold, once; nothing left held; the ledger balances.
        assert (await stock_identity(db, lot.sku_id))[:3] == (1, 0, 2)
        theirs = await _lot_json(http, lot.id, winner)
        assert (theirs["order_id"], theirs["payment_due"]) == (None, None)
        assert (await _lot_json(http, lot.id, runner_up))["payment_due"] is False


async def test_the_winner_pays_their_pending_lot_with_another_card(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        lot, winner, runner_up, order_id = await _won_pending(http, app, db, make_actor)
        other = await http.post(
            "/api/v1/me/cards",
            json={"card_number": "4242424242424242", "exp_month": 11, "exp_year": 2041},
            headers=winner.headers,
        )
        assert other.status_code == 201, other.text
        paid = await http.post(
            f"/api/v1/orders/{order_id}/pay",
            json={"saved_card_id": other.json()["id"]},
            headers=winner.headers,
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "paid"
        assert await _offers(db, lot.id) == [(winner.id, "paid")]
        row = await lot_row(db, lot.id)
        assert (row.status, row.winner_id, row.order_id) == ("sold", winner.id, order_id)
        assert (await _lot_json(http, lot.id, winner))["payment_due"] is False
        # The lot's hold is gone: its two units sold, the third still on sale.
        assert (await stock_identity(db, lot.sku_id))[:3] == (1, 0, 2)
        # A later sweep changes nothing: the paid order is no lot's to re-offer.
        async with db.session() as s:
            assert await lifecycle.cancel_unpaid_expired(s) == 0
        assert (await lot_row(db, lot.id)).winner_id == winner.id
        del runner_up
