"""Who a checkout's order is attributed to: resolved by whoever registers a resolver.

Attribution needs knowledge orders does not have (whether a live session is live now, the
creators' plans and the buyer's clicks), and the domain that has it sits above orders. So
orders only defines the question; the creator economy (``creators.wiring``) registers the
answer at
start-up. Until then — and in a process that never wires the creator economy — no order is
attributed to anyone (no commission).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.orders.lines import Attribution


class AttributionResolver(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        *,
        buyer_id: int,
        market_code: str,
        sku_ids: Sequence[int],
        live_session_id: int | None = None,
        creator_id: int | None = None,
    ) -> Attribution | None: ...


async def no_attribution(
    session: AsyncSession,
    *,
    buyer_id: int,
    market_code: str,
    sku_ids: Sequence[int],
    live_session_id: int | None = None,
    creator_id: int | None = None,
) -> Attribution | None:
    """The default: nobody earns commission."""
    return None


_resolver: AttributionResolver = no_attribution


def register_resolver(resolver: AttributionResolver) -> None:
    """Make ``resolver`` answer every checkout's attribution (process-wide; the last one
    registered wins, so registering the same one again changes nothing)."""
    global _resolver
    _resolver = resolver


async def resolve_checkout_attribution(
    session: AsyncSession,
    *,
    buyer_id: int,
    market_code: str,
    sku_ids: Sequence[int],
    live_session_id: int | None = None,
    creator_id: int | None = None,
) -> Attribution | None:
    """The attribution checkout should freeze on the order (None: nobody earns commission).
    ``live_session_id`` and ``creator_id`` are what the buyer's request claims; the resolver
    decides what they are worth."""
    return await _resolver(
        session,
        buyer_id=buyer_id,
        market_code=market_code,
        sku_ids=sku_ids,
        live_session_id=live_session_id,
        creator_id=creator_id,
    )
