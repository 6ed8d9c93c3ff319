"""Checking out a claim is one transaction: a process killed at any point of it leaves the
claim either held with no order, or ordered with its order — never ordered without it."""

from __future__ import annotations

import contextlib
import itertools
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.live import service as live
from liveshop.live.deals import claims
from liveshop.live.deals import service as deals
from liveshop.live.deals.claim_checkout import checkout_claim
from liveshop.live.deals.claims import Tap
from liveshop.live.deals.models import ClaimStatus, DealClaim
from liveshop.orders.checkout import find_by_idempotency_key
from tests.shopfront import new_user, one_sku_shop, start_session


class Killed(BaseException):
    """The process is gone (not an Exception: no handler of the code under test sees it)."""


def die_at_commit(session: AsyncSession, n: int) -> None:
    commit, count = session.commit, itertools.count(1)

    async def dying() -> None:
        if next(count) == n:
            raise Killed
        await commit()

    session.commit = dying  # type: ignore[method-assign]


async def test_a_kill_during_checkout_never_leaves_an_ordered_claim_without_its_order(
    db: Database,
) -> None:
    async with db.session() as s:
        creator = await new_user(s, "c@example.com", Role.CREATOR)
        buyer = await new_user(s, "b@example.com", Role.BUYER)
    _shop, sku_id = await one_sku_shop(db, 1200)
    room = await start_session(db, creator)
    async with db.session() as s:
        deal = await deals.start_deal(
            s,
            await live.get_session(s, room),
            sku_id=sku_id,
            price_minor=999,
            units=5,
            duration=timedelta(minutes=10),
            actor_id=creator,
        )
        deal_id = deal.deal.id
    for dies_at in (1, 2, 3):
        async with db.session() as s:
            answer = (await claims.decide(s, deal_id, [Tap(buyer)])).answers[0]
        assert answer.claim_id is not None
        async with db.session() as s:
            die_at_commit(s, dies_at)
            with contextlib.suppress(Killed):  # (a kill after the last commit never comes)
                await checkout_claim(s, answer.claim_id, buyer_id=buyer)
        async with db.session() as s:
            claim = await s.get(DealClaim, answer.claim_id)
            assert claim is not None
            order = await find_by_idempotency_key(s, buyer, f"claim-{claim.id}")
            if claim.status == ClaimStatus.HELD:
                assert order is None and claim.order_id is None
            else:
                assert claim.status == ClaimStatus.ORDERED
                assert order is not None and claim.order_id == order.id, (dies_at, claim.order_id)
