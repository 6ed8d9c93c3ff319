"""Follows listen for shows going live (``SessionStarted``): their audience's notices are
written in the starting transaction."""

from __future__ import annotations

from liveshop.core import domain_events
from liveshop.live.events import SessionStarted
from liveshop.live.follows.service import tell_followers


def subscribe() -> None:
    """Idempotent (``liveshop.wiring.install_domain_events``)."""
    domain_events.subscribe(SessionStarted, tell_followers)
