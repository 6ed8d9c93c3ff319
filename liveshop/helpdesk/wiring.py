"""Plugging the helpdesk into the live rooms: complaints are held (after the chat filter's
own checks) and routed to the seller.

``install_helpdesk`` wraps the hub's ``held`` check — the chat filter's first, then the
complaint rules (``helpdesk.classify``: one regex pass, no I/O) — and hands the hub the
``ComplaintRouter``, which opens the case after the held line is stored. The database is
touched only for lines the rules recognised.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import FastAPI

from liveshop.core.db import Database
from liveshop.helpdesk import service
from liveshop.helpdesk.classify import category_of, classify
from liveshop.realtime.hub import Hub
from liveshop.realtime.ports import Hold


class ComplaintRouter:
    """The hub's ``ComplaintDesk``: a held complaint becomes a support case."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.routed = 0  # cases opened or added to (tests and metrics)

    async def route(
        self, *, session_id: int, user_id: int, comment_id: int, text: str, hold: Hold
    ) -> dict[str, Any] | None:
        category = category_of(hold.match)
        if category is None:
            return None
        async with self.db.session() as s:
            opened = await service.open_from_comment(
                s,
                session_id=session_id,
                buyer_id=user_id,
                comment_id=comment_id,
                text=text,
                category=category,
            )
        if opened is None:
            return None
        self.routed += 1
        return {
            "case_id": opened.case_id,
            "new": opened.new,
            "shop": opened.shop_name,
            "order_id": opened.order_id,
        }


def install_helpdesk(app: FastAPI, hub: Hub, db: Database) -> ComplaintRouter:
    """After ``install_chat``: the hub holds complaints and routes them (``app.state.helpdesk``)."""
    filtered = hub.checks.held

    async def held(creator_id: int, market: str, text: str) -> Hold | None:
        hit = await filtered(creator_id, market, text)
        return hit if hit is not None else classify(text)

    hub.checks = dataclasses.replace(hub.checks, held=held)
    desk = ComplaintRouter(db)
    hub.complaints = desk
    app.state.helpdesk = desk
    return desk
