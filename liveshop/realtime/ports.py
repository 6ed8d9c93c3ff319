"""What the engine is handed from outside: the rooms' directory, the comment checks and the
comment store.

The engine knows rooms, sockets and events — not what a live session, a mute or a blocked
term is. The session domain (the ``live`` package) answers for the rooms: what a joining
viewer first sees, who hosts, where the audience numbers go. Chat (the ``chat`` package)
answers who may not comment and which comments are held, and stores held comments with
their log entry.
Both are handed in at start-up (``install_live``, ``install_chat``), so the engine imports
neither and sits below both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

# --- the rooms' directory (the session domain) --------------------------------------------


class RecentComment(Protocol):
    """A stored chat line, as a room's first snapshot shows it."""

    @property
    def id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def display_name(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    """Everything a room starts from when a node opens it.

    ``session`` is the session's public face as viewers get it; the engine reads ``status``
    (a room of an ``ended``/``cancelled`` session takes no viewers), ``creator_id`` (whose
    lines are the host's, whose mutes and lists apply) and ``market``. ``pinned`` and
    ``deal`` are already in their event shape; ``comments`` are the last visible lines,
    oldest first."""

    session: dict[str, object]
    pinned: dict[str, Any] | None
    deal: dict[str, Any] | None
    comments: Sequence[RecentComment]
    auction: dict[str, Any] | None = None  # the lot up for auction, in its event shape
    giveaway: dict[str, Any] | None = None  # the room's giveaway, in its event shape
    poll: dict[str, Any] | None = None  # the room's poll, in its event shape
    answering: dict[str, Any] | None = None  # the question the host answers now


@dataclass(frozen=True, slots=True)
class RoomStats:
    """A room's audience as the broker counted it (across all nodes)."""

    peak_viewers: int
    viewer_ms: int  # viewers × milliseconds while live: the time-weighted average's numerator
    likes: int


class RoomDirectory(Protocol):
    async def snapshot(self, session_id: int, *, comments: int) -> RoomSnapshot:
        """The room's starting state; raises ``NotFound`` for an unknown session."""
        ...

    async def is_host(self, session_id: int, user_id: int) -> bool:
        """Whether the user's lines are the host's (never muted, filtered nor sampled)."""
        ...

    async def record_stats(self, session: AsyncSession, session_id: int, stats: RoomStats) -> None:
        """Keep the room's audience numbers on the session (commits, or rolls back if there
        is nothing to keep yet)."""
        ...


# --- chat: who may comment, which comments are held ---------------------------------------


class Muted(Protocol):
    @property
    def expires_at(self) -> datetime | None: ...  # None: until lifted
    @property
    def banned(self) -> bool: ...  # a ban (no end), not a mute


class Hold(Protocol):
    """Why the automatic filter held a comment; the engine only passes it to the store."""

    @property
    def rule(self) -> str: ...
    @property
    def match(self) -> str: ...


MutedCheck = Callable[[int, int], Awaitable[Muted | None]]  # (creator_id, user_id)
HeldCheck = Callable[[int, str, str], Awaitable[Hold | None]]  # (creator_id, market, text)


async def _nobody_muted(creator_id: int, user_id: int) -> None:
    return None


async def _nothing_held(creator_id: int, market: str, text: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CommentChecks:
    """Asked for every viewer's line (never the hosts'): answered from memory by the node's
    caches, not by a database read per comment."""

    muted: MutedCheck = _nobody_muted
    held: HeldCheck = _nothing_held


NO_CHECKS = CommentChecks()

CommentItem = tuple[int, int, str]  # (session_id, user_id, text)


class CommentStore(Protocol):
    """Stores a batch of chat lines in one transaction and commits; returns each line's id,
    or None for a line whose session is not live. ``held[i]``, when given, is why line ``i``
    was held: it is stored hidden. ``store_sync`` is the same on a synchronous session (the
    comment writer's SQLite thread)."""

    async def store(
        self,
        session: AsyncSession,
        items: Sequence[CommentItem],
        held: Sequence[Hold | None] | None,
    ) -> list[int | None]: ...

    def store_sync(
        self, session: Session, items: Sequence[CommentItem], held: Sequence[Hold | None] | None
    ) -> list[int | None]: ...


# --- taps on a drop (the deals domain) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tapper:
    """Who taps over a room socket: the token it connected with (checked again on every tap
    through the node's token cache, so a revoked token stops within a second)."""

    token: str
    via_cookie: bool


class ClaimDesk(Protocol):
    async def check(self, tapper: Tapper) -> bool:
        """Whether the tapper's token is still good (from the node's cache)."""
        ...

    async def tap_frame(
        self, tapper: Tapper, session_id: int, frame: dict[str, Any]
    ) -> dict[str, Any]:
        """Answer a ``claim`` frame (its ``deal_id`` — or ``sku_id`` for a product on show
        without a deal — and ``quantity``) with the body of the ``claim_result`` frame: the
        claim, a place in line, an entry — or ``error``."""
        ...


class DealStockListener(Protocol):
    async def announce_stock(
        self, deal_id: int, *, available: int, version: int, ended: bool
    ) -> None:
        """A deal's units left, published outside a claim batch (started, ended, sold):
        the node's claim desk remembers it and tells every node's desk."""
        ...


class ClaimPayer(Protocol):
    async def pay_frame(
        self, tapper: Tapper, session_id: int, frame: dict[str, Any]
    ) -> dict[str, Any]:
        """Answer a ``pay`` frame (its ``claim_id``, ``kind`` — deal or shelf — and optional
        ``expected_total_minor``: one tap with the buyer's default saved card) with the body
        of the ``pay_result`` frame: the order (``order_id``, ``status``, ``total_minor``,
        ``currency``, ``display_total``) — or ``error``."""
        ...


# --- the audience and the host's dashboard (analytics) ------------------------------------


@dataclass(frozen=True, slots=True)
class Watcher:
    """Who a room socket is, as the audience counts it. ``host``: the session's creator or
    one of their moderators; ``studio``: the studio page's socket (it has no player)."""

    user_id: int | None
    host: bool
    studio: bool
    user_agent: str


class Audience(Protocol):
    """Told of joins, leaves, chat lines and player heartbeats on the room's path: each call
    only appends to the node's capture buffer (no ``await``, no database)."""

    def joined(self, room: dict[str, object], watcher: Watcher) -> None: ...

    def left(self, room: dict[str, object], watcher: Watcher) -> None: ...

    def commented(self, room: dict[str, object], watcher: Watcher) -> None: ...

    def heartbeat(
        self,
        room: dict[str, object],
        watcher: Watcher,
        *,
        client_id: str | None,
        seconds: int,
        visible: bool,
        playing: bool,
    ) -> None: ...


class Dashboard(Protocol):
    async def figures(self, session_id: int) -> dict[str, Any]:
        """The live figures the creator's studio shows (sent as a ``dashboard`` frame to the
        creator's own sockets every ``dashboard_interval_s``)."""


# --- bids on a live auction (the auctions domain) ------------------------------------------


class BidDesk(Protocol):
    async def bid_frame(
        self, tapper: Tapper, session_id: int, frame: dict[str, Any]
    ) -> dict[str, Any]:
        """Answer a ``bid`` frame (``auction_id``, ``max_minor``) with the body of the
        ``bid_result`` frame: accepted (leading or not, the price now) — or ``error``."""
        ...


# --- complaints routed to seller support (the helpdesk domain) ----------------------------


class ComplaintDesk(Protocol):
    async def route(
        self, *, session_id: int, user_id: int, comment_id: int, text: str, hold: Hold
    ) -> dict[str, Any] | None:
        """A viewer's line that ``CommentChecks.held`` held as a complaint (``hold.rule`` is
        ``"complaint"``) was stored hidden: open (or add to) a support case for the seller.
        Answers the body of the ``case_opened`` frame sent to the author's socket only
        (``case_id``, ``detail``) — or None when no case could be opened. Called only for
        held complaints: the database is not touched for ordinary lines."""
        ...
