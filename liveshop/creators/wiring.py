"""What the creator economy does when the domains below it act (subscribed at start-up).

- ``OrderRefunded`` (orders): a session's GMV bonus the refund takes it below is reversed,
  inside the refund's transaction (``bonus_reversals``).
- ``SessionEnded`` (live): the session's base fee and bonuses are settled (``settlement``;
  it commits its own work, and the live domain logs and rolls back a failure).
- A checkout's attribution (orders asks, ``orders.attribution``): the live session's creator
  while it is live, else the buyer's last click (``attribution``).

The handlers look the service functions up on their modules when they run, so a test that
replaces one (``monkeypatch.setattr(settlement, "settle_session", …)``) is obeyed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core import domain_events
from liveshop.creators import attribution, bonus_reversals, settlement
from liveshop.live.events import SessionEnded
from liveshop.orders import attribution as order_attribution
from liveshop.orders.events import OrderRefunded


async def reverse_bonuses_on_refund(session: AsyncSession, event: OrderRefunded) -> None:
    if event.live_session_id is not None:
        await bonus_reversals.reverse_lost_bonuses(session, event.live_session_id)


async def settle_ended_session(session: AsyncSession, event: SessionEnded) -> None:
    await settlement.settle_session(session, event.live_session_id)


def subscribe() -> None:
    """Idempotent: subscribing (or registering) the same handler again changes nothing."""
    domain_events.subscribe(OrderRefunded, reverse_bonuses_on_refund)
    domain_events.subscribe(SessionEnded, settle_ended_session)
    order_attribution.register_resolver(attribution.resolve_checkout_attribution)
