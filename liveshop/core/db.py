"""Async SQLAlchemy engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import structlog
from fastapi import Request
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_

log = structlog.get_logger("liveshop.core.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite so the primary key is the rowid (auto-increment).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
# Money in minor units can exceed 2**31 (VND, IDR): always 64-bit.
MinorUnits = BigInteger


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's ``Table`` (for Core multi-row statements on hot paths)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        connect_args = {"timeout": 30}
        # A few connections kept open (each is a thread in aiosqlite): a request does not pay
        # for opening the file and its PRAGMAs, and the WAL is not checkpointed (with an fsync)
        # every time the last connection closes. Bursts open more and close them afterwards.
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", -1)
        engine = create_async_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_sync_sqlite_engine(url: str) -> Engine:
    """A synchronous engine on the same SQLite file (pysqlite), set up like the async one:
    for work done on a thread of its own in one call, without aiosqlite's thread hops."""
    sync_url = make_url(url).set(drivername="sqlite")
    engine = create_engine(sync_url, connect_args={"timeout": 30}, poolclass=NullPool)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(async_or_sync: AsyncEngine | Engine) -> None:
    engine = async_or_sync
    if isinstance(engine, AsyncEngine):
        engine = engine.sync_engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is turned off so that SQLAlchemy's BEGIN
        # below is the one that runs: IMMEDIATE takes the write lock up front, so two
        # writers queue on busy_timeout instead of failing with "database is locked".
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    gate = None
    if isinstance(async_or_sync, AsyncEngine):
        gate = _gates[engine] = WriteGate()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        deferred = conn.get_execution_options().get("sqlite_deferred", False)
        if deferred:
            conn.exec_driver_sql("BEGIN")
            return
        if gate is not None:
            gate.enter(conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if gate is not None:
                gate.leave(conn.info)
            raise

    if gate is not None:
        # The transaction's end lets the next writer in; a connection given back to the pool
        # (closed, cancelled, invalidated) without either event lets it in too.
        event.listen(engine, "commit", lambda conn: gate.leave(conn.info))
        event.listen(engine, "rollback", lambda conn: gate.leave(conn.info))
        event.listen(engine, "checkin", lambda _dbapi, record: gate.leave(record.info))
        event.listen(engine, "invalidate", lambda _dbapi, record, _exc: gate.leave(record.info))


_gates: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> WriteGate | None:
    """The queue of this process's writers to a SQLite engine (None on PostgreSQL)."""
    return _gates.get(engine.sync_engine)


class WriteGate:
    """This process's writers to one SQLite file, let in one at a time in arrival order.

    SQLite has one write lock per file; a writer that finds it taken sleeps in SQLite's busy
    handler (1, 2, 5 … 100 ms) and polls again, so under a burst (a flash deal's buyers) the
    file sits idle between a commit and the next poll and the waiters are served in no order.
    Queueing the process's own writers on an asyncio lock *before* ``BEGIN IMMEDIATE`` hands
    the lock over at once and first come, first served. Other processes on the same file
    (more workers, the CLI, the comment writer's thread) still meet at SQLite's lock and
    busy_timeout. The transaction's own work is unchanged: the gate is held exactly while the
    SQLite write lock would be."""

    KEY = "liveshop_write_gate"
    TIMEOUT_S = 30.0  # as long as busy_timeout: then "database is locked", as SQLite says

    def __init__(self) -> None:
        # One lock per event loop (an engine outliving its loop, as in tests, gets a new one).
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        # Which task holds each loop's lock: a task that asks again on another connection
        # would wait for itself (issue 15's 30-second stall: a signed-in /healthz pinged on a
        # second connection while its own request held the lock), so it is refused at once.
        self._holders: weakref.WeakKeyDictionary[asyncio.Lock, asyncio.Task[Any]] = (
            weakref.WeakKeyDictionary()
        )
        self.waiting = 0  # writers queued now (all loops)

    def enter(self, info: dict[str, Any]) -> None:
        if info.get(self.KEY) is not None:  # already inside
            return
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        task = asyncio.current_task()
        if lock.locked() and task is not None and self._holders.get(lock) is task:
            log.error("a second write transaction in one task", task=task.get_name())
            raise sqlite3.OperationalError(
                "database is locked by this very task's other write transaction (it would "
                "wait for itself): commit or roll back before opening another"
            )
        self.waiting += 1
        try:
            await_(asyncio.wait_for(lock.acquire(), self.TIMEOUT_S))
        except TimeoutError:
            raise sqlite3.OperationalError(
                f"database is locked (waited {self.TIMEOUT_S:.0f} s for this process's "
                "other writers)"
            ) from None
        finally:
            self.waiting -= 1
        info[self.KEY] = lock
        if task is not None:
            self._holders[lock] = task

    def leave(self, info: dict[str, Any]) -> None:
        lock: asyncio.Lock | None = info.pop(self.KEY, None)
        if lock is not None:
            self._holders.pop(lock, None)
            lock.release()


# --- a step, then the commit ----------------------------------------------------------------

P = ParamSpec("P")
T = TypeVar("T")


def committing(
    step: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[T]]:
    """``step`` (which flushes and never commits, so another domain can run it inside its own
    transaction) followed by the commit, with the same arguments: the one-transaction service
    function for callers that have nothing else to write."""

    @functools.wraps(step)
    async def step_and_commit(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> T:
        done = await step(session, *args, **kwargs)
        await session.commit()
        return done

    return step_and_commit


# --- after commit -------------------------------------------------------------------------

AfterCommit = Callable[[], Awaitable[Any]]
_QUEUED = "liveshop_on_commit"  # callbacks of the transaction now open
_READY = "liveshop_committed"  # callbacks whose transaction has committed, not yet run


def on_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback()`` once the session's current transaction commits; never if it rolls
    back. This is how a change reaches anyone outside the database (a room's viewers): the
    event is queued while the transaction is open and goes out only after COMMIT, so nobody
    ever sees what the database does not have (Zulip's ``send_event_on_commit``).

    Callbacks run in the order queued, awaited by the ``commit()`` that committed them (so a
    request's answer leaves after its events); one that fails is logged and the others still
    run — the commit has happened and is not undone. The session must be one of
    :class:`Database`'s (a :class:`CommitHookSession`)."""
    if not isinstance(session, CommitHookSession):
        raise TypeError("on_commit needs a CommitHookSession (Database.session())")
    session.sync_session.info.setdefault(_QUEUED, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(sync_session: Session) -> None:
    queued = sync_session.info.pop(_QUEUED, None)
    if queued:
        sync_session.info.setdefault(_READY, []).extend(queued)


@event.listens_for(Session, "after_soft_rollback")
def _soft_rolled_back(sync_session: Session, previous: Any) -> None:
    if not previous.nested:  # a SAVEPOINT rolled back leaves the transaction's queue alone
        sync_session.info.pop(_QUEUED, None)


class CommitHookSession(AsyncSession):
    """An ``AsyncSession`` that runs :func:`on_commit` callbacks after each commit."""

    async def commit(self) -> None:
        await super().commit()
        await self.run_after_commit()

    async def close(self) -> None:
        # Closing rolls back whatever is still open: its queued callbacks are dropped.
        await super().close()
        self.sync_session.info.pop(_QUEUED, None)
        await self.run_after_commit()

    async def run_after_commit(self) -> None:
        """Run the callbacks of committed transactions (also those committed by a
        ``session.begin()`` block, which does not go through :meth:`commit`)."""
        info = self.sync_session.info
        while ready := info.pop(_READY, None):
            for callback in ready:
                try:
                    await callback()
                except Exception:
                    log.exception("after-commit callback failed", callback=repr(callback))


class Database:
    """Owns the engine and hands out sessions; one per app (or per test)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(
            self.engine, class_=CommitHookSession, expire_on_commit=False
        )
        # Read-mostly sessions on SQLite: a deferred BEGIN does not take the write lock, so a
        # reader left open (a test, a report) does not block writers. Same as above elsewhere.
        self.deferred_sessionmaker = async_sessionmaker(
            self.engine.execution_options(sqlite_deferred=True),
            class_=CommitHookSession,
            expire_on_commit=False,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, deferred: bool = False) -> CommitHookSession:
        """A new session. On SQLite every transaction is BEGIN IMMEDIATE (writers queue on
        busy_timeout instead of failing mid-transaction) unless ``deferred`` — use that only
        for sessions that mostly read and may be held open."""
        return (self.deferred_sessionmaker if deferred else self.sessionmaker)()

    async def ping(self) -> bool:
        """A read on a connection of its own, never taking SQLite's write lock (a request
        that holds it may ask, and other writers must not wait for a health check)."""
        async with self.engine.execution_options(sqlite_deferred=True).connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request; services commit their own transaction."""
    db: Database = request.app.state.db
    async with db.session() as session:
        yield session
