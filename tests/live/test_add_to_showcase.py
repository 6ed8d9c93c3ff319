"""Adding one product to a show's showcase (the studio's "Add to show"), on both databases:
only under a plan, only to an open show; two products added at once are both kept, the same
one twice is kept once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from liveshop.accounts.models import Role
from liveshop.affiliates import plans
from liveshop.affiliates.models import PlanKind
from liveshop.catalog.products import get_product
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.live import service as live
from liveshop.live.models import SessionStatus
from tests.shopfront import new_user
from tests.support import MakeActor
from tests.web.test_pages import make_product


async def test_adding_to_a_showcase(db: Database, make_actor: MakeActor) -> None:
    seller = await make_actor(Role.SELLER)
    first, _ = await make_product(db, seller, "addmugs")
    second, _ = await make_product(db, seller, "addcups")
    async with db.session() as s:
        creator = await new_user(s, "adder@example.com", Role.CREATOR)
        show = await live.create_session(
            s,
            creator_id=creator,
            title="Adds",
            market_code="GB",
            planned_start=utcnow() + timedelta(minutes=5),
            planned_duration_minutes=30,
        )
        with pytest.raises(Unprocessable) as refused:
            await live.add_to_showcase(s, show, first)
        assert refused.value.code == "no-affiliate-plan"
        for product_id in (first, second):
            await plans.create_plan(
                s,
                shop_id=(await get_product(s, product_id)).shop_id,
                kind=PlanKind.OPEN,
                items=[plans.PlanItemSpec(rate_bp=500, product_id=product_id)],
            )
        show_id = show.id

    async def add(product_id: int) -> bool:
        async with db.session() as s:
            return await live.add_to_showcase(s, await live.get_session(s, show_id), product_id)

    results = await asyncio.gather(add(first), add(second), add(first))
    assert results.count(True) == 2
    async with db.session() as s:
        assert sorted(await live.showcase_ids(s, show_id)) == sorted([first, second])
        found = await live.get_session(s, show_id)
        await live.transition(s, found, SessionStatus.CANCELLED)
        with pytest.raises(Conflict):
            await live.add_to_showcase(s, await live.get_session(s, show_id), first)
