"""One viewer's bad comment costs nobody else anything (issue 15, item 1).

On PostgreSQL a NUL in a comment used to fail the comment writer's whole batch (``invalid
byte sequence for encoding "UTF8": 0x00``): the host's line sent at the same moment was
lost and both sockets closed 1006 with no word. Now the socket refuses the line with an
error frame, the writer refuses it before it can join a batch, a batch the database
refuses is retried line by line, and an unexpected failure is an error frame, never a
dropped socket. Real WebSockets, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from liveshop.core.errors import Problem
from liveshop.realtime.comment_writer import CommentWriter
from tests.realtime.test_room import Stage, stage

__all__ = ["stage"]


async def test_a_nul_comment_and_the_hosts_line_at_the_same_moment(stage: Stage) -> None:
    buyer = await stage.viewer(stage.buyer)
    host = await stage.viewer(stage.creator)
    await buyer.snapshot()
    await host.snapshot()

    await asyncio.gather(
        buyer.send({"type": "comment", "text": "nul\u0000byte"}),
        host.send({"type": "comment", "text": "Pre-shrunk cotton"}),
    )
    error = await buyer.until("error")
    assert error["code"] == "bad-comment"
    assert "U+0000" in error["detail"]
    # The host's line reaches everyone, the bad one nobody; both sockets stay open.
    await buyer.until("comment", text="Pre-shrunk cotton")
    await host.until("comment", text="Pre-shrunk cotton")
    for client in (buyer, host):
        await client.send({"type": "ping", "ref": "still-open"})
        await client.until("pong", ref="still-open")
    assert not [e for e in buyer.events + host.events if "byte" in str(e.get("text"))]
    await buyer.send({"type": "comment", "text": "sorry, fine now"})
    await host.until("comment", text="sorry, fine now")
    await buyer.close()
    await host.close()


async def test_every_control_character_is_refused_on_the_socket(stage: Stage) -> None:
    buyer = await stage.viewer(stage.buyer)
    await buyer.snapshot()
    for text in ("esc\x1b[2J", "del\x7f", "c1\x85c1", "surrogate\ud800"):
        await buyer.send({"type": "comment", "text": text})
        assert (await buyer.until("error"))["code"] == "bad-comment", text
    for frame in (  # and the socket's other frames bound their integers, refuse booleans
        {"type": "resume", "seq": 2**64},
        {"type": "resume", "seq": True},
    ):
        await buyer.send(frame)
        assert (await buyer.until("error"))["code"] == "bad-resume"
    for frame in (
        {"type": "claim", "deal_id": 2**63, "ref": "big"},
        {"type": "claim", "deal_id": True, "ref": "bool"},
        {"type": "claim", "deal_id": 1, "quantity": "1", "ref": "str"},
    ):
        await buyer.send(frame)
        answer = await buyer.until("claim_result", ref=frame["ref"])
        assert answer["error"]["code"] == "bad-claim", answer
    await buyer.send({"type": "comment", "text": "tabs\tare fine"})
    await buyer.until("comment", text="tabs\tare fine")
    await buyer.close()


async def test_a_line_the_database_refuses_fails_alone_in_its_batch(stage: Stage) -> None:
    """The writer's isolation itself: a batch with a line the database refuses (its author
    does not exist: a foreign-key violation) is stored line by line."""
    writer: CommentWriter = stage.hub.comments
    writer.linger_s = 0.05  # both lines surely in one batch
    host_id, ghost_id = stage.creator.id, 2**62
    good, bad = await asyncio.gather(
        writer.post(session_id=stage.sid, user_id=host_id, text="the host's line"),
        writer.post(session_id=stage.sid, user_id=ghost_id, text="from nobody"),
        return_exceptions=True,
    )
    assert isinstance(good, int)
    assert isinstance(bad, Problem) and bad.code == "comment-not-stored"
    # And the writer carries on.
    assert isinstance(await writer.post(session_id=stage.sid, user_id=host_id, text="next"), int)


async def test_an_unexpected_failure_is_an_error_frame_not_a_dropped_socket(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: Any) -> int:
        raise ValueError("a bug")

    buyer = await stage.viewer(stage.buyer)
    watcher = await stage.viewer()
    await buyer.snapshot()
    await watcher.snapshot()
    monkeypatch.setattr(stage.hub.comments, "post", broken)
    await buyer.send({"type": "comment", "text": "hello"})
    assert (await buyer.until("error"))["code"] == "comment-not-stored"
    monkeypatch.undo()
    await buyer.send({"type": "comment", "text": "hello again"})
    await watcher.until("comment", text="hello again")
    await buyer.close()
    await watcher.close()
