"""The audit log of privileged actions (admin changes to markets, commissions, roles and
users; payouts; refunds; stream-key rotation): who did what to what, when, before and after.

A floor above ``core`` and below every domain, so any domain can write an entry in the
transaction of the change it records (``audit.record``); the table is append-only."""

from liveshop.audit.log import Action, record, search

__all__ = ["Action", "record", "search"]
