"""Group commit: many concurrent callers, one write per batch.

``GroupCommit(write)``: ``await gc.submit(item)`` queues the item and returns its own result
once the batch holding it is written by ``write(items) -> results`` (one result per item, in
order; an exception in the list is raised to that item's caller alone). No timer: the first
item is written at once; items that arrive while a write runs wait for the next one, so a
batch grows with the load and an idle path costs nothing extra (PostgreSQL's own group commit,
and the claim desk's per-deal batcher, work the same way). If ``write`` itself raises, every
caller of that batch gets the exception.

``linger_s``: when a drain starts on an idle path, wait this long before taking the first
batch, so that a burst arriving over a few milliseconds (a drop's winners all paying at once)
is one batch instead of a batch of one and then the rest (default 0: no wait).

``in_flight``: how many batches may be written at once (default 1: strictly one after the
other). More lets a batch that waits on something slow (a payment provider, a commit) overlap
the next one; only for writes whose batches are independent of each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        max_batch: int = 500,
        name: str = "group-commit",
        in_flight: int = 1,
        linger_s: float = 0.0,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.name = name
        self.in_flight = in_flight
        self.linger_s = linger_s
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # written so far (for tests and figures)

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        # A caller cancelled while waiting never reads its result: nor is it logged as lost.
        future.add_done_callback(_consume)
        self._pending.append((item, future))
        # (a drain that has just returned is done() before its callback drops it from the set)
        if sum(1 for t in self._tasks if not t.done()) < self.in_flight:
            task = asyncio.create_task(self._drain(), name=self.name)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        if self.linger_s > 0 and len(self._pending) < self.max_batch:
            await asyncio.sleep(self.linger_s)
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await self._write([item for item, _f in batch])
            except BaseException as exc:
                for _item, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            self.batches += 1
            if len(results) != len(batch):
                problem = RuntimeError(f"{self.name}: {len(results)} results for {len(batch)}")
                results = [problem] * len(batch)
            for (_item, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
