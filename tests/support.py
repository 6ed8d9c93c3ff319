"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import get_settings


@dataclass
class Actor:
    """A signed-in user for tests: ``headers`` carry their bearer token."""

    id: int
    email: str
    token: str
    roles: frozenset[Role]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def assert_problem(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and problem type)."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    if code is not None:
        assert body["type"].endswith("/" + code), body
    return body


class MakeActor(Protocol):
    """The ``make_actor`` fixture: ``await make_actor(Role.SELLER)`` → a signed-in Actor."""

    async def __call__(self, *roles: Role, name: str | None = None) -> Actor: ...


@dataclass
class StatementLog:
    """The SQL statements sent to the database while counting, in order (``BEGIN IMMEDIATE``
    included on SQLite, where SQLAlchemy sends it as a statement; asyncpg's BEGIN/COMMIT and
    COMMIT on both are protocol calls, not counted)."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    @property
    def work(self) -> list[str]:
        """The statements that read or write rows (transaction control left out)."""
        return [s for s in self.statements if not s.lstrip().upper().startswith("BEGIN")]

    def show(self) -> str:
        return "\n".join(f"{n:3}  {s.splitlines()[0][:150]}" for n, s in enumerate(self.statements))


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Record every statement any connection of ``engine`` executes inside the block."""
    log = StatementLog()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


@asynccontextmanager
async def app_client(db: Database, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of an app over ``db`` with these settings changed (a rate limit
    small enough to reach, another broker…); the app's broker is closed afterwards."""
    app = create_app(get_settings().model_copy(update=settings), database=db)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.broker.close()
