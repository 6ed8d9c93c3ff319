"""When a flash deal that runs out of time stops taking taps and buys.

A viewer's picture is behind the host's (HLS: a few seconds, ``video``'s delay bound), and
their room shows the deal's countdown in step with *their* picture. A deal that ended by
time therefore still takes claims and buys for ``deal_expiry_grace_seconds`` after its
``ends_at``; the deal clock ends it (and gives its unsold units back) only then. A deal sold
out or ended early by the host is over at once: the grace applies only to its clock. The
units stay guarded as always (the deal's hold, split by a conditional UPDATE), so the grace
can never sell more than the deal allocated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from liveshop.core.settings import get_settings
from liveshop.live.deals.models import DealStatus, FlashDeal


def grace() -> timedelta:
    """The configured grace (``get_settings`` is cached: no environment read per call)."""
    return timedelta(seconds=max(0.0, get_settings().deal_expiry_grace_seconds))


def closes_at(deal: FlashDeal) -> datetime:
    """The last moment a tap or buy on the deal is taken (its end plus the grace)."""
    return deal.ends_at + grace()


def taking(deal: FlashDeal, now: datetime) -> bool:
    """Whether the deal takes a tap or a buy at ``now``."""
    return (
        deal.status == DealStatus.ACTIVE
        and deal.reservation_id is not None
        and closes_at(deal) > now
    )
