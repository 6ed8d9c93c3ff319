"""The promotions' tests use the shared shop set-up (``tests.shopfront``)."""

from __future__ import annotations

from tests.shopfront import make_shopfront

__all__ = ["make_shopfront"]
