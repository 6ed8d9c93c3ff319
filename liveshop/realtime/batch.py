"""A room's batches: what one phase of a tick took in, the groups its sockets are written
in, and the frames (a JSON array of the events' raw bytes, nothing re-encoded) made of them.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from liveshop.core.events import decode
from liveshop.realtime.state import Ev
from liveshop.realtime.wire import Conn

log = structlog.get_logger("liveshop.realtime.room")


def batch_payload(events: Iterable[Ev], *, skipped: int = 0, through: int = 0) -> bytes:
    parts = [ev.raw for ev in events]
    if skipped:
        parts.append(b'{"type":"skipped","count":%d,"through":%d}' % (skipped, through))
    return b"[" + b",".join(parts) + b"]"


def batch_payload_raw(parts: list[bytes], *, skipped: int = 0, through: int = 0) -> bytes:
    if skipped:
        parts = [*parts, b'{"type":"skipped","count":%d,"through":%d}' % (skipped, through)]
    return b"[" + b",".join(parts) + b"]"


MAX_PHASES = 32  # groups a room's sockets are written in (one per phase of a tick)
KEPT_BATCHES = 4 * MAX_PHASES  # recent batches kept for sockets that are behind their group


class Batch:
    """What one phase took in: the events everyone gets, each socket's extra (own) lines,
    how many were left out, the last seq, and whether the session ended in it."""

    __slots__ = ("ends", "index", "own", "shared", "skipped", "through")

    def __init__(
        self,
        index: int,
        shared: list[Ev],
        own: dict[Conn, list[Ev]],
        skipped: int,
        through: int,
        ends: bool,
    ) -> None:
        self.index, self.shared, self.own = index, shared, own
        self.skipped, self.through, self.ends = skipped, through, ends


class Group:
    """Sockets written in the same phase, and the last batch the group was sent."""

    __slots__ = ("done", "members")

    def __init__(self, done: int = 0) -> None:
        self.members: dict[Conn, None] = {}
        self.done = done

    def add(self, conn: Conn) -> None:
        self.members[conn] = None


def parse_event(raw: bytes) -> Ev | None:
    try:
        return Ev(raw, decode(raw))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable room event dropped", raw=raw[:200])
        return None
