"""Async SQLAlchemy engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        connect_args = {"timeout": 30}
        engine = create_async_engine(url, connect_args=connect_args, poolclass=NullPool, **kwargs)
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        deferred = conn.get_execution_options().get("sqlite_deferred", False)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out sessions; one per app (or per test)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Read-mostly sessions on SQLite: a deferred BEGIN does not take the write lock, so a
        # reader left open (a test, a report) does not block writers. Same as above elsewhere.
        self.deferred_sessionmaker = async_sessionmaker(
            self.engine.execution_options(sqlite_deferred=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, deferred: bool = False) -> AsyncSession:
        """A new session. On SQLite every transaction is BEGIN IMMEDIATE (writers queue on
        busy_timeout instead of failing mid-transaction) unless ``deferred`` — use that only
        for sessions that mostly read and may be held open."""
        return (self.deferred_sessionmaker if deferred else self.sessionmaker)()

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request; services commit their own transaction."""
    db: Database = request.app.state.db
    async with db.session() as session:
        yield session
