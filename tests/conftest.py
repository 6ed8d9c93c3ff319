"""Shared fixtures: every repository/query test runs on SQLite and on PostgreSQL.

PostgreSQL comes from LIVESHOP_TEST_POSTGRES_URL (Redis from LIVESHOP_TEST_REDIS_URL). When a
service is missing the tests that need it skip — unless LIVESHOP_REQUIRE_SERVICES=1 (CI),
where they fail.
"""

from __future__ import annotations

import os

# Cheap argon2id for tests (still a real hash and verify): ~2 ms instead of ~14 ms at 8 MiB,
# for the thousands of users the tests sign up.
os.environ.setdefault("LIVESHOP_PASSWORD_TIME_COST", "1")
os.environ.setdefault("LIVESHOP_PASSWORD_MEMORY_COST_KIB", "1024")
os.environ.setdefault("LIVESHOP_SECRET_KEY", "test-secret")
# No media server in every app a test starts; tests/video turns it on where it is tested.
os.environ.setdefault("LIVESHOP_VIDEO_PROVIDER", "off")
# A test process builds hundreds of apps: none freezes the heap (``core.gc_tuning``).
os.environ.setdefault("LIVESHOP_GC_FREEZE", "0")

import asyncio
import contextlib
import itertools
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvloop
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import liveshop.models  # noqa: F401
from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role, TokenKind
from liveshop.app import create_app
from liveshop.core.db import Base, Database
from liveshop.core.migrate import upgrade
from liveshop.markets.reference import reference_markets
from liveshop.wiring import install_domain_events
from tests.support import Actor

# The shop-with-a-creator set-up (``make_shopfront`` and its helpers) that the creators'
# affiliates', promotions', payouts' and pages' tests share.
# ``tests.scheduling``: how the files are spread over xdist workers (longest first).
pytest_plugins = ["tests.shopfront", "tests.processes", "tests.scheduling"]

# Service functions called directly (without an app) see the same domain-event subscriptions
# as requests do.
install_domain_events()

REQUIRE_SERVICES = os.environ.get("LIVESHOP_REQUIRE_SERVICES") == "1"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The random order's seed, even under -q (pytest-randomly's header is hidden there)."""
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and getattr(config.option, "randomly_reorganize", True):
        terminalreporter.write_line(f"random order: pytest --randomly-seed={seed} repeats it")


def service_missing(name: str, why: str) -> None:
    """Skip, or fail when CI says the service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (LIVESHOP_REQUIRE_SERVICES=1) but {why}")
    pytest.skip(f"{name} not available: {why}")


async def _probe_postgres(admin_url: str) -> str | None:
    try:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


async def _pg_admin(admin_url: str, sql: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


# On a disk, every SQLite transaction of a test pays for a checkpoint's fsync (the engine has no
# pool: the last connection closing checkpoints the WAL), ~10 ms a write. Tests do not test
# durability: their database lives in memory (tmpfs) where the machine has one.
SHM = Path("/dev/shm")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test runs on uvloop, the loop the app runs on in production (uvicorn's
    ``loop="auto"``). On the standard loop, a uvicorn server and an HTTP client sharing one
    loop answer each request ~40 ms late (a stall the production loop does not have)."""
    return {"uvloop": uvloop.new_event_loop}


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The worker's migrated, empty SQLite database: the template each test's copy is made
    from (``db_url``); no test writes to it."""
    if SHM.is_dir() and os.access(SHM, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="liveshop-test-", dir=SHM))
    else:
        folder = tmp_path_factory.mktemp("db")
    path = folder / "liveshop.db"
    url = f"sqlite+aiosqlite:///{path}"
    try:
        upgrade(url)
        # Everything in the main file (no -wal beside it), so a copy of the file is the
        # whole database.
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield url
    finally:
        if folder.is_relative_to(SHM):
            shutil.rmtree(folder, ignore_errors=True)


_sqlite_copies = itertools.count(1)


