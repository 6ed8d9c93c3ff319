"""The node's bid desk: bids arrive (HTTP and the room socket), are decided in batches, and
the room hears the lot's new price.

One batch per lot and node at a time (``core.group_commit``: bids that arrive while the
previous batch is in the database go together in the next — no timer). Batches of several
nodes queue on the lot's row (``service.decide_bids``), so the order bids are decided in is
the order their batches take the row, and every answer leaves after its batch commits: an
acknowledged bid survives ``kill -9``. After a batch that changed the lot, its state goes to
the room as ``auction_bid`` with the lot's ``version``. A lot this node saw end is answered
from memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.accounts.token_cache import TokenCache
from liveshop.core.db import Database
from liveshop.core.events import EventType
from liveshop.core.group_commit import GroupCommit
from liveshop.core.types import MAX_AMOUNT_MINOR
from liveshop.live.auctions import service
from liveshop.live.auctions.models import Auction
from liveshop.live.auctions.service import Bid, BidAnswer, refusal
from liveshop.realtime.ports import Tapper
from liveshop.realtime.publish import RoomPublisher

log = structlog.get_logger("liveshop.live.auctions.desk")

MAX_ID = 2**63 - 1


class BidDesk:
    def __init__(
        self, db: Database, tokens: TokenCache, publisher: Callable[[], RoomPublisher]
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.publisher = publisher
        self.batches = 0
        self._writers: dict[int, GroupCommit[Bid, BidAnswer]] = {}
        self._rooms: dict[int, int] = {}  # auction -> its session
        self._ended: set[int] = set()

    async def bid(
        self, principal: Principal, auction_id: int, max_minor: int, *, session_id: int | None
    ) -> BidAnswer:
        if not principal.has(Role.BUYER, Role.ADMIN):
            return refusal("wrong-role", "bidding needs the buyer role", 403)
        if not 0 < max_minor < MAX_AMOUNT_MINOR:
            return refusal("bad-bid", "a bid is a whole amount in minor units above 0", 422)
        if auction_id in self._ended:
            return refusal("auction-ended", "the hammer has fallen")
        room = self._rooms.get(auction_id)
        if session_id is not None and room is None:  # a socket's bid: is the lot in its room?
            room = await self._room_of(auction_id)
        if session_id is not None and room != session_id:
            return refusal("auction-not-found", f"auction {auction_id} is not in this room", 404)
        return await self._writer(auction_id).submit(Bid(principal.user_id, max_minor))

    async def _room_of(self, auction_id: int) -> int | None:
        async with self.db.session(deferred=True) as s:
            room = await s.scalar(select(Auction.session_id).where(Auction.id == auction_id))
        if room is not None:
            self._rooms[auction_id] = room
        return room

    def _writer(self, auction_id: int) -> GroupCommit[Bid, BidAnswer]:
        writer = self._writers.get(auction_id)
        if writer is None:

            async def write(bids: list[Bid]) -> list[BidAnswer]:
                return await self._decide(auction_id, bids)

            writer = GroupCommit(write, max_batch=1000, name=f"auction-{auction_id}-bids")
            if len(self._writers) > 1000:
                self._writers = {k: v for k, v in self._writers.items() if k not in self._ended}
            self._writers[auction_id] = writer
        return writer

    async def _decide(self, auction_id: int, bids: list[Bid]) -> list[BidAnswer]:
        async with self.db.session() as s:
            outcome = await service.decide_bids(s, auction_id, bids)
        self.batches += 1
        if outcome.session_id is not None:
            self._rooms[auction_id] = outcome.session_id
        if outcome.view is None and any(a.code == "auction-ended" for a in outcome.answers):
            self._ended.add(auction_id)
        if outcome.view is not None and outcome.session_id is not None:
            try:
                await self.publisher().publish(
                    outcome.session_id, EventType.AUCTION_BID, outcome.view
                )
            except Exception:  # the bids stand; the room hears the next batch or the hammer
                log.exception("auction bid event not published", auction_id=auction_id)
        return outcome.answers

    async def bid_frame(
        self, tapper: Tapper, session_id: int, frame: dict[str, Any]
    ) -> dict[str, Any]:
        """A ``bid`` frame from a room socket (``realtime.ports.BidDesk``):
        ``{"auction_id", "max_minor"}``; the answer is the ``bid_result`` frame's body."""
        auction_id, max_minor = frame.get("auction_id"), frame.get("max_minor")
        for name, value, top in (
            ("auction_id", auction_id, MAX_ID),
            ("max_minor", max_minor, MAX_AMOUNT_MINOR - 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                return {
                    "error": {"code": "bad-bid", "detail": f"{name} must be a whole number ≥ 1"}
                }
        assert isinstance(auction_id, int) and isinstance(max_minor, int)
        principal = await self.tokens.principal(tapper.token, via_cookie=tapper.via_cookie)
        if principal is None:
            return {
                "error": {
                    "code": "invalid-token",
                    "detail": "the token is unknown, expired or revoked: sign in again",
                }
            }
        answer = await self.bid(principal, auction_id, max_minor, session_id=session_id)
        return answer.body()

    def ended(self, auction_id: int) -> None:
        self._ended.add(auction_id)
