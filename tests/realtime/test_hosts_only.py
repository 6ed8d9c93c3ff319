"""Which sockets get a batch's held comments and hosts-only events (``batch.select``): a
held line goes to its author as an ordinary comment and to the room's hosts marked held (a
private hold — a complaint — to its author only); a ``reports`` event to the hosts alone;
everyone else gets neither, and each skip is accounted for."""

from __future__ import annotations

import json
from typing import Any, cast

from liveshop.core.events import dumps
from liveshop.realtime.batch import select
from liveshop.realtime.state import Ev
from liveshop.realtime.wire import Conn


def _ev(seq: int, kind: str, **data: Any) -> Ev:
    body = {"seq": seq, "type": kind, **data}
    return Ev(dumps(body), body)


def test_held_lines_and_reports_reach_the_hosts() -> None:
    author, host, viewer = (cast(Conn, object()) for _ in range(3))
    events = [
        _ev(1, "comment", id=1, user={"id": 7, "name": "Ann"}, text="hi"),
        _ev(2, "comment", id=2, user={"id": 8, "name": "Bo"}, text="spam!!", held=True),
        _ev(3, "comment", id=3, user={"id": 8, "name": "Bo"}, text="parcel?", held="private"),
        _ev(4, "reports", report_id=5),
    ]
    shared, own, left_out, _charged = select(events, None, {8: [author]}, [host])
    assert [e.seq for e in shared] == [1]  # what every socket (the viewer too) gets
    assert left_out == 3 and viewer not in own
    assert [(e.seq, json.loads(e.raw).get("held")) for e in own[author]] == [
        (2, None),  # its author cannot tell it was held
        (3, None),
    ]
    assert [(e.seq, json.loads(e.raw).get("held")) for e in own[host]] == [
        (2, True),  # the hosts see it marked held
        (4, None),  # and the report; never the private complaint
    ]