def _sqlite_copy(template_url: str) -> Iterator[str]:
    """A fresh copy of the migrated template for one test, removed afterwards.

    Each test gets a database file of its own rather than the worker's one file emptied: a
    connection the previous test left behind (a server's request cancelled mid-transaction,
    its aiosqlite thread not yet collected) can hold SQLite's write lock on that file for a
    while, and the next test's reset then waited 30 s for it and failed with "database is
    locked". A copy of an empty file is also quicker than emptying a used one."""
    template = Path(template_url.partition(":///")[2])
    path = template.with_name(f"t{next(_sqlite_copies)}.db")
    shutil.copyfile(template, path)
    try:
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        for leftover in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = os.environ.get("LIVESHOP_TEST_POSTGRES_URL")
    if not admin_url:
        service_missing("PostgreSQL", "LIVESHOP_TEST_POSTGRES_URL is not set")
        raise AssertionError("unreachable")
    problem = asyncio.run(_probe_postgres(admin_url))
    if problem:
        service_missing("PostgreSQL", problem)
    name = f"liveshop_t_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"
    try:
        # Commits need not wait for the WAL to reach the disk (durability is not under test;
        # atomicity, locks and visibility are unchanged). This database only.
        asyncio.run(_pg_admin(admin_url, f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (not migrated) on each engine, for migration tests:
    ``upgrade(fresh_url, "00NN")``, rows as they were then, upgrade, check."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    admin_url = os.environ.get("LIVESHOP_TEST_POSTGRES_URL")
    if not admin_url:
        service_missing("PostgreSQL", "LIVESHOP_TEST_POSTGRES_URL is not set")
        raise AssertionError("unreachable")
    problem = asyncio.run(_probe_postgres(admin_url))
    if problem:
        service_missing("PostgreSQL", problem)
    name = f"liveshop_m_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass(frozen=True)
class _Tables:
    names: list[str]  # the migrated tables, children before parents
    truncate: frozenset[str]  # PostgreSQL: tables a trigger keeps DELETE from (the ledger)


_tables_of: dict[str, _Tables] = {}  # per PostgreSQL URL (SQLite: per worker), looked up once


async def _tables(db: Database, conn: Any) -> _Tables:
    key = db.dialect if db.dialect == "sqlite" else db.url  # SQLite: copies of one template
    found = _tables_of.get(key)
    if found is None:
        # Only tables the migrations created: a model without its migration is caught by
        # tests/core/test_migrations.py, not by every test failing here.
        existing = set(await conn.run_sync(lambda c: sa_inspect(c).get_table_names()))
        names = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
        guarded: set[str] = set()
        if db.dialect == "postgresql":  # user triggers on DELETE (tgtype bit 3)
            rows = await conn.execute(
                text(
                    "SELECT DISTINCT c.relname FROM pg_trigger g"
                    " JOIN pg_class c ON c.oid = g.tgrelid"
                    " WHERE NOT g.tgisinternal AND (g.tgtype & 8) <> 0"
                )
            )
            guarded = set(rows.scalars())
        found = _tables_of[key] = _Tables(names, frozenset(guarded))
    return found


async def reset_database(db: Database) -> None:
    """Empty every table and put the reference markets back (fast: no migrations).

    Only the tables that hold rows are emptied, with DELETE in dependency order: on
    PostgreSQL a TRUNCATE of every table makes new files for each table and index (most of a
    second per test); DELETE of a few rows does not. The append-only ledger refuses DELETE
    there, so its tables are TRUNCATEd (not a row change) when they hold rows. Identities
    restart at 1 on both databases."""
    async with db.engine.begin() as conn:
        tables = await _tables(db, conn)
        probe = " UNION ALL ".join(
            f'SELECT {n} AS i WHERE EXISTS (SELECT 1 FROM "{t}")'
            for n, t in enumerate(tables.names)
        )
        holding = set((await conn.execute(text(probe))).scalars())
        filled = [t for n, t in enumerate(tables.names) if n in holding]
        guarded = [t for t in filled if t in tables.truncate]
        if guarded:
            quoted = ", ".join(f'"{t}"' for t in guarded)
            await conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        for t in filled:
            if t not in tables.truncate:
                await conn.execute(text(f'DELETE FROM "{t}"'))
        if db.dialect == "postgresql":
            await conn.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                )
            )
        elif await _has_seq(conn):
            await conn.execute(text("DELETE FROM sqlite_sequence"))
        markets = Base.metadata.tables["markets"]
        from liveshop.core.clock import utcnow

        now = utcnow()
        await conn.execute(
            markets.insert(), [{**m, "updated_at": now} for m in reference_markets()]
        )


async def _has_seq(conn: Any) -> bool:
    row = await conn.execute(
        text("SELECT name FROM sqlite_master WHERE type='table' AND name='sqlite_sequence'")
    )
    return row.first() is not None


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test's database: on SQLite a fresh copy of the migrated template (``_sqlite_copy``),
    on PostgreSQL the worker's database (``db`` empties it)."""
    url = str(request.getfixturevalue(f"{request.param}_url"))
    if request.param == "sqlite":
        yield from _sqlite_copy(url)
    else:
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await reset_database(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[Any]:
    """A session for direct service calls in tests. Deferred on SQLite so that holding it open
    does not block the API's writes; commit or roll back before writing after an API write."""
    async with db.session(deferred=True) as s:
        yield s


@pytest.fixture
def app(db: Database) -> Any:
    return create_app(database=db)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def make_actor(db: Database) -> Any:
    counter = iter(range(1, 10_000))

    async def _make(*roles: Role, name: str | None = None) -> Actor:
        n = next(counter)
        label = name or "-".join(sorted(roles or (Role.BUYER,)))
        email = f"{label}{n}@example.com"
        async with db.session() as s:
            user = await accounts.create_user(
                s,
                email=email,
                password="correct horse battery",
                display_name=f"{label} {n}",
                roles=roles or (Role.BUYER,),
            )
            issued = await accounts.issue_token(s, user, kind=TokenKind.API, name="test")
        return Actor(id=user.id, email=email, token=issued.token, roles=frozenset(user.role_names))

    return _make


def _probe_redis(url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis from LIVESHOP_TEST_REDIS_URL; skips (or fails in CI) like PostgreSQL."""
    url = os.environ.get("LIVESHOP_TEST_REDIS_URL")
    if not url:
        service_missing("Redis", "LIVESHOP_TEST_REDIS_URL is not set")
        raise AssertionError("unreachable")
    problem = _probe_redis(url)
    if problem:
        service_missing("Redis", problem)
    return url


def redis_broker_url(redis_url: str) -> str:
    """The Redis URL with a prefix of its own: pub/sub channels are global to the server."""
    return f"{redis_url}{'&' if '?' in redis_url else '?'}prefix=t{uuid.uuid4().hex[:10]}:"


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A broker of each kind (liveshop.core.broker)."""
    from liveshop.core.broker import make_broker

    url = "memory://"
    if request.param == "redis":
        url = redis_broker_url(request.getfixturevalue("redis_url"))
    b = make_broker(url)
    try:
        yield b
    finally:
        await b.close()
