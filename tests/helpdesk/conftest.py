"""The helpdesk's tests use the orders' store (a shop with SKUs) and the live rooms' servers."""

from tests.live.conftest import serve
from tests.orders.conftest import make_store

__all__ = ["make_store", "serve"]
