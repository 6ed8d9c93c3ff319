"""The studio's bid-step table (an auction's increment table) as form rows: the rows a new
lot's form starts from, and the rows a host typed back into ``[[from_minor, step_minor], …]``
for ``engine.check_increments`` (which says what is wrong with a table)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest

from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live.auctions import engine
from liveshop.markets.models import Market
from liveshop.web.money_input import example_amount, parse_money

FORM_ROWS = 6  # rows the form shows (the default table's five and one blank)


def increment_rows(market: Market) -> list[tuple[str, str]]:
    """``(from, step)`` as the market writes them; the first row is from the start."""
    rows = [
        (
            example_amount(start, market.currency_exponent, market.locale),
            example_amount(step, market.currency_exponent, market.locale),
        )
        for start, step in engine.DEFAULT_INCREMENTS
    ]
    return rows + [("", "")] * (FORM_ROWS - len(rows))


def parse_increments(
    froms: Sequence[str], steps: Sequence[str], market: Market
) -> list[list[int]] | None:
    """The typed rows as a checked table (None: the form sent none — the default table).
    The first row's ``from`` is the start (0); blank rows are dropped; a row with only one
    of its two amounts is refused (422 ``bad-increments``), as is a table that does not
    rise (``engine.check_increments``)."""
    if not froms and not steps:
        return None
    table: list[list[int]] = []
    for i, (f, s) in enumerate(zip_longest(froms, steps, fillvalue="")):
        f, s = f.strip(), s.strip()
        if i == 0:
            f = f or "0"
        if not f and not s:
            continue
        if not f or not s:
            raise Unprocessable(
                _("fill in both a price and its step, or leave the row blank"),
                code="bad-increments",
            )
        start = 0 if i == 0 else parse_money(f, market.currency_exponent, market.locale)
        table.append([start, parse_money(s, market.currency_exponent, market.locale)])
    return engine.check_increments(table)
