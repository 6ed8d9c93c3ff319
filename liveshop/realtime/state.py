"""A room's current state, rebuilt from its events, and the snapshot a joining viewer gets.

The state is advanced when the room makes a batch of what arrived (``Room.step``), so a
snapshot taken between phases is exactly "everything up to the last batch"; the socket that
gets it is marked as having that batch and its next frame continues without a gap or a
duplicate.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable
from typing import Any

from liveshop.core.events import EventType, dumps

HELD = "held"  # a held comment's marker on the broker (``RoomPublisher.comment(held=True)``)
PRIVATE = "private"  # its value for a line only its author may see (a held complaint)


class Ev:
    """One numbered event as a node sees it: the raw bytes (sent as they are) and its fields.

    A comment the automatic filter held (``held`` on the broker) is stored without the
    marker — ``raw`` re-encoded once, here — so its author gets an ordinary ``comment`` and
    cannot tell it was held; ``held`` tells the room to send it to its author only, and to
    the room's hosts (its creator and moderators) as it came, marker and all
    (``for_hosts``), so the moderator screen sees what the filter held as it happens.
    ``hosts_only``: an event for the hosts alone (``reports``)."""

    __slots__ = (
        "author",
        "data",
        "held",
        "host",
        "host_raw",
        "hosts_only",
        "key",
        "rank",
        "raw",
        "seq",
        "type",
    )

    def __init__(self, raw: bytes, data: dict[str, Any]) -> None:
        self.raw = raw
        self.data = data
        self.seq: int = int(data["seq"])
        self.type: str = str(data.get("type", ""))
        self.held = False
        self.hosts_only = self.type == EventType.REPORTS
        self.host_raw: bytes | None = None
        self.author: int | None = None
        if self.type == EventType.COMMENT:
            user = data.get("user")
            self.author = user.get("id") if isinstance(user, dict) else None
            if data.get(HELD):
                self.held = True
                self.host_raw = None if data[HELD] == PRIVATE else raw
                self.data = {k: v for k, v in data.items() if k != HELD}
                self.raw = dumps(self.data)
        self.host: bool = bool(data.get("host", False))
        # Events with a key are coalesced: the latest with the same key wins within a tick.
        self.key: tuple[Any, ...] | None = None
        # Among a tick's events with one key, the highest rank is sent (the latest on a tie;
        # None: simply the latest).
        self.rank: int | None = None
        if self.type == EventType.STOCK:
            self.key = (self.type, data.get("sku_id"), data.get("deal_id"))
        elif self.type in (EventType.LIKE, EventType.VIEWERS):
            self.key = (self.type,)
        elif self.type == EventType.AUCTION_BID:
            self.key = (self.type, data.get("auction_id"))
        elif self.type in COUNTED:
            thing, count = COUNTED[self.type]
            self.key = (self.type, data.get(thing))
            figure = data.get(count)
            self.rank = figure if isinstance(figure, int) else None

    def for_hosts(self) -> Ev:
        """The event as the room's hosts get it: a held comment with its ``held`` marker."""
        if self.host_raw is None:
            return self
        twin = copy.copy(self)
        twin.raw = self.host_raw
        return twin


# Counters of the room's giveaway, poll and questions, (the thing's id, its count): coalesced
# per thing, the highest count in a tick wins — counts only grow, and two nodes' figures may
# arrive out of order; folds and pages keep the highest seen too.
COUNTED: dict[str, tuple[str, str]] = {
    EventType.GIVEAWAY_ENTRIES: ("giveaway_id", "entries"),
    EventType.POLL_VOTES: ("poll_id", "total"),
    EventType.QUESTION_VOTES: ("question_id", "votes"),
}


ENGAGEMENT = frozenset(
    {
        EventType.GIVEAWAY_OPENED,
        EventType.GIVEAWAY_ENTRIES,
        EventType.GIVEAWAY_DRAWN,
        EventType.POLL_OPENED,
        EventType.POLL_VOTES,
        EventType.POLL_CLOSED,
        EventType.QUESTION_STATUS,
    }
)


