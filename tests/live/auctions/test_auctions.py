"""Live auctions against a real server (SQLite and PostgreSQL): a lot's units are held from
stock; hundreds of bids in its last second give one winner at the highest valid bid, paid
with their saved card; anti-snipe extends and sudden death does not; a declined card hands
the lot to the runner-up; who may bid and start; the room sees it all."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from liveshop.core.db import Database
from liveshop.live.auctions import engine
from liveshop.live.auctions.models import AuctionBid, AuctionOffer, AuctionStatus
from liveshop.markets.models import Market
from liveshop.notices.models import Notice
from liveshop.orders.models import Order
from tests.addresses.examples import address
from tests.live.auctions.lots import (
    DECLINED_CARD,
    bid,
    bidder,
    burst_across_the_end,
    end_in,
    lot_row,
    open_lot,
    sold_or_unsold,
    warm,
)
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, stock_identity
from tests.live.helpers import RoomClient
from tests.support import MakeActor, assert_problem


async def _replay(db: Database, lot_id: int) -> engine.Lot:
    """The lot as the engine makes it from its accepted bids, in the order stored."""
    row = await lot_row(db, lot_id)
    async with db.session() as s:
        bids = (
            await s.scalars(
                select(AuctionBid).where(AuctionBid.auction_id == lot_id).order_by(AuctionBid.id)
            )
        ).all()
    lot = engine.Lot(
        start_minor=row.start_minor,
        increments=tuple((a, b) for a, b in row.increments),
        ends_at=row.ends_at + timedelta(days=1),  # the clock was checked when they were placed
        anti_snipe=False,
        snipe=timedelta(0),
    )
    for b in bids:
        lot, placed = engine.place(lot, b.bidder_id, b.max_minor, b.placed_at)
        assert placed.accepted, b
    return lot


async def test_hundreds_of_last_second_bids_give_one_winner_at_the_highest_bid(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        lot = await open_lot(http, make_actor, stock=5, mode="sudden_death")
        assert (await stock_identity(db, lot.sku_id))[:3] == (4, 1, 0)
        viewer = await RoomClient.open(base, lot.live["id"])
        snap = await viewer.snapshot()
        assert snap["auction"]["auction_id"] == lot.id and snap["auction"]["status"] == "live"
        people = [await bidder(http, make_actor) for _ in range(8)]
        rng = random.Random(19)
        maxes = rng.sample(range(1000, 100_000), 300)
        await warm(http)
        answers = await burst_across_the_end(
            db, lot.id, [bid(http, lot.id, people[i % len(people)], m) for i, m in enumerate(maxes)]
        )
        ok = [a for a in answers if a.status_code == 200]
        assert ok, [a.text for a in answers[:5]]
        for a in answers:
            if a.status_code != 200:
                body = assert_problem(a, 409)
                assert body["type"].rsplit("/", 1)[-1] in (
                    "bid-too-low",
                    "already-leading",
                    "auction-ended",
                )
        row = await sold_or_unsold(db, app, lot.id)
        assert row.status == AuctionStatus.SOLD
        async with db.session() as s:
            stored = (
                await s.scalars(select(AuctionBid).where(AuctionBid.auction_id == lot.id))
            ).all()
            order = await s.get(Order, row.order_id)
        # Exactly the accepted bids were stored, none at or after the end; the winner is the
        # highest of them, at the price the engine gives from them in order.
        assert len(stored) == len(ok)
        assert all(b.placed_at < row.ends_at for b in stored)
        top = max(stored, key=lambda b: (b.max_minor, -b.id))
        assert row.winner_id == top.bidder_id == row.leader_id
        replayed = await _replay(db, lot.id)
        assert replayed.leader_id == row.winner_id
        assert row.hammer_minor == replayed.current_minor == row.current_minor
        assert row.hammer_minor <= top.max_minor
        assert order is not None and order.status == "paid" and order.buyer_id == row.winner_id
        assert order.lines[0].unit_price_minor == row.hammer_minor
        assert (await stock_identity(db, lot.sku_id))[:3] == (4, 0, 1)
        ended = await viewer.until("auction_ended", status="sold", within=10)
        assert ended["winner_id"] == row.winner_id and ended["hammer_minor"] == row.hammer_minor
        assert ended["winner_name"]
        await viewer.close()


async def test_anti_snipe_extends_and_sudden_death_does_not(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        snipe = await open_lot(http, make_actor, slug="snipe", mode="anti_snipe", snipe_seconds=8)
        a, b = await bidder(http, make_actor), await bidder(http, make_actor)
        await end_in(db, snipe.id, 6.0)  # inside the 8 s window, with time to spare
        before = (await lot_row(db, snipe.id)).ends_at
        got = await bid(http, snipe.id, a, 1500)
        assert got.status_code == 200, got.text
        assert got.json()["leading"] is True and got.json()["current_minor"] == 1000
        after = await lot_row(db, snipe.id)
        assert after.ends_at > before and after.extensions == 1
        assert (after.ends_at - before).total_seconds() >= 1.9  # reset to 8 s from ≤ 6
        # A proxy answer: b's 1200 is beaten by a's maximum; the price becomes 1300.
        got = await bid(http, snipe.id, b, 1200)
        assert got.status_code == 200 and got.json()["leading"] is False
        assert got.json()["current_minor"] == 1300
        # Over the room socket too.
        room = await RoomClient.open(base, snipe.live["id"], token=b.token)
        await room.snapshot()
        await room.send({"type": "bid", "auction_id": snipe.id, "max_minor": 2000, "ref": 7})
        answer = await room.until("bid_result", ref=7)
        assert answer["accepted"] is True and answer["leading"] is True
        assert answer["current_minor"] == 1600  # a's 1500 + one step
        seen = await room.until("auction_bid", leader_id=b.id)
        assert seen["current_minor"] == 1600 and seen["leader_name"]
        await room.close()

        sudden = await open_lot(http, make_actor, slug="sudden", mode="sudden_death")
        await end_in(db, sudden.id, 6.0)
        before = (await lot_row(db, sudden.id)).ends_at
        assert (await bid(http, sudden.id, a, 1500)).status_code == 200
        after = await lot_row(db, sudden.id)
        assert after.ends_at == before and after.extensions == 0
        # A socket bids only on its own room's lot.
        elsewhere = await RoomClient.open(base, snipe.live["id"], token=b.token)
        await elsewhere.snapshot()
        await elsewhere.send({"type": "bid", "auction_id": sudden.id, "max_minor": 9000, "ref": 8})
        refused = await elsewhere.until("bid_result", ref=8)
        assert refused["error"]["code"] == "auction-not-found"
        await elsewhere.close()


async def test_a_declined_card_hands_the_lot_to_the_runner_up(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        lot = await open_lot(http, make_actor, stock=3, quantity=2)
        assert (await stock_identity(db, lot.sku_id))[:3] == (1, 2, 0)
        viewer = await RoomClient.open(base, lot.live["id"])
        await viewer.snapshot()
        runner_up = await bidder(http, make_actor)
        declines = await bidder(http, make_actor, DECLINED_CARD)
        assert (await bid(http, lot.id, runner_up, 1500)).status_code == 200
        top = await bid(http, lot.id, declines, 3000)
        assert top.json()["leading"] is True and top.json()["current_minor"] == 1600
        await end_in(db, lot.id, 0)
        row = await sold_or_unsold(db, app, lot.id)
        assert row.status == AuctionStatus.SOLD and row.winner_id == runner_up.id
        assert row.hammer_minor == 1500  # the runner-up's own highest bid
        async with db.session() as s:
            offers = (
                await s.scalars(
                    select(AuctionOffer)
                    .where(AuctionOffer.auction_id == lot.id)
                    .order_by(AuctionOffer.rank)
                )
            ).all()
            assert [(o.bidder_id, o.status) for o in offers] == [
                (declines.id, "failed"),
                (runner_up.id, "paid"),
            ]
            failed_order = await s.get(Order, offers[0].order_id)
            won_order = await s.get(Order, row.order_id)
            kinds = {
                (n.user_id, n.kind)
                for n in (await s.scalars(select(Notice))).all()
                if n.kind.startswith("auction.")
            }
        assert failed_order is not None and failed_order.status == "cancelled"
        assert won_order is not None and won_order.status == "paid"
        assert won_order.lines[0].quantity == 2 and won_order.lines[0].unit_price_minor == 1500
        assert kinds == {(declines.id, "auction.payment_failed"), (runner_up.id, "auction.won")}
        assert (await stock_identity(db, lot.sku_id))[:3] == (1, 0, 2)
        hammer = await viewer.until("auction_ended", status="settling")
        assert hammer["leader_id"] == declines.id
        sold = await viewer.until("auction_ended", status="sold")
        assert sold["winner_id"] == runner_up.id

        # The winner sees their order on the lot; nobody else does.
        mine = await http.get(f"/api/v1/live/auctions/{lot.id}", headers=runner_up.headers)
        assert mine.json()["order_id"] == row.order_id
        theirs = await http.get(f"/api/v1/live/auctions/{lot.id}", headers=declines.headers)
        assert theirs.json()["order_id"] is None
        await viewer.close()


async def test_nobody_bids_and_the_lot_goes_back_on_sale(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        lot = await open_lot(http, make_actor, stock=4, quantity=3)
        assert (await stock_identity(db, lot.sku_id))[:3] == (1, 3, 0)
        await end_in(db, lot.id, 0)
        row = await sold_or_unsold(db, app, lot.id)
        assert row.status == AuctionStatus.UNSOLD and row.winner_id is None
        assert (await stock_identity(db, lot.sku_id))[:3] == (4, 0, 0)
        # A lot that ended takes no bid.
        late = await bidder(http, make_actor)
        assert_problem(await bid(http, lot.id, late, 5000), 409, "auction-ended")


async def test_who_may_bid_and_who_may_put_a_lot_up(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        lot = await open_lot(http, make_actor, stock=5, slug="rules")
        session_id = lot.live["id"]
        no_card = await make_actor()
        assert_problem(await bid(http, lot.id, no_card, 5000), 402, "saved-card-required")
        someone = await bidder(http, make_actor)
        low = assert_problem(await bid(http, lot.id, someone, 999), 409, "bid-too-low")
        assert low["minimum_minor"] == 1000
        assert (await bid(http, lot.id, someone, 1000)).status_code == 200
        low = assert_problem(await bid(http, lot.id, someone, 1000), 409, "already-leading")
        other = await bidder(http, make_actor)
        assert (
            assert_problem(await bid(http, lot.id, other, 1050), 409, "bid-too-low")[
                "minimum_minor"
            ]
            == 1100
        )
        host = lot.creator
        assert_problem(await bid(http, lot.id, host, 5000), 403)
        # A buyer cannot put a lot up or withdraw one; a second lot waits for the first.
        body = {"sku_id": lot.sku_id, "start_minor": 100}
        url = f"/api/v1/live/sessions/{session_id}/auctions"
        assert_problem(await http.post(url, json=body, headers=someone.headers), 403)
        assert_problem(
            await http.post(f"/api/v1/live/auctions/{lot.id}/cancel", headers=someone.headers),
            403,
        )
        assert_problem(
            await http.post(url, json=body, headers=host.headers), 409, "auction-already-running"
        )
        assert_problem(
            await http.post(
                url, json={**body, "increments": [[0, 100], [500, 50]]}, headers=host.headers
            ),
            422,
            "bad-increments",
        )
        # The host withdraws it: the units go back; then a market that disallows auctions.
        gone = await http.post(f"/api/v1/live/auctions/{lot.id}/cancel", headers=host.headers)
        assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
        assert (await stock_identity(db, lot.sku_id))[:3] == (5, 0, 0)
        async with db.session() as s:
            no_auctions = update(Market).where(Market.code == "GB").values(auctions_enabled=False)
            await s.execute(no_auctions)
            await s.commit()
        assert_problem(
            await http.post(url, json=body, headers=host.headers), 409, "auctions-disabled"
        )
        current = await http.get(f"/api/v1/live/sessions/{session_id}/auction")
        assert_problem(current, 404, "no-auction")


async def test_a_banned_viewer_can_neither_bid_nor_enter_a_giveaway(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    """A ban (chat's) reaches what live decides: the banned viewer's HTTP bid and giveaway
    entry are refused with 403 ``banned`` and change nothing; others carry on."""
    base = await serve(live_app(db))
    async with http_of(base) as http:
        lot = await open_lot(http, make_actor, stock=5)
        troll, fan = await bidder(http, make_actor), await bidder(http, make_actor)
        for who in (troll, fan):
            got = await http.post("/api/v1/me/addresses", json=address("GB"), headers=who.headers)
            assert got.status_code == 201, got.text
        banned = await http.post(
            f"/api/v1/live/sessions/{lot.live['id']}/bans",
            json={"user_id": troll.id, "reason": "abuse"},
            headers=lot.creator.headers,
        )
        assert banned.status_code == 201, banned.text
        assert_problem(await bid(http, lot.id, troll, 5000), 403, "banned")
        assert (await bid(http, lot.id, fan, 1500)).status_code == 200
        assert (await lot_row(db, lot.id)).leader_id == fan.id
        opened = await http.post(
            f"/api/v1/live/sessions/{lot.live['id']}/giveaways",
            json={"sku_id": lot.sku_id},
            headers=lot.creator.headers,
        )
        assert opened.status_code == 201, opened.text
        giveaway = opened.json()["giveaway_id"]
        entries = f"/api/v1/live/giveaways/{giveaway}/entries"
        assert_problem(await http.post(entries, headers=troll.headers), 403, "banned")
        assert (await http.post(entries, headers=fan.headers)).status_code == 201
