"""Domain events: how a lower domain tells a higher one that something happened.

A domain low in the house (``orders``, ``live``) never imports one above it (``creators``,
``payouts``). When what it does matters upstairs, it *announces* an event — a frozen
dataclass deriving from :class:`DomainEvent`, defined beside the code that raises it — and
the higher domain subscribes a handler at start-up (its ``wiring.py``).

Handlers run **inside the announcing transaction**, with its session, in the order they were
subscribed: what they write commits or rolls back with the announcer's own change (a refund
and the bonus reversal it causes are one transaction). A handler that raises makes the
announcer fail exactly as if the work had been written inline. Work that must only happen
*after* the commit (telling viewers in a room) is queued with
:func:`liveshop.core.db.on_commit`, not done in a handler.

The registry is process-wide, like the tables' metadata: service functions called outside an
app (tests, the CLI, the demo loader) see the same subscriptions as requests do, once
``liveshop.wiring.install_domain_events()`` has run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


class DomainEvent:
    """Base of every domain event (subclasses are frozen dataclasses)."""

    __slots__ = ()


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[AsyncSession, E], Awaitable[None]]

_handlers: dict[type[DomainEvent], list[Handler[Any]]] = {}


def subscribe(event_type: type[E], handler: Handler[E]) -> None:
    """Run ``handler(session, event)`` whenever ``event_type`` is announced (once per handler:
    subscribing the same function again changes nothing)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event_type: type[E], handler: Handler[E]) -> None:
    handlers = _handlers.get(event_type, [])
    if handler in handlers:
        handlers.remove(handler)


def subscribers(event_type: type[DomainEvent]) -> tuple[Handler[Any], ...]:
    return tuple(_handlers.get(event_type, ()))


async def announce(session: AsyncSession, event: DomainEvent) -> None:
    """Tell every subscriber, inside the caller's transaction (see the module docstring)."""
    for handler in tuple(_handlers.get(type(event), ())):
        await handler(session, event)
