"""One place that says what time it is (tests can freeze it; ``liveshop simulate`` runs the
real services on a simulated clock with :func:`simulated`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_override: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    if _override is not None:
        return _override()
    return datetime.now(UTC)


@contextmanager
def simulated(now: Callable[[], datetime]) -> Iterator[None]:
    """Every ``utcnow()`` in the process answers ``now()`` until the block ends (a
    simulation's clock; never used by a serving app)."""
    global _override
    previous, _override = _override, now
    try:
        yield
    finally:
        _override = previous
