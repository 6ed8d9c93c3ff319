"""Who may see a creator's earnings and statements: the rule is the affiliates' (it reads only
agencies and their members), named here for the creator-economy routers that apply it."""

from __future__ import annotations

from liveshop.affiliates.access import ensure_can_see_creator

__all__ = ["ensure_can_see_creator"]
