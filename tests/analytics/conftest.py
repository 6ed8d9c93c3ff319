"""Analytics' tests run real servers the way the live tests do (the ``serve`` fixture)."""

from __future__ import annotations

from tests.live.conftest import serve

__all__ = ["serve"]
