"""Domain events the live domain announces (see ``liveshop.core.domain_events``).

Live sits below the creator economy and never calls it: settling a session's creator fees
when it ends is a handler subscribed to :class:`SessionEnded`. Within live, the session rules
(``service``) sit below flash deals (``deals``), which end a closed room's running deal in a
handler subscribed to :class:`SessionClosed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from liveshop.core.domain_events import DomainEvent


@dataclass(frozen=True, slots=True)
class SessionStarted(DomainEvent):
    """A scheduled session went live. Announced inside the transaction that starts it: a
    handler's writes (the followers' notices) commit with the start, or not at all."""

    live_session_id: int
    creator_id: int
    title: str


@dataclass(frozen=True, slots=True)
class SessionClosed(DomainEvent):
    """A live session ended or was cancelled: its room sells nothing more.

    Announced after the status change has committed and before :class:`SessionEnded`; a
    handler commits its own work (a running flash deal ends, its unsold units back on sale).
    """

    live_session_id: int


@dataclass(frozen=True, slots=True)
class SessionEnded(DomainEvent):
    """A live session ended (not one that was cancelled).

    Announced after the end has committed, in a transaction of its own: a handler that fails
    (it is logged and rolled back) never undoes the end, and the ended session is still what
    the caller gets back. A handler commits its own work (settlement is re-runnable).
    """

    live_session_id: int
    creator_id: int
    market_code: str
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProductPinned(DomainEvent):
    """The host pinned a product, announced in the pin's transaction (analytics marks it on
    the show's per-minute chart)."""

    live_session_id: int
    creator_id: int
    market_code: str
    product_id: int


@dataclass(frozen=True, slots=True)
class DealClaimed(DomainEvent):
    """A claim batch gave buyers units of a flash deal (``claims``: buyer id and quantity per
    claim made), announced in the batch's transaction: analytics counts the claims after the
    commit (no write here, nothing more on the tap's path)."""

    live_session_id: int
    deal_id: int
    product_id: int
    claims: tuple[tuple[int, int], ...]
