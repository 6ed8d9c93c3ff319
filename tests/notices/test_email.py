"""Notices e-mailed over SMTP to a real local SMTP server (aiosmtpd), on both databases: each
pending notice is sent once, with its subject and link; a server that does not answer is
retried and then given up on; the inbox page lists them."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.notices import email
from liveshop.notices.models import EmailStatus, Notice
from liveshop.notices.service import notify
from tests.support import MakeActor
from tests.web.test_pages import csrf_of, page_login

PORTS = range(18300, 18400)  # this project's test port range


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the range")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


async def _statuses(db: Database) -> list[tuple[str, int]]:
    async with db.session(deferred=True) as s:
        rows = await s.scalars(select(Notice).order_by(Notice.id))
        return [(n.email_status, n.email_attempts) for n in rows]


async def test_pending_notices_are_emailed_once(
    db: Database, make_actor: MakeActor, smtp: Any
) -> None:
    controller, handler = smtp
    buyer = await make_actor(Role.BUYER)
    async with db.session() as s:
        for n in (1, 2):
            notice = await notify(
                s,
                buyer.id,
                kind="parcel.delivered",
                subject=f"Order #{n} was delivered",
                body="It is at your door.",
                link=f"/orders/{n}",
            )
            notice.email_status = EmailStatus.PENDING
        await s.commit()
    config = email.SmtpConfig(
        host="127.0.0.1",
        port=controller.port,
        sender="shop@liveshop.test",
        base_url="http://shop.test",
    )
    assert await email.send_pending(db, config) == 2
    assert await email.send_pending(db, config) == 0
    assert [m["Subject"] for m in handler.messages] == [
        "Order #1 was delivered",
        "Order #2 was delivered",
    ]
    assert handler.messages[0]["To"] == buyer.email
    assert "http://shop.test/orders/1" in handler.messages[0].get_payload()
    assert [s for s, _ in await _statuses(db)] == ["sent", "sent"]


async def test_an_unreachable_server_is_retried_then_given_up(
    db: Database, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    async with db.session() as s:
        notice = await notify(s, buyer.id, kind="x", subject="s", body="b")
        notice.email_status = EmailStatus.PENDING
        await s.commit()
    dead = email.SmtpConfig(host="127.0.0.1", port=_free_port(), sender="a@b.c")
    for attempt in range(1, email.MAX_ATTEMPTS + 1):
        assert await email.send_pending(db, dead) == 0
        expected = "failed" if attempt == email.MAX_ATTEMPTS else "pending"
        assert await _statuses(db) == [(expected, attempt)]


async def test_inbox_page(client: httpx.AsyncClient, db: Database, make_actor: MakeActor) -> None:
    buyer = await make_actor(Role.BUYER)
    other = await make_actor(Role.BUYER)
    async with db.session() as s:
        await notify(
            s,
            buyer.id,
            kind="parcel.picked_up",
            subject="Order #7 has shipped",
            body="On its way.",
            link="/orders/7",
        )
        await notify(
            s, other.id, kind="parcel.picked_up", subject="Order #8 has shipped", body="Not yours."
        )
        await s.commit()
    await page_login(client, buyer)
    page = await client.get("/inbox")
    assert "Order #7 has shipped" in page.text and "Order #8" not in page.text
    assert "1 new" in page.text
    read = await client.post("/inbox/read", data={"csrf_token": csrf_of(page)})
    assert read.status_code == 303
    assert "1 new" not in (await client.get("/inbox")).text


async def test_a_notice_whose_sender_died_mid_send_is_sent_after_the_lease(
    db: Database, make_actor: MakeActor, smtp: Any
) -> None:
    """A sender killed between claiming a notice and the SMTP answer left it ``sending``:
    once the claim's lease has run out, the next run sends it."""
    controller, handler = smtp
    buyer = await make_actor(Role.BUYER)
    async with db.session() as s:
        notice = await notify(s, buyer.id, kind="x", subject="Shipped", body="b")
        notice.email_status = email.SENDING
        notice.email_attempts = 1
        notice.emailed_at = utcnow() - email.LEASE / 2  # claimed a moment ago: still leased
        await s.commit()
    config = email.SmtpConfig(host="127.0.0.1", port=controller.port, sender="a@b.c")
    assert await email.send_pending(db, config) == 0
    async with db.session() as s:
        await s.execute(update(Notice).values(emailed_at=utcnow() - email.LEASE * 2))
        await s.commit()
    assert await email.send_pending(db, config) == 1
    assert [m["Subject"] for m in handler.messages] == ["Shipped"]
    assert await _statuses(db) == [("sent", 2)]
