"""Demo data (filled in with the catalog)."""

from __future__ import annotations

from rich.console import Console

from liveshop.core.db import Database


async def load_demo(db: Database, *, console: Console | None = None) -> None:
    raise NotImplementedError
