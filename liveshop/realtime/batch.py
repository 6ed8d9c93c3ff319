"""A room's batches: what one phase of a tick took in and sends (counters coalesced, chat
sampled), the groups its sockets are written in, and the frames (a JSON array of the
events' raw bytes, nothing re-encoded) made of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from liveshop.core.events import EventType, decode
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


def _ranks_below(ev: Ev, kept: Ev) -> bool:
    return ev.rank is not None and kept.rank is not None and ev.rank < kept.rank


def select(
    events: list[Ev],
    cap: int | None,
    by_user: Mapping[int, Iterable[Conn]],
    hosts: Iterable[Conn] = (),
) -> tuple[list[Ev], dict[Conn, list[Ev]], int, int]:
    """What a batch of ``events`` sends: (events everyone gets, extra events per socket of
    ``by_user`` and ``hosts``, how many were left out, how many chat lines the ``cap`` was
    charged for).

    Counters are coalesced (the latest per key; the highest-ranked, for counts that only
    grow), held comments go to their authors and the room's ``hosts`` only (the hosts' copy
    says it was held), hosts-only events to the hosts,
    and with a ``cap`` viewers' chat is sampled evenly down to it — the hosts' lines never,
    and each author still gets their own."""
    last: dict[tuple[Any, ...], int] = {}
    held: list[int] = []  # held comments and hosts-only events: some sockets only
    for i, ev in enumerate(events):
        if ev.key is not None:
            prior = last.get(ev.key)
            if prior is None or not _ranks_below(ev, events[prior]):
                last[ev.key] = i
        elif ev.held or ev.hosts_only:
            held.append(i)
    left_out = {i for i, ev in enumerate(events) if ev.key is not None and last[ev.key] != i}
    left_out.update(held)
    sampled: list[int] = []
    charged = 0
    if cap is not None:
        chat = [
            i
            for i, ev in enumerate(events)
            if ev.type == EventType.COMMENT and not ev.host and not ev.held
        ]
        charged = min(cap, len(chat))
        if len(chat) > cap:
            kept = {chat[(k * len(chat)) // cap] for k in range(cap)} if cap else set()
            sampled = [i for i in chat if i not in kept]
            left_out.update(sampled)
    shared = [ev for i, ev in enumerate(events) if i not in left_out]
    own: dict[Conn, list[Ev]] = {}
    for i in sorted([*sampled, *held]) if held else sampled:
        ev = events[i]
        if ev.hosts_only:
            for conn in hosts:
                own.setdefault(conn, []).append(ev)
            continue
        authors = by_user.get(ev.author or 0, ())
        for conn in authors:
            own.setdefault(conn, []).append(ev)
        if ev.held and ev.host_raw is not None:  # (not a private hold: a complaint)
            twin = ev.for_hosts()
            for conn in hosts:
                if conn not in authors:
                    own.setdefault(conn, []).append(twin)
    return shared, own, len(left_out), charged
