"""Claims, checkouts and product views reach the capture buffer as the other events do
(after the commit, no write on the request's path), with the show's market and creator."""

from __future__ import annotations

from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.analytics.capture import Capture
from liveshop.analytics.models import events_table
from liveshop.core.db import Database
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, open_drop, pay_claim, tap
from tests.support import MakeActor

E = events_table.c


async def test_claims_checkouts_and_product_views_are_captured(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    capture: Capture = app.state.analytics
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=5)
        sid, creator_id = drop.live["id"], drop.live["creator_id"]
        buyer = await make_actor(Role.BUYER)
        claim = await tap(http, drop.deal_id, buyer, 2)
        assert claim.status_code == 201, claim.text
        paid = await pay_claim(http, claim.json()["claim_id"], buyer)
        assert paid.status_code == 201, paid.text
        product_id = paid.json()["lines"][0]["product_id"]
        page = await http.get(f"/p/{product_id}?live={sid}", headers=buyer.headers)
        assert page.status_code == 200
        assert (await http.get(f"/p/{product_id}")).status_code == 200  # not from a show
        await capture.flush()
    async with db.session() as s:
        rows = (
            await s.execute(
                select(E.kind, E.session_id, E.market_code, E.creator_id, E.product_id, E.viewer)
                .where(E.kind.in_(["claim", "checkout", "product_view"]))
                .order_by(E.at)
            )
        ).all()
    me = capture.key(user_id=buyer.id)
    assert [r.kind for r in rows] == ["claim", "checkout", "product_view", "product_view"]
    claimed, checkout, viewed, elsewhere = rows
    assert (claimed.session_id, claimed.market_code, claimed.creator_id) == (sid, "GB", creator_id)
    assert claimed.product_id == product_id and claimed.viewer == me
    assert (checkout.session_id, checkout.creator_id, checkout.viewer) == (sid, creator_id, me)
    assert (viewed.session_id, viewed.creator_id, viewed.product_id) == (
        sid,
        creator_id,
        product_id,
    )
    assert viewed.viewer == me
    assert (elsewhere.session_id, elsewhere.viewer, elsewhere.market_code) == (None, None, "GB")
