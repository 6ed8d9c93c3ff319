"""Plugging chat into the realtime engine: the node's mute and filter caches, created here,
answer the hub's comment checks, and held comments are stored with their log entry.

The hub itself knows nothing of chat: without ``install_chat`` nobody is muted and nothing
is held. The caches subscribe on the hub's broker and are closed with the hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from liveshop.chat import service
from liveshop.chat.filter_cache import FilterCache
from liveshop.chat.held_comments import HeldCommentStore
from liveshop.chat.mutes import MuteCache
from liveshop.core.db import Database
from liveshop.live import bans
from liveshop.realtime.hub import Hub
from liveshop.realtime.ports import CommentChecks


@dataclass(frozen=True, slots=True)
class ChatCaches:
    mutes: MuteCache  # who may not comment (chat moderation)
    filters: FilterCache  # which comments are held (blocked terms)

    async def close(self) -> None:
        await self.mutes.close()
        await self.filters.close()


def install_chat(app: FastAPI, hub: Hub, db: Database) -> ChatCaches:
    """Create the node's chat caches (``app.state.chat``) and hand them to ``hub``."""
    caches = ChatCaches(MuteCache(hub.broker, db), FilterCache(hub.broker, db))
    app.state.chat = caches
    hub.checks = CommentChecks(muted=caches.mutes.check, held=caches.filters.check)
    hub.comments.store = HeldCommentStore()
    hub.on_close(caches.close)
    return caches


def chat_caches(app: FastAPI) -> ChatCaches:
    """The app's chat caches (set up by :func:`install_chat`)."""
    caches: ChatCaches = app.state.chat
    return caches


def subscribe() -> None:
    """Process-wide (``liveshop.wiring``): live asks chat who is banned (bids, entries)."""
    bans.register(service.banned_among)
