"""The studio's live earnings on both databases: the dashboard re-reads the creator's earnings
only when something they depend on moved (a posting, an order, the status, a live minute),
and "per live hour" waits until the show has run 30 minutes."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.analytics.dashboard import EarningsCache, figures, show_earnings
from liveshop.core.db import Database
from liveshop.creators.earnings import PER_HOUR_MIN_MINUTES, per_hour
from liveshop.live import service as live_service
from tests.shopfront import MakeShopfront, buy, open_plan, start_session
from tests.support import MakeActor


def test_per_live_hour_waits_for_half_an_hour() -> None:
    assert PER_HOUR_MIN_MINUTES == 30
    assert per_hour(1_000, 0) is None and per_hour(1_000, 29) is None
    assert per_hour(1_000, 30) == 2_000 and per_hour(1_000, 90) == 666


async def test_the_dashboard_reads_earnings_again_only_when_they_moved(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    shop = await make_shopfront()
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1200}])
    live_id = await start_session(db, creator.id)
    cache: EarningsCache = {}
    async with db.session(deferred=True) as s:
        live = await live_service.get_session(s, live_id)
        first = await show_earnings(s, live, cache)
        again = await show_earnings(s, live, cache)
    assert again is first and first.commission_minor == 0
    assert first.per_live_hour_minor is None  # just started

    await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    async with db.session(deferred=True) as s:
        frame = await figures(s, live_id, cache)
    mine = frame["my_earnings"]
    assert mine["commission_pending_minor"] == 240  # 12 % of £20.00 net
    assert mine["projected_total_minor"] == frame["earnings_minor"] == 240
    assert mine["per_live_hour_minor"] is None and mine["per_hour_after_minutes"] == 30
    assert cache[live_id][1] is not first
