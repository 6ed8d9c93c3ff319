"""Ledger read API: trial balance and balances (admin), statements (admin or the party itself),
and "what am I owed" for any signed-in user. Nothing here writes: money moves only through the
domains that own the business events (orders, payouts), via ``ledger.service.post``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Query

from liveshop.accounts.deps import AdminPrincipal, CurrentPrincipal, SessionDep
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, Unprocessable
from liveshop.core.i18n import gettext
from liveshop.core.money import format_minor
from liveshop.core.types import Line
from liveshop.ledger import service
from liveshop.ledger.access import may_view_party, parties_of
from liveshop.ledger.entries import (
    AccountKey,
    InvalidPosting,
    is_valid_currency,
    is_valid_party,
    owed_to_party,
)
from liveshop.ledger.models import AccountType
from liveshop.ledger.schemas import (
    AccountBalanceOut,
    CurrencyTotalOut,
    OwedToYouOut,
    StatementOut,
    TrialBalanceOut,
)

router = APIRouter(prefix="/api/v1", tags=["ledger"], responses=PROBLEM_RESPONSES)

LocaleQuery = Annotated[Line, Query(max_length=16, description="babel locale for display strings")]


def _locale(value: str) -> str:
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise Unprocessable(
            gettext("unknown locale %(value)s", value=repr(value)), code="unknown-locale"
        ) from exc
    return value.replace("-", "_")


def _party(value: str | None) -> str | None:
    if value is not None and not is_valid_party(value):
        raise Unprocessable(
            gettext("party %(value)s is not 'platform' or '<kind>:<id>'", value=repr(value)),
            code="invalid-party",
        )
    return value


def _currency(value: str | None) -> str | None:
    if value is not None and not is_valid_currency(value):
        raise Unprocessable(
            gettext("%(value)s is not an upper-case ISO 4217 currency", value=repr(value)),
            code="unknown-currency",
        )
    return value


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise Unprocessable(
            gettext("%(name)s needs a UTC offset (e.g. 2026-11-01T00:00:00Z)", name=name),
            code="naive-datetime",
        )
    return value


@router.get("/ledger/trial-balance")
async def trial_balance(_: AdminPrincipal, session: SessionDep) -> TrialBalanceOut:
    totals = await service.trial_balance(session)
    return TrialBalanceOut(
        balanced=all(v == 0 for v in totals.values()),
        currencies=[CurrencyTotalOut(currency=c, sum_minor=v) for c, v in totals.items()],
    )


@router.get("/ledger/accounts")
async def list_accounts(
    _: AdminPrincipal,
    session: SessionDep,
    type: AccountType | None = None,
    party: Annotated[Line | None, Query(max_length=64)] = None,
    currency: Annotated[Line | None, Query(max_length=3)] = None,
    locale: LocaleQuery = "en",
) -> list[AccountBalanceOut]:
    loc = _locale(locale)
    rows = await service.balances(
        session, type=type, party=_party(party), currency=_currency(currency)
    )
    return [AccountBalanceOut.with_balance(key, bal, loc) for key, bal in rows]


@router.get("/ledger/accounts/statement")
async def account_statement(
    principal: CurrentPrincipal,
    session: SessionDep,
    type: AccountType,
    party: Annotated[Line, Query(max_length=64)],
    currency: Annotated[Line, Query(max_length=3)],
    since: datetime | None = Query(default=None, description="inclusive, with a UTC offset"),
    until: datetime | None = Query(default=None, description="exclusive, with a UTC offset"),
) -> StatementOut:
    """Admins read any account; a seller their shops' ("shop:<id>"), a creator their own."""
    try:
        key = AccountKey(type, party, currency)
    except InvalidPosting as exc:
        raise Unprocessable(str(exc), code="invalid-account") from exc
    if not await may_view_party(session, principal, key.party):
        raise Forbidden(gettext("this account belongs to someone else"), code="not-your-account")
    start, end = _aware("since", since), _aware("until", until)
    if start is not None and end is not None and start > end:
        raise Unprocessable(gettext("since is after until"), code="invalid-window")
    return StatementOut.of(await service.statement(session, key, since=start, until=end))


@router.get("/ledger/me")
async def owed_to_me(
    principal: CurrentPrincipal, session: SessionDep, locale: LocaleQuery = "en"
) -> list[OwedToYouOut]:
    """What the platform owes you, per party you are (your creator account, your shops)."""
    loc = _locale(locale)
    parties = await parties_of(session, principal.user_id)
    rows = await service.balances(session, parties=parties)
    out = []
    for key, bal in rows:
        if not key.type.is_payable:
            continue
        owed = owed_to_party(bal)
        out.append(
            OwedToYouOut(
                party=key.party,
                type=key.type,
                currency=key.currency,
                owed_minor=owed,
                display=format_minor(owed, key.currency, loc),
            )
        )
    return out
