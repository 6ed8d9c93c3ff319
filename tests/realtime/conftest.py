"""The engine's tests run real servers the way the live tests do: the same ``serve``
fixture (``tests.live.conftest``), not a copy of it."""

from __future__ import annotations

from tests.live.conftest import serve

__all__ = ["serve"]
