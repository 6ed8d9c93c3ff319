"""``core.group_commit``: concurrent callers share one write per batch, each gets its own
result, and a batch waiting on something slow lets the next one start when allowed."""

from __future__ import annotations

import asyncio

import pytest

from liveshop.core.group_commit import GroupCommit


async def test_callers_arriving_together_share_one_write_and_get_their_own_results() -> None:
    writes: list[list[int]] = []

    async def write(items: list[int]) -> list[int | BaseException]:
        writes.append(items)
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    gc: GroupCommit[int, int] = GroupCommit(write)
    got = await asyncio.gather(*(gc.submit(i) for i in range(6)), return_exceptions=True)
    assert writes == [[0, 1, 2, 3, 4, 5]] and gc.batches == 1
    assert [g if isinstance(g, int) else str(g) for g in got] == [
        0,
        "odd 1",
        20,
        "odd 3",
        40,
        "odd 5",
    ]


async def test_a_failed_write_fails_every_caller_of_its_batch_and_the_next_batch_goes_on() -> None:
    calls = 0

    async def write(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database gone")
        return items

    gc: GroupCommit[str, str] = GroupCommit(write)
    first = await asyncio.gather(gc.submit("a"), gc.submit("b"), return_exceptions=True)
    assert [str(e) for e in first] == ["database gone", "database gone"]
    assert await gc.submit("c") == "c"


@pytest.mark.parametrize("in_flight", [1, 2])
async def test_a_slow_batch_lets_the_next_start_only_when_allowed(in_flight: int) -> None:
    release = asyncio.Event()
    started: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        started.append(items)
        if items == [1]:
            await release.wait()  # the first batch waits on a slow provider
        return items

    gc: GroupCommit[int, int] = GroupCommit(write, in_flight=in_flight)
    first = asyncio.create_task(gc.submit(1))
    await asyncio.sleep(0)  # the first batch is being written
    await asyncio.sleep(0)
    second = asyncio.create_task(gc.submit(2))
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == ([[1], [2]] if in_flight == 2 else [[1]])
    release.set()
    assert await asyncio.gather(first, second) == [1, 2]
    assert started == [[1], [2]]


@pytest.mark.parametrize("linger_s", [0.0, 0.2])
async def test_a_linger_makes_a_burst_one_batch(linger_s: float) -> None:
    """The first item of an idle path waits ``linger_s`` for the ones right behind it (a
    drop's winners paying at once); without it the first goes alone."""
    batches: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        return items

    gc: GroupCommit[int, int] = GroupCommit(write, linger_s=linger_s)
    first = asyncio.create_task(gc.submit(1))
    for _ in range(5):
        await asyncio.sleep(0)  # the drain has started (and, with a linger, waits)
    second = asyncio.create_task(gc.submit(2))
    if linger_s:
        await asyncio.sleep(0)
        assert batches == []  # still gathering
    done = await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert done == [1, 2]
    assert batches == ([[1, 2]] if linger_s else [[1], [2]])
