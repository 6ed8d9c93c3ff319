"""Start-up wiring of domain events: each higher domain subscribes to what lower ones announce.

The subscriptions are process-wide (see ``liveshop.core.domain_events``), so everything that
runs service functions calls :func:`install_domain_events` first: ``create_app``, the CLI and
the test suite. Calling it again changes nothing.
"""

from __future__ import annotations

from liveshop.analytics import wiring as analytics_wiring
from liveshop.chat import wiring as chat_wiring
from liveshop.creators import wiring as creators_wiring
from liveshop.live.auctions import wiring as auctions_wiring
from liveshop.live.deals import wiring as deals_wiring
from liveshop.live.follows import wiring as follows_wiring
from liveshop.live.giveaways import wiring as giveaways_wiring

_installed = False


def install_domain_events() -> None:
    global _installed
    if _installed:
        return
    # One line per subscribing domain, lowest first (each module's ``subscribe()`` is
    # idempotent).
    deals_wiring.subscribe()
    auctions_wiring.subscribe()
    follows_wiring.subscribe()
    giveaways_wiring.subscribe()
    chat_wiring.subscribe()
    creators_wiring.subscribe()
    analytics_wiring.subscribe()
    _installed = True
