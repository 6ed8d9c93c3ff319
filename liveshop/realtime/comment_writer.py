"""Chat lines are stored in batches: one transaction per batch, not per line.

At 100 comments/s a transaction per comment keeps the database (and, on SQLite, its single
writer) busy all the time and queues the comments behind each other; the writer instead
takes whatever has arrived, stores it in one transaction, and hands each socket its stored
comment — which the socket then publishes. Persist first, publish second still holds.

The database work runs on a thread of its own: the node's main loop spends most of a big
room's time writing frames to sockets, and every round trip of a store (BEGIN, UPDATE,
INSERT, COMMIT — or aiosqlite's thread hops) would otherwise wait for the main loop's next
turn. One hand-off per batch crosses the threads. On PostgreSQL the thread runs an event
loop with a connection of its own; on SQLite it stores the batch with the synchronous
driver in one call (sqlite3 releases the GIL while it works).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from liveshop.core.db import Database, make_sync_sqlite_engine
from liveshop.core.errors import Conflict, Problem, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.types import first_control_character
from liveshop.realtime.ports import CommentItem, CommentStore, Hold

log = structlog.get_logger("liveshop.realtime.comments")

T = TypeVar("T")


class _SqliteThread:
    """One thread with a synchronous SQLite engine: a batch is one call, no hops."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_sync_sqlite_engine(url)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="comment-writer-db")

    async def call(self, fn: Callable[[Engine], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, self.engine)

    async def stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self.engine.dispose)
        self._pool.shutdown(wait=False)


def _store_sync(
    store: CommentStore,
    items: Sequence[CommentItem],
    held: Sequence[Hold | None] | None,
    engine: Engine,
) -> list[int | None]:
    with Session(engine) as s:
        return store.store_sync(s, items, held)


class _DbThread:
    """A thread running an event loop and a Database of its own (same URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.db: Database | None = None
        self._thread = threading.Thread(target=self._run, name="comment-writer-db", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.close()

    def database(self) -> Database:
        """The thread's Database (call on the thread's loop)."""
        if self.db is None:
            small = {} if self.url.startswith("sqlite") else {"pool_size": 2, "max_overflow": 2}
            self.db = Database(self.url, **small)
        return self.db

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the thread's loop from the caller's loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def stop(self) -> None:
        async def dispose() -> None:
            if self.db is not None:
                await self.db.dispose()

        with contextlib.suppress(Exception):
            await self.run(dispose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join, 10)


@dataclass
class _Pending:
    session_id: int
    user_id: int
    text: str
    stored: asyncio.Future[int]
    held: Hold | None = None


class CommentWriter:
    """``store`` puts a batch in the database (the session domain's, or chat's when it logs
    held lines too); it may be replaced before the first comment is posted."""

    def __init__(
        self, db: Database, store: CommentStore, *, max_batch: int = 500, linger_s: float = 0.02
    ) -> None:
        self.db = db
        self.store = store
        self.max_batch = max_batch
        # Wait this long after the first line of a batch for more to join it: at 100
        # lines/s that is ~3 lines per transaction instead of one.
        self.linger_s = linger_s
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None  # used on the database thread only
        self._thread: _DbThread | None = None
        self._sqlite: _SqliteThread | None = None

    async def post(
        self, *, session_id: int, user_id: int, text: str, held: Hold | None = None
    ) -> int:
        """Store a comment (with the next batch) and return its id; 409 ``room-not-live``
        if the session is not live. ``held``: the filter held it (stored hidden, logged).

        A line the database would refuse is refused here, before it can join a batch
        (422 ``bad-comment``): one viewer's bad line must never cost the others theirs."""
        at = first_control_character(text, multiline=True)
        if at is not None:
            raise Unprocessable(
                _(
                    "a comment cannot contain control characters (U+%(ord)s)",
                    ord=format(ord(text[at]), "04X"),
                ),
                code="bad-comment",
            )
        loop = asyncio.get_running_loop()
        pending = _Pending(session_id, user_id, text, loop.create_future(), held)
        self._queue.append(pending)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="comment-writer")
        return await pending.stored

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self.linger_s > 0:
                await asyncio.sleep(self.linger_s)
            self._wake.clear()
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._store(batch)

    async def _connection(self, db: Database) -> AsyncConnection:
        """The writer's own connection, kept between batches (no connect per batch)."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = await db.engine.connect()
        return self._conn

    async def _store_on_thread(
        self,
        thread: _DbThread,
        items: list[CommentItem],
        held: list[Hold | None] | None,
    ) -> Any:
        """Runs on the database thread's loop."""
        try:
            conn = await self._connection(thread.database())
            async with AsyncSession(bind=conn, expire_on_commit=False) as s:
                return await self.store.store(s, items, held)
        except Exception:
            await self._drop_connection()
            raise

    async def _write(self, batch: list[_Pending]) -> list[int | None]:
        items = [(p.session_id, p.user_id, p.text) for p in batch]
        held = [p.held for p in batch] if any(p.held for p in batch) else None
        if self.db.dialect == "sqlite":
            if self._sqlite is None:
                self._sqlite = _SqliteThread(self.db.url)
            store = self.store
            return await self._sqlite.call(lambda engine: _store_sync(store, items, held, engine))
        if self._thread is None:
            self._thread = _DbThread(self.db.url)
        thread = self._thread
        stored: list[int | None] = await thread.run(self._store_on_thread(thread, items, held))
        return stored

    async def _store(self, batch: list[_Pending]) -> None:
        """Store a batch in one transaction; if that fails, each line alone, so only the
        line the database refuses is refused (its socket gets an error frame) and the
        others — the host's line sent at the same moment — are stored and published."""
        try:
            stored = await self._write(batch)
        except Exception as exc:
            if len(batch) > 1:
                log.warning(
                    "storing a batch of comments failed; storing them one by one",
                    count=len(batch),
                    error=repr(exc),
                )
                for p in batch:
                    await self._store([p])
                return
            log.exception("storing a comment failed", session_id=batch[0].session_id)
            refused = (
                exc
                if isinstance(exc, Problem)
                else Unprocessable(_("this comment could not be stored"), code="comment-not-stored")
            )
            for p in batch:
                if not p.stored.done():
                    p.stored.set_exception(refused)
            return
        for p, comment in zip(batch, stored, strict=True):
            if p.stored.done():
                continue
            if comment is None:
                p.stored.set_exception(
                    Conflict(
                        _("the session is not live"), code="room-not-live", session_id=p.session_id
                    )
                )
            else:
                p.stored.set_result(comment)

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        thread, self._thread = self._thread, None
        if thread is not None:
            with contextlib.suppress(Exception):
                await thread.run(self._drop_connection())
            await thread.stop()
        sqlite, self._sqlite = self._sqlite, None
        if sqlite is not None:
            with contextlib.suppress(Exception):
                await sqlite.stop()
