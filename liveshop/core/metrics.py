"""Operations metrics every layer may count into (``prometheus-client``); served at
``/metrics`` by ``liveshop.metrics``.

Counters and histograms are plain ``prometheus_client`` objects in the default registry. With
several worker processes (``liveshop serve --workers N``), ``PROMETHEUS_MULTIPROC_DIR`` is
set before any worker starts, each process writes its values to files there, and a scrape
of any worker sums every process's (``MultiProcessCollector``); gauges say how (``livesum``:
the sum over the processes alive).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Histogram(
    "liveshop_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
FANOUT_LAG = Histogram(
    "liveshop_fanout_lag_seconds",
    "From an event's publication to the room batch that carries it to the sockets",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5),
)
COMMENTS = Counter("liveshop_comments_total", "Chat lines taken in on room sockets")
CLAIMS = Counter("liveshop_claims_total", "Taps on a drop decided (claims, places, entries)")
PAYMENTS = Counter("liveshop_payments_total", "Orders paid")

ROOMS = Gauge("liveshop_rooms", "Live rooms open on the node", multiprocess_mode="livesum")
SOCKETS = Gauge("liveshop_sockets", "Room sockets connected", multiprocess_mode="livesum")
SOCKETS_DROPPED = Gauge(
    "liveshop_sockets_dropped", "Sockets dropped for being too slow", multiprocess_mode="livesum"
)
DB_POOL_IN_USE = Gauge(
    "liveshop_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum"
)
DB_POOL_SIZE = Gauge("liveshop_db_pool_size", "Database pool size", multiprocess_mode="livesum")
LOOP_LAG = Gauge(
    "liveshop_event_loop_lag_seconds",
    "How late the event loop ran a 0.5 s timer (the worst of the processes)",
    multiprocess_mode="max",
)
CAPTURE_WAITING = Gauge(
    "liveshop_analytics_capture_waiting",
    "Analytics events waiting for the writer",
    multiprocess_mode="livesum",
)
CAPTURE_WRITTEN = Gauge(
    "liveshop_analytics_capture_written", "Analytics events written", multiprocess_mode="livesum"
)
CAPTURE_DROPPED = Gauge(
    "liveshop_analytics_capture_dropped",
    "Analytics events dropped (buffer full)",
    multiprocess_mode="livesum",
)
LOOP_AGE = Gauge(
    "liveshop_background_loop_age_seconds",
    "Seconds since a background loop last finished a run (-1: never)",
    ["loop"],
    multiprocess_mode="max",
)
LOOP_FAILURES = Gauge(
    "liveshop_background_loop_failures",
    "Failed runs of a background loop",
    ["loop"],
    multiprocess_mode="livesum",
)
