"""The session domain's room events, queued inside the transaction that makes the change.

A service given the room's :class:`~liveshop.realtime.publish.AfterCommit` queues its event
before it commits: the event goes out once that commit succeeds, never if it rolls back, so
no viewer sees a pin, a start or an end the database does not have — by mechanism, not by
the caller remembering to publish afterwards.
"""

from __future__ import annotations

from datetime import datetime

from liveshop.core.events import EventType
from liveshop.live.catalog_view import ProductSummary
from liveshop.live.models import SessionStatus
from liveshop.realtime.publish import (
    AfterCommit,
    pin_event,
    session_ended_event,
    session_started_event,
)


def pinned(room: AfterCommit, session_id: int, product: ProductSummary | None) -> None:
    """The pinned product with price and stock; None: nothing is pinned now."""
    room.publish(session_id, EventType.PIN, pin_event(product))


def status_changed(room: AfterCommit, session_id: int, to: SessionStatus, at: datetime) -> None:
    """``session_started`` when it goes live; ``session_ended`` (with when, unless it was
    called off before it started) when it ends or is cancelled — rooms close on it."""
    if to is SessionStatus.LIVE:
        room.publish(session_id, EventType.SESSION_STARTED, session_started_event(at))
    elif to is SessionStatus.ENDED:
        room.publish(session_id, EventType.SESSION_ENDED, session_ended_event(str(to), at))
    elif to is SessionStatus.CANCELLED:
        room.publish(session_id, EventType.SESSION_ENDED, session_ended_event(str(to), None))
