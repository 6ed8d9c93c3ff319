"""Value types for postings and the rules every transaction must satisfy (no database here).

Sign convention (the whole ledger uses it):

- ``amount_minor > 0`` is a debit, ``< 0`` a credit, never 0; always an ``int`` in the
  currency's ISO 4217 minor unit (floats, Decimals and bools are refused).
- ``balance(account)`` is the debit-positive SUM of the account's postings. Liabilities and
  income are credit-normal, so a healthy payable has a *negative* balance: what the platform owes
  the party is ``owed_to_party(balance) == -balance``.
- A transaction balances when its postings sum to zero *per currency*.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from liveshop.core.money import is_known_currency
from liveshop.ledger.models import AccountType, Side

MAX_PARTY_LENGTH = 64
MAX_REFERENCE_LENGTH = 200
MAX_KIND_LENGTH = 40
MAX_MEMO_LENGTH = 500

# "platform", or "<kind>:<id>" such as "shop:12", "creator:7", "market:GB", "provider:sandbox".
PARTY_PATTERN = re.compile(r"^[a-z][a-z_]*(:[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")
_CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class InvalidPosting(ValueError):
    """A programming error: a posting or transaction that can never be written."""


class UnbalancedTransaction(InvalidPosting):
    """Programming error: the postings do not sum to zero in some currency."""


def shop_party(shop_id: int) -> str:
    return f"shop:{int(shop_id)}"


def creator_party(user_id: int) -> str:
    return f"creator:{int(user_id)}"


def agency_party(agency_id: int) -> str:
    return f"agency:{int(agency_id)}"


def market_party(code: str) -> str:
    return f"market:{code.upper()}"


def provider_party(name: str) -> str:
    return f"provider:{name}"


def is_valid_party(party: str) -> bool:
    return (
        isinstance(party, str)
        and len(party) <= MAX_PARTY_LENGTH
        and PARTY_PATTERN.fullmatch(party) is not None
    )


def is_valid_currency(code: str) -> bool:
    """An upper-case ISO 4217 code (``is_known_currency`` alone would accept "gbp")."""
    return (
        isinstance(code, str)
        and _CURRENCY_PATTERN.fullmatch(code) is not None
        and is_known_currency(code)
    )


def require_minor_units(value: object, what: str = "amount_minor") -> int:
    """``value`` if it is a true ``int``; money is never float, Decimal or bool."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int in minor units, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True, order=True)
class AccountKey:
    """Names an account: ``(type, party, currency)`` is unique in ``ledger_accounts``."""

    type: AccountType
    party: str
    currency: str

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "type", AccountType(self.type))
        except ValueError as exc:
            raise InvalidPosting(f"unknown account type {self.type!r}") from exc
        if not is_valid_party(self.party):
            raise InvalidPosting(
                f"party {self.party!r} is not 'platform' or '<kind>:<id>' "
                f"(at most {MAX_PARTY_LENGTH} characters)"
            )
        if not is_valid_currency(self.currency):
            raise InvalidPosting(f"{self.currency!r} is not an upper-case ISO 4217 currency")

    def __str__(self) -> str:
        return f"{self.type}/{self.party}/{self.currency}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg: debit > 0, credit < 0, never 0, an ``int`` of ``account.currency`` minor units."""

    account: AccountKey
    amount_minor: int

    def __post_init__(self) -> None:
        if not isinstance(self.account, AccountKey):
            raise InvalidPosting("a posting needs an AccountKey")
        require_minor_units(self.amount_minor)
        if self.amount_minor == 0:
            raise InvalidPosting(f"a posting of 0 to {self.account} moves nothing")


def owed_to_party(balance_minor: int) -> int:
    """What the platform owes the party of a payable account (credit-normal): ``-balance``.

    Negative means the party owes the platform (e.g. a refund after payout; netted next time).
    """
    return -require_minor_units(balance_minor, "balance_minor")


def natural_balance(account_type: AccountType, balance_minor: int) -> int:
    """The balance read on the account's normal side: positive when it is in its usual state."""
    require_minor_units(balance_minor, "balance_minor")
    return balance_minor if account_type.normal_side == Side.DEBIT else -balance_minor


def sums_by_currency(postings: Iterable[Posting]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for p in postings:
        totals[p.account.currency] = totals.get(p.account.currency, 0) + p.amount_minor
    return totals


def validate_postings(postings: Sequence[Posting]) -> list[Posting]:
    """Everything that makes a transaction valid, checked before anything is written.

    At least two postings, each a :class:`Posting` with a non-zero ``int``, summing to zero in
    every currency.
    """
    items = list(postings)
    if len(items) < 2:
        raise InvalidPosting("a transaction needs at least two postings")
    for p in items:
        if not isinstance(p, Posting):
            raise InvalidPosting(f"not a Posting: {p!r}")
        # Re-checked: a dataclass can be bypassed with object.__setattr__ / copy tricks.
        require_minor_units(p.amount_minor)
        if p.amount_minor == 0:
            raise InvalidPosting(f"a posting of 0 to {p.account} moves nothing")
    off = {cur: total for cur, total in sums_by_currency(items).items() if total != 0}
    if off:
        raise UnbalancedTransaction(f"postings do not sum to zero per currency: {off}")
    return items


def validate_meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Plain JSON without floats: a rate or an amount in ``meta`` must be an int too."""
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise InvalidPosting("meta must be a mapping")
    _check_json(meta, "meta")
    return dict(meta)


def _check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        raise InvalidPosting(f"{where} is a float; store minor units or basis points as int")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidPosting(f"{where} has a non-string key {k!r}")
            _check_json(v, f"{where}.{k}")
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]")
        return
    raise InvalidPosting(f"{where} is not JSON ({type(value).__name__})")


def posting_signature(postings: Iterable[Posting]) -> list[tuple[str, str, str, int]]:
    """Order-independent identity of a set of postings (used to tell a replay from a reuse)."""
    return sorted(
        (str(p.account.type), p.account.party, p.account.currency, p.amount_minor) for p in postings
    )
