"""``liveshop bench fanout``: N real WebSocket viewers in one live room.

The server runs as separate processes (``python -m liveshop.bench.fanout --node``), over
Redis when there is more than one, on a fresh SQLite database (or, with
``--database-url``, a fresh PostgreSQL one). Viewers connect from separate client
processes: about 5 % of sockets are full ``websockets`` clients that parse every frame and
measure latency; the rest are a bare asyncio protocol that parses frame headers and counts
the benchmark's events (``"type":"comment"``/``"stock"``) — a Python client cannot fully
parse 100k frames/s, and those sockets only need to prove delivery. A commenter process
sends R comments/s over signed-in sockets (each within the per-socket rate limit), node 0
publishes stock updates; every event carries its scheduled time, so a lagging publisher
shows up as latency.
Latency = receipt time at the viewer − scheduled publish time, same clock (one machine).

The server processes (K nodes × W workers; W > 1 share one port through SO_REUSEPORT and
split the node's frame budget; by default W is what the open-files limit needs) run as a
node's workers would: by default (``placement="spread"``) worker i is pinned to CPU i, and
the load generator takes what the server leaves — the counting viewers at the lowest
priority (they take their last read at full priority), the latency sample and the
commenters at the benchmark's own. ``placement="pinned"`` keeps every server process on
CPU 0 and the clients on the other CPUs (the server gets one core of the node, and pays
for its viewers' loopback receive path there too). ``naive=True`` runs the same server with
``LIVESHOP_LIVE_FANOUT=naive``: one send per event per viewer, no batching.

The parts: ``options`` (what a run is asked to do), ``server`` (a node process),
``viewers`` (the load generator's processes), ``run`` (one measurement and its summary).
"""

from __future__ import annotations

from liveshop.bench.fanout.options import (
    RESULT_KEYS,
    FanoutOptions,
    commenters_needed,
    percentile,
    raise_nofile,
    workers_needed,
)
from liveshop.bench.fanout.viewers import _READ_BUFFER, CountingViewer, Tally

__all__ = [
    "RESULT_KEYS",
    "_READ_BUFFER",
    "CountingViewer",
    "FanoutOptions",
    "Tally",
    "commenters_needed",
    "percentile",
    "raise_nofile",
    "workers_needed",
]
