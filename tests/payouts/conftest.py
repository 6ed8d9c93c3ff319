"""Statements are built on the creators' scenarios (a shop with creators, orders bought in a
live session, deliveries): the helpers stay in ``tests/creators/conftest.py`` and are shared by
import, as ``tests/web`` shares them, rather than copied here."""

from tests.creators.conftest import make_shopfront  # noqa: F401  (a fixture, shared)
