"""``install_notices(app, settings, db)``: the e-mail sender, started with the app when an
SMTP server is configured (``LIVESHOP_SMTP_HOST``)."""

from __future__ import annotations

from fastapi import FastAPI

from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.notices.email import EmailSender, SmtpConfig


def smtp_config(settings: Settings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        base_url=settings.public_base_url.rstrip("/"),
    )


def install_notices(app: FastAPI, settings: Settings, db: Database) -> None:
    sender = EmailSender()

    async def start() -> None:
        if settings.smtp_host and settings.smtp_send_seconds > 0:
            sender.start(db, smtp_config(settings), settings.smtp_send_seconds)

    app.state.start_notices = start
    app.state.stop_notices = sender.stop
