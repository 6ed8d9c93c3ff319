"""The parties the platform pays out to, and the one payable account each holds per currency.

A creator, an agency and a shop are each owed money on a payable account (a liability: what
the platform owes them is ``-balance``), named by the party strings of ``entries``
(``creator:<id>``, ``agency:<id>``, ``shop:<id>``). The creators' earnings read that account
and the payout statements settle it, so the mapping from a party to its account lives here,
in the ledger below both, and not in either of them.
"""

from __future__ import annotations

from enum import StrEnum

from liveshop.ledger.entries import AccountKey, agency_party, creator_party, shop_party
from liveshop.ledger.models import AccountType


class PartyKind(StrEnum):
    CREATOR = "creator"  # a creator's creator_payable account
    AGENCY = "agency"  # an agency's agency_payable account
    SHOP = "shop"  # a shop's seller_payable account


def payable_account(kind: PartyKind, party_id: int, currency: str) -> AccountKey:
    """The account on which ``kind`` ``party_id`` is owed money in ``currency``."""
    if kind is PartyKind.CREATOR:
        return AccountKey(AccountType.CREATOR_PAYABLE, creator_party(party_id), currency)
    if kind is PartyKind.AGENCY:
        return AccountKey(AccountType.AGENCY_PAYABLE, agency_party(party_id), currency)
    return AccountKey(AccountType.SELLER_PAYABLE, shop_party(party_id), currency)
