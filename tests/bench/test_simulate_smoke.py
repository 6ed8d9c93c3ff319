"""``liveshop simulate`` in small: through the real services on a simulated clock, it fills
every stage of the market's funnel, and the readiness API answers with a recommendation."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.analytics.readiness import Advice
from liveshop.bench.simulate import SimOptions, SimResult, simulate
from liveshop.core.db import Database
from tests.support import MakeActor


async def test_a_small_simulated_market_fills_the_funnel(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    opts = SimOptions(
        market="GB",
        weeks=2,
        seed=2,
        creators=1,
        audience=5,
        people=200,
        with_accounts=40,
        buy_per_viewer_minute=0.02,
    )
    seen: list[int] = []
    total: list[int] = []
    result = await simulate(db, opts, advance=seen.append, planned=total.append)
    assert result.sessions > 0 and result.orders > 0 and result.heartbeats > 0
    assert sum(seen) == total[0] == result.minutes_live
    admin = await make_actor(Role.ADMIN)
    got = (await client.get("/api/v1/analytics/markets/GB/readiness", headers=admin.headers)).json()
    full = got["weeks"][-3:-1]  # the two simulated weeks
    for stage in ("reached", "viewers", "buyers", "creators_active", "gmv_minor"):
        assert all(w[stage] > 0 for w in full), (stage, full)
    assert full[-1]["repeat_buyers"] > 0
    assert full[0]["reached"] > full[0]["viewers"] > full[0]["buyers"]
    assert got["recommendation"] in {str(a) for a in Advice}
    assert got["reasons"]


async def test_the_same_seed_makes_the_same_market(db: Database) -> None:
    """Reproducible from the seed: a second run with the same seed (same people, same shop)
    adds exactly the same figures again."""
    opts = SimOptions(
        market="GB",
        weeks=1,
        seed=5,
        creators=1,
        audience=2,
        people=30,
        with_accounts=10,
        buy_per_viewer_minute=0.02,
    )

    def figures(r: SimResult) -> tuple[int, ...]:
        return (r.sessions, r.minutes_live, r.heartbeats, r.orders, r.refunds, r.gmv_minor)

    first = await simulate(db, opts)
    assert first.orders > 0
    assert figures(await simulate(db, opts)) == figures(first)
