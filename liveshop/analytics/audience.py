"""The verifiable audience: who counts as a viewer, and how (``/analytics/method`` says the
same to the public).

A viewer is counted from **player heartbeats**, never from open sockets: the room's player
sends ``{"type":"hb","visible","playing"}`` over the room socket every ``heartbeat_s`` while
the tab is visible and the video is playing (``static/js/live/heartbeat.js``), and only
beats with both true are kept. Never counted: the session's creator and their moderators
(``host``), the studio page (``studio``) and known bots (a crawler's or preview fetcher's
User-Agent). Joins and chat lines are kept for the funnel's "reached" stage and the
per-minute chart, with the same exclusions.

This is the realtime engine's ``Audience`` port: every call only appends to the node's
capture buffer.
"""

from __future__ import annotations

import re

from liveshop.analytics.capture import Capture, Facts, event_row
from liveshop.analytics.models import Kind
from liveshop.realtime.ports import Watcher

# Crawlers, link-preview fetchers and monitoring robots: a socket from any of them is
# never a viewer. (Matched anywhere in the User-Agent, case-insensitively.)
KNOWN_BOTS = (
    "bot",  # googlebot, bingbot, yandexbot, duckduckbot, twitterbot, applebot, …
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "embedly",
    "preview",
    "pingdom",
    "uptime",
    "monitor",
    "lighthouse",
)
_BOTS = re.compile("|".join(map(re.escape, KNOWN_BOTS)), re.IGNORECASE)


def is_bot(user_agent: str) -> bool:
    return bool(_BOTS.search(user_agent))


def counted(watcher: Watcher) -> bool:
    return not (watcher.host or watcher.studio or is_bot(watcher.user_agent))


def room_facts(room: dict[str, object]) -> Facts:
    sid, market, creator = room.get("id"), room.get("market"), room.get("creator_id")
    return Facts(
        market_code=market if isinstance(market, str) else None,
        session_id=sid if isinstance(sid, int) else None,
        creator_id=creator if isinstance(creator, int) else None,
    )


class RoomAudience:
    def __init__(self, capture: Capture) -> None:
        self.capture = capture

    def _key(self, watcher: Watcher, client_id: str | None = None) -> str | None:
        if watcher.user_id is not None:
            return self.capture.key(user_id=watcher.user_id)
        if client_id:
            return self.capture.key(client_id=client_id)
        return None

    def joined(self, room: dict[str, object], watcher: Watcher) -> None:
        if counted(watcher):
            self.capture.add(event_row(Kind.JOIN, room_facts(room), viewer=self._key(watcher)))

    def left(self, room: dict[str, object], watcher: Watcher) -> None:
        if counted(watcher):
            self.capture.add(event_row(Kind.LEAVE, room_facts(room), viewer=self._key(watcher)))

    def commented(self, room: dict[str, object], watcher: Watcher) -> None:
        if counted(watcher):
            self.capture.add(event_row(Kind.COMMENT, room_facts(room), viewer=self._key(watcher)))

    def heartbeat(
        self,
        room: dict[str, object],
        watcher: Watcher,
        *,
        client_id: str | None,
        seconds: int,
        visible: bool,
        playing: bool,
    ) -> None:
        if not (visible and playing) or not counted(watcher):
            return
        if room.get("status") != "live":
            return  # a waiting room's player shows nothing yet
        key = self._key(watcher, client_id)
        if key is None:
            return  # an anonymous player that gave no id of its own cannot be told apart
        self.capture.add(
            event_row(Kind.HEARTBEAT, room_facts(room), viewer=key, seconds=max(seconds, 0))
        )
