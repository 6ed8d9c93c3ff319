"""A room's current state, rebuilt from its events, and the snapshot a joining viewer gets.

The state is advanced when the room makes a batch of what arrived (``Room.step``), so a
snapshot taken between phases is exactly "everything up to the last batch"; the socket that
gets it is marked as having that batch and its next frame continues without a gap or a
duplicate.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from liveshop.core.events import EventType, dumps


class Ev:
    """One numbered event as a node sees it: the raw bytes (sent as they are) and its fields."""

    __slots__ = ("author", "data", "host", "key", "raw", "seq", "type")

    def __init__(self, raw: bytes, data: dict[str, Any]) -> None:
        self.raw = raw
        self.data = data
        self.seq: int = int(data["seq"])
        self.type: str = str(data.get("type", ""))
        user = data.get("user") if self.type == EventType.COMMENT else None
        self.author: int | None = user.get("id") if isinstance(user, dict) else None
        self.host: bool = bool(data.get("host", False))
        # Events with a key are coalesced: the latest with the same key wins within a tick.
        self.key: tuple[Any, ...] | None = None
        if self.type == EventType.STOCK:
            self.key = (self.type, data.get("sku_id"), data.get("deal_id"))
        elif self.type in (EventType.LIKE, EventType.VIEWERS):
            self.key = (self.type,)


class RoomState:
    def __init__(self, *, session: dict[str, Any], comments_kept: int = 50) -> None:
        self.session = session
        self.seq = 0
        self.pinned: dict[str, Any] | None = None
        self.deal: dict[str, Any] | None = None
        self.viewers = 0
        self.likes = 0
        self.comments: deque[dict[str, Any]] = deque(maxlen=comments_kept)
        # Comments moderators hid (as of the last delivered seq): left out of snapshots
        # and of catch-up replays (``Room.catch_up``).
        self.hidden: set[int] = set()
        self._snapshot: tuple[int, bytes] | None = None

    @property
    def status(self) -> str:
        return str(self.session.get("status", ""))

    def apply(self, ev: Ev) -> None:
        if ev.seq > self.seq:
            self.seq = ev.seq
        self._snapshot = None
        data = ev.data
        kind = ev.type
        if kind == EventType.COMMENT:
            self.add_comment(data)
        elif kind == EventType.COMMENT_HIDDEN:
            self.hide_comments(data.get("ids") or ())
        elif kind == EventType.COMMENT_SHOWN:
            self.show_comment(data)
        elif kind == EventType.LIKE:
            self.likes = max(self.likes, int(data.get("count", 0)))
        elif kind == EventType.VIEWERS:
            self.viewers = int(data.get("count", 0))
        elif kind == EventType.PIN:
            product = data.get("product")
            self.pinned = dict(product) if isinstance(product, dict) else None
        elif kind == EventType.DEAL_STARTED:
            deal = data.get("deal")
            self.deal = dict(deal) if isinstance(deal, dict) else None
        elif kind == EventType.DEAL_ENDED:
            if self.deal is not None and self.deal.get("deal_id") == data.get("deal_id"):
                self.deal = None
        elif kind == EventType.STOCK:
            self._apply_stock(data)
        elif kind == EventType.SESSION_STARTED:
            self.session = {**self.session, "status": "live", "actual_start": data.get("at")}
        elif kind == EventType.SESSION_ENDED:
            status = data.get("status", "ended")
            self.session = {**self.session, "status": status, "actual_end": data.get("at")}

    def _apply_stock(self, data: dict[str, Any]) -> None:
        sku_id, available = data.get("sku_id"), data.get("available")
        deal_id = data.get("deal_id")
        if deal_id is not None:
            if self.deal is not None and self.deal.get("deal_id") == deal_id:
                self.deal = {**self.deal, "available": available}
            return
        if self.pinned is None:
            return
        skus = self.pinned.get("skus") or []
        if any(s.get("sku_id") == sku_id for s in skus):
            self.pinned = {
                **self.pinned,
                "skus": [
                    {**s, "available": available} if s.get("sku_id") == sku_id else s for s in skus
                ],
            }

    def add_comment(self, comment: dict[str, Any]) -> None:
        """Comments come from the database (room opening) and from events: once each."""
        cid = comment.get("id")
        if cid in self.hidden:
            return  # hidden before its own event went out (a hide racing the publish)
        if cid is None or all(c.get("id") != cid for c in self.comments):
            self.comments.append(comment)
            self._snapshot = None

    def hide_comments(self, ids: Iterable[Any]) -> None:
        gone = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
        self.hidden |= gone
        if any(c.get("id") in gone for c in self.comments):
            kept = [c for c in self.comments if c.get("id") not in gone]
            self.comments.clear()
            self.comments.extend(kept)
            self._snapshot = None

    def show_comment(self, data: dict[str, Any]) -> None:
        """A hidden comment is back: in its place by id, if it is among the newest kept."""
        cid = data.get("id")
        if not isinstance(cid, int):
            return
        self.hidden.discard(cid)
        if any(c.get("id") == cid for c in self.comments):
            return
        comment = {
            "type": "comment",
            "id": cid,
            "user": data.get("user"),
            "text": data.get("text"),
            "host": bool(data.get("host", False)),
            "ts": data.get("comment_ts"),
        }
        ordered = list(self.comments)
        at = next((i for i, c in enumerate(ordered) if (c.get("id") or 0) > cid), len(ordered))
        if at == 0 and len(ordered) == self.comments.maxlen:
            return  # older than every comment kept
        ordered.insert(at, comment)
        self.comments.clear()
        self.comments.extend(ordered)  # the deque drops the oldest if it is over
        self._snapshot = None

    def snapshot(self) -> bytes:
        """The encoded snapshot; reused for every viewer who joins before the next tick."""
        if self._snapshot is not None and self._snapshot[0] == self.seq:
            return self._snapshot[1]
        encoded = dumps(
            {
                "type": "snapshot",
                "seq": self.seq,
                "session": self.session,
                "pinned": self.pinned,
                "deal": self.deal,
                "viewers": self.viewers,
                "likes": self.likes,
                "comments": list(self.comments),
            }
        )
        self._snapshot = (self.seq, encoded)
        return encoded
