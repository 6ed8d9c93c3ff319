"""The cyclic garbage collector, tuned for a long-running server process.

A server's heap is mostly objects that live as long as the process: modules, the app and its
routes, SQLAlchemy's mappers and compiled-statement cache, the token cache. CPython's cyclic
collector walks them again at every full (oldest-generation) collection, and allocation-heavy
work (a batch of hundreds of paid orders builds thousands of ORM objects) triggers those often:
in-process, a 400-order pay batch spent about half of its CPU in the collector
(BENCHMARKS.md, issue 14, session 10).

``tune_for_serving`` does what large Python services do (Instagram's ``gc.freeze``; Python's
own documentation of it): once the app has started, collect once, then move every object
alive into the permanent generation (``gc.freeze``), so collections stop walking them; and
collect the youngest generation less often. Objects freed by reference counting are freed as
always; only cyclic garbage among the frozen objects is never reclaimed, which is why this
runs once, after start-up, and not in test processes that build hundreds of apps
(``LIVESHOP_GC_FREEZE=0``; tests/conftest.py).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def tune_for_serving(young_threshold: int = YOUNG_THRESHOLD) -> None:
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
