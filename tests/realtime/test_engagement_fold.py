"""The room's giveaway, poll and answered-now question as a joining viewer's snapshot shows
them: counts coalesce per thing and never go back (two nodes' figures may arrive out of
order); and the node's throttle sends a burst of counts as a couple of events, the highest
last."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from liveshop.core.events import EventType, dumps
from liveshop.live.counts import RoomCounts
from liveshop.realtime.batch import select
from liveshop.realtime.state import Ev, RoomState


def ev(seq: int, kind: EventType, **data: Any) -> Ev:
    body = {"seq": seq, "type": str(kind), "ts": 0, **data}
    return Ev(dumps(body), body)


def test_counts_coalesce_and_never_go_back() -> None:
    state = RoomState(session={"id": 1, "status": "live"})
    giveaway = {"giveaway_id": 7, "entries": 0, "status": "open"}
    state.apply(ev(1, EventType.GIVEAWAY_OPENED, giveaway=giveaway))
    a = ev(2, EventType.GIVEAWAY_ENTRIES, giveaway_id=7, entries=40)
    b = ev(3, EventType.GIVEAWAY_ENTRIES, giveaway_id=7, entries=25)  # an older node's figure
    assert a.key == b.key == (EventType.GIVEAWAY_ENTRIES, 7)
    for e in (a, b, ev(4, EventType.GIVEAWAY_ENTRIES, giveaway_id=8, entries=99)):
        state.apply(e)
    poll = {"poll_id": 3, "options": ["a", "b"], "counts": [0, 0], "total": 0, "open": True}
    state.apply(ev(5, EventType.POLL_OPENED, poll=poll))
    state.apply(ev(6, EventType.POLL_VOTES, poll_id=3, counts=[2, 1], total=3))
    state.apply(ev(7, EventType.POLL_VOTES, poll_id=3, counts=[1, 1], total=2))
    q = {"question_id": 9, "text": "Vegan?", "status": "answering"}
    state.apply(ev(8, EventType.QUESTION_STATUS, question=q))
    snap = json.loads(state.snapshot())
    assert snap["giveaway"]["entries"] == 40
    assert snap["poll"]["counts"] == [2, 1] and snap["poll"]["total"] == 3
    assert snap["answering"]["question_id"] == 9
    state.apply(ev(9, EventType.QUESTION_STATUS, question={**q, "status": "answered"}))
    drawn = {**giveaway, "status": "drawn", "entries": 41, "seed": "ab" * 32}
    state.apply(ev(10, EventType.GIVEAWAY_DRAWN, giveaway=drawn))
    snap = json.loads(state.snapshot())
    assert snap["answering"] is None and snap["giveaway"]["seed"] == "ab" * 32


def test_a_ticks_highest_count_is_sent_whatever_order_the_nodes_figures_arrive_in() -> None:
    events = [
        ev(1, EventType.GIVEAWAY_ENTRIES, giveaway_id=7, entries=6),  # node B
        ev(2, EventType.GIVEAWAY_ENTRIES, giveaway_id=7, entries=5),  # node A, later
        ev(3, EventType.POLL_VOTES, poll_id=3, counts=[1, 0], total=1),
        ev(4, EventType.POLL_VOTES, poll_id=3, counts=[1, 1], total=2),
    ]
    shared, _own, left_out, _charged = select(events, None, {})
    assert [(e.seq, e.type) for e in shared] == [(1, "giveaway_entries"), (4, "poll_votes")]
    assert left_out == 2


class _Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, dict[str, Any]]] = []

    async def publish(self, session_id: int, kind: EventType, payload: dict[str, Any]) -> int:
        self.sent.append((session_id, str(kind), payload))
        return len(self.sent)


async def test_a_burst_of_counts_is_a_couple_of_events_the_highest_last() -> None:
    publisher = _Publisher()
    counts = RoomCounts(lambda: publisher, interval_s=0.2)  # type: ignore[arg-type,return-value]
    for n in range(1, 501):
        counts.note(1, EventType.GIVEAWAY_ENTRIES, 7, {"giveaway_id": 7, "entries": n}, n)
        if n % 100 == 0:
            await asyncio.sleep(0)
    await counts.flushed()
    figures = [p["entries"] for _s, _k, p in publisher.sent]
    assert 1 <= len(figures) <= 3 and figures[-1] == 500 and figures == sorted(figures)
