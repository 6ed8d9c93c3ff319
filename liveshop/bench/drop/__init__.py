"""``liveshop bench drop``: the acceptance benchmark of issue 14 ("Drops at live scale").

Over the network like production: ``--workers`` real uvicorn server processes (production
settings, one port shared through ``SO_REUSEPORT``, over Redis) on a fresh PostgreSQL (or
SQLite) database; a live session whose creator starts a deal of ``--stock`` units under
``--policy``; ``--tappers`` signed-in buyers (API tokens) on keep-alive connections
(``--via http``: a lean HTTP/1.1 client; ``--via ws``: the room's WebSocket) in separate
load-generator processes, who all tap at the drop and then pay what they claimed. The
baselines run in the same invocation on the same server processes and connections: the
floor (the cheapest authenticated endpoint), today's checkout, and the naive one-UPDATE-
per-tap claim. Afterwards the database is checked: nothing oversold, the paid orders,
every stock level's identity, the ledger.

The parts: ``options`` (what a run is asked to do), ``seed`` (database, people, shop,
deals, the checks), ``server`` (a server process), ``wire`` (the lean HTTP and WebSocket
clients), ``tappers`` (the load generator's processes), ``run`` (one measurement).
This package imports nothing heavy until a run starts (``liveshop --help`` stays fast)."""

from __future__ import annotations

from liveshop.bench.drop.options import RESULT_KEYS, DropOptions

__all__ = ["RESULT_KEYS", "DropOptions"]
