"""Room events on the wire: one compact JSON object per event, ``seq`` always first.

An event is encoded once, by whoever publishes it (``encode_body``: type, ts, payload). The
broker numbers it atomically with publishing (``Broker.publish_sequenced`` splices
``{"seq":N,`` in front of the body), so the very same bytes travel from the broker to every
node and from every node to every viewer — nothing is re-encoded on the fan-out path, and
every node sees the same ``seq`` for the same event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

SEQ_PREFIX = b'{"seq":'


class EventType(StrEnum):
    COMMENT = "comment"  # a chat line (persisted in live_comments)
    COMMENT_HIDDEN = "comment_hidden"  # moderators hid chat lines ("ids"): remove them
    COMMENT_SHOWN = "comment_shown"  # a hidden line is shown again (the comment's fields)
    LIKE = "like"  # the room's total like count (aggregated across nodes, ~1/s)
    VIEWERS = "viewers"  # concurrent viewers summed over all nodes (~1/s, only on change)
    PIN = "pin"  # a product was pinned (with price and stock) or unpinned (product null)
    DEAL_STARTED = "deal_started"  # flash deal: deal price, units allocated, ends_at
    STOCK = "stock"  # units left of one SKU (coalesced: the latest per SKU wins in a tick)
    DEAL_ENDED = "deal_ended"  # flash deal over (sold out, timed out or ended early)
    PURCHASE = "purchase"  # ticker line ("someone in Leeds just bought…"), no personal data
    SESSION_STARTED = "session_started"  # the creator went live
    SESSION_ENDED = "session_ended"  # ended or cancelled; the server closes sockets after it
    VIDEO = "video"  # the stream's video: receiving, reconnecting (liveshop.video)
    AUCTION_STARTED = "auction_started"  # a lot is up: start price, timer (live.auctions)
    AUCTION_BID = "auction_bid"  # the lot's price, leader's public name, timer (by version)
    AUCTION_ENDED = "auction_ended"  # hammer (settling), then sold / unsold / cancelled
    GIVEAWAY_OPENED = "giveaway_opened"  # entries open: prize, eligibility, the seed's SHA-256
    GIVEAWAY_ENTRIES = "giveaway_entries"  # how many entered (throttled; coalesced per giveaway)
    GIVEAWAY_DRAWN = "giveaway_drawn"  # drawn (seed revealed, winner's public name) or cancelled
    POLL_OPENED = "poll_opened"  # the host asks: question and 2-4 options
    POLL_VOTES = "poll_votes"  # the votes per option (throttled; coalesced per poll)
    POLL_CLOSED = "poll_closed"  # the poll's final counts
    QUESTION_ASKED = "question_asked"  # a viewer's question (Q&A), with its upvotes
    QUESTION_VOTES = "question_votes"  # a question's upvotes (throttled; coalesced per question)
    QUESTION_STATUS = "question_status"  # the host answers it now, or answered it
    # To the room's hosts only (its creator and their moderators, e.g. the moderator screen):
    REPORTS = "reports"  # a viewer reported something: the open reports' count ("open")


def now_ms() -> float:
    """Wall-clock milliseconds (all nodes and the benchmark compare these)."""
    return round(time.time() * 1000.0, 3)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def encode_body(
    event_type: EventType, payload: Mapping[str, Any], *, ts: float | None = None
) -> bytes:
    """The event without its seq: ``{"type":…,"ts":…,…payload}``.

    ``ts`` is the publish (or scheduled) time in epoch milliseconds: viewers and the
    benchmark measure delivery latency against it.
    """
    body: dict[str, Any] = {"type": str(event_type), "ts": now_ms() if ts is None else ts}
    body.update(payload)
    return dumps(body)


def with_seq(seq: int, body: bytes) -> bytes:
    """Number an encoded body; the Redis broker does the same splice in Lua."""
    if not body.startswith(b"{") or len(body) < 3:
        raise ValueError("an event body is a non-empty JSON object")
    return SEQ_PREFIX + str(seq).encode() + b"," + body[1:]


def seq_of(data: bytes) -> int:
    """The seq of a numbered event without parsing the JSON (it is always first)."""
    if not data.startswith(SEQ_PREFIX):
        raise ValueError("not a numbered event")
    return int(data[len(SEQ_PREFIX) : data.index(b",", len(SEQ_PREFIX))])


def decode(data: bytes) -> dict[str, Any]:
    event = json.loads(data)
    if not isinstance(event, dict):
        raise ValueError("an event is a JSON object")
    return event
