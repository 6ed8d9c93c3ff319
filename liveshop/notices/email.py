"""E-mailing notices over SMTP (the standard library's ``smtplib``, in a worker thread so the
event loop never waits on the network). Each pending notice is claimed by a guarded UPDATE
before it is sent, so two senders never send one twice; a failure is retried up to
``MAX_ATTEMPTS`` times. A claim is a lease: a sender that died after claiming (``kill -9``
between the claim and the SMTP answer) leaves the notice ``sending`` with its claim time in
``emailed_at``; after ``LEASE`` any sender claims it again — at least once, as e-mail goes."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update

from liveshop.accounts.models import User
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.tasks import stop_if_cancelled
from liveshop.notices.models import EmailStatus, Notice

log = structlog.get_logger("liveshop.notices.email")

MAX_ATTEMPTS = 5
SENDING = "sending"
LEASE = timedelta(minutes=5)  # a claim older than this belonged to a sender that died


def _claimable(now: datetime) -> Any:
    """Pending, or claimed by a sender whose lease ran out."""
    return or_(
        Notice.email_status == EmailStatus.PENDING,
        and_(Notice.email_status == SENDING, Notice.emailed_at < now - LEASE),
    )


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str  # the From address
    username: str = ""
    password: str = ""
    starttls: bool = False
    base_url: str = ""  # links in e-mails: http://127.0.0.1:8000 …


def message(config: SmtpConfig, to: str, notice: Notice) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = to
    msg["Subject"] = notice.subject
    link = f"\n\n{config.base_url}{notice.link}" if notice.link else ""
    msg.set_content(f"{notice.body}{link}\n\n— liveshop")
    return msg


def _send(config: SmtpConfig, msg: EmailMessage) -> None:
    with smtplib.SMTP(config.host, config.port, timeout=10) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.username:
            smtp.login(config.username, config.password)
        smtp.send_message(msg)


async def send_pending(db: Database, config: SmtpConfig, *, limit: int = 50) -> int:
    """E-mail the pending notices (oldest first); how many were sent."""
    now = utcnow()
    async with db.session() as s:
        rows = (
            await s.execute(
                select(Notice, User.email)
                .join(User, User.id == Notice.user_id)
                .where(_claimable(now))
                .order_by(Notice.id)
                .limit(limit)
            )
        ).all()
        await s.commit()
    sent = 0
    for notice, to in rows:
        async with db.session() as s:
            claimed = await s.execute(
                update(Notice)
                .where(Notice.id == notice.id, _claimable(now))
                .values(
                    email_status=SENDING,
                    email_attempts=Notice.email_attempts + 1,
                    emailed_at=utcnow(),  # the claim's time until it is sent
                )
            )
            await s.commit()
        if getattr(claimed, "rowcount", 0) != 1:
            continue  # another sender has it
        try:
            await asyncio.to_thread(_send, config, message(config, to, notice))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("notice e-mail failed", notice_id=notice.id, error=str(exc))
            gave_up = notice.email_attempts + 1 >= MAX_ATTEMPTS
            outcome = EmailStatus.FAILED if gave_up else EmailStatus.PENDING
            async with db.session() as s:
                await s.execute(
                    update(Notice).where(Notice.id == notice.id).values(email_status=outcome)
                )
                await s.commit()
            continue
        async with db.session() as s:
            await s.execute(
                update(Notice)
                .where(Notice.id == notice.id)
                .values(email_status=EmailStatus.SENT, emailed_at=utcnow())
            )
            await s.commit()
        sent += 1
    return sent


class EmailSender:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, db: Database, config: SmtpConfig, interval_s: float) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(db, config, interval_s), name="e-mail")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, db: Database, config: SmtpConfig, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await send_pending(db, config)
            except Exception:
                stop_if_cancelled()
                log.exception("notice e-mail run failed")