def _whole(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


class RoomState:
    def __init__(self, *, session: dict[str, Any], comments_kept: int = 50) -> None:
        self.session = session
        self.seq = 0
        self.pinned: dict[str, Any] | None = None
        self.deal: dict[str, Any] | None = None
        self.auction: dict[str, Any] | None = None  # the lot up (or just closed)
        self.giveaway: dict[str, Any] | None = None  # the room's giveaway (open or last drawn)
        self.poll: dict[str, Any] | None = None  # the room's poll (open or last closed)
        self.answering: dict[str, Any] | None = None  # the question the host answers now
        self.viewers = 0
        self.likes = 0
        self.comments: deque[dict[str, Any]] = deque(maxlen=comments_kept)
        # Comments moderators hid (as of the last delivered seq): left out of snapshots
        # and of catch-up replays (``Room.catch_up``).
        self.hidden: set[int] = set()
        # Comments the automatic filter held, kept for their authors' own snapshots (newest
        # last, bounded): ``held_ids`` are those not shown since; ``_held_by`` counts per
        # author what ``held`` keeps (so most joins skip looking).
        self.held: deque[dict[str, Any]] = deque()
        self.held_kept = 10 * comments_kept
        self.held_ids: set[int] = set()
        self._held_by: dict[int, int] = {}
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
            if ev.held:
                self.hold_comment(data, ev.author)
            else:
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
        elif kind in (EventType.AUCTION_STARTED, EventType.AUCTION_BID, EventType.AUCTION_ENDED):
            self._apply_auction(kind, data)
        elif kind in ENGAGEMENT:
            self._apply_engagement(kind, data)
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

    def _apply_auction(self, kind: str, data: dict[str, Any]) -> None:
        """The lot as its latest version says (batches of several nodes may arrive out of
        order: an older version never overwrites a newer one)."""
        if kind == EventType.AUCTION_STARTED:
            lot = data.get("auction")
            self.auction = dict(lot) if isinstance(lot, dict) else None
            return
        current = self.auction
        fields = {k: v for k, v in data.items() if k not in ("seq", "type", "ts")}
        if current is None or current.get("auction_id") != data.get("auction_id"):
            if kind == EventType.AUCTION_ENDED:
                self.auction = fields
            return
        if int(data.get("version") or 0) < int(current.get("version") or 0):
            return
        self.auction = {**current, **fields}

    def _apply_engagement(self, kind: str, data: dict[str, Any]) -> None:
        """Giveaway, poll and the question being answered, as the latest event says (counts
        never go back: they only grow, and two nodes' counts may arrive out of order)."""
        if kind in (EventType.GIVEAWAY_OPENED, EventType.GIVEAWAY_DRAWN):
            self.giveaway = _whole(data.get("giveaway"))
        elif kind in (EventType.POLL_OPENED, EventType.POLL_CLOSED):
            self.poll = _whole(data.get("poll"))
        elif kind == EventType.GIVEAWAY_ENTRIES:
            g = self.giveaway
            if g is not None and g.get("giveaway_id") == data.get("giveaway_id"):
                entries = max(int(g.get("entries") or 0), int(data.get("entries") or 0))
                self.giveaway = {**g, "entries": entries}
        elif kind == EventType.POLL_VOTES:
            p = self.poll
            total = int(data.get("total") or 0)
            if (
                p is not None
                and p.get("poll_id") == data.get("poll_id")
                and p.get("open")
                and total >= int(p.get("total") or 0)
            ):
                self.poll = {**p, "counts": data.get("counts"), "total": total}
        elif kind == EventType.QUESTION_STATUS:
            q = _whole(data.get("question"))
            if q is not None and q.get("status") == "answering":
                self.answering = q
            elif (
                q is not None
                and self.answering is not None
                and self.answering.get("question_id") == q.get("question_id")
            ):
                self.answering = None

    def add_comment(self, comment: dict[str, Any]) -> None:
        """Comments come from the database (room opening) and from events: once each."""
        cid = comment.get("id")
        if cid in self.hidden:
            return  # hidden before its own event went out (a hide racing the publish)
        if cid is None or all(c.get("id") != cid for c in self.comments):
            self.comments.append(comment)
            self._snapshot = None

    def hold_comment(self, comment: dict[str, Any], author: int | None) -> None:
        """A comment the filter held: for its author's snapshots only."""
        cid = comment.get("id")
        if not isinstance(cid, int) or author is None or cid in self.held_ids:
            return
        if len(self.held) >= self.held_kept:
            old = self.held.popleft()
            self.held_ids.discard(old["id"])
            who = old["user"]["id"]
            self._held_by[who] -= 1
            if not self._held_by[who]:
                del self._held_by[who]
        self.held.append(comment)
        self.held_ids.add(cid)
        self._held_by[author] = self._held_by.get(author, 0) + 1

    def hide_comments(self, ids: Iterable[Any]) -> None:
        gone = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
        self.hidden |= gone
        self.held_ids -= gone
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
        self.held_ids.discard(cid)
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

    def _encode(self, comments: list[dict[str, Any]]) -> bytes:
        return dumps(
            {
                "type": "snapshot",
                "seq": self.seq,
                "session": self.session,
                "pinned": self.pinned,
                "deal": self.deal,
                "auction": self.auction,
                "giveaway": self.giveaway,
                "poll": self.poll,
                "answering": self.answering,
                "viewers": self.viewers,
                "likes": self.likes,
                "comments": comments,
            }
        )

    def snapshot(self) -> bytes:
        """The encoded snapshot; reused for every viewer who joins before the next tick."""
        if self._snapshot is not None and self._snapshot[0] == self.seq:
            return self._snapshot[1]
        encoded = self._encode(list(self.comments))
        self._snapshot = (self.seq, encoded)
        return encoded

    def snapshot_for(self, user_id: int | None) -> bytes:
        """The snapshot as ``user_id`` sees it: with their own held comments among the
        others (the shared snapshot for everyone without any)."""
        if user_id is None or user_id not in self._held_by:
            return self.snapshot()
        mine = [c for c in self.held if c["user"]["id"] == user_id and c["id"] in self.held_ids]
        if not mine:
            return self.snapshot()
        merged = sorted([*self.comments, *mine], key=lambda c: c.get("id") or 0)
        return self._encode(merged[-(self.comments.maxlen or len(merged)) :])
