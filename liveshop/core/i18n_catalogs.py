"""The message catalogs as data: what each language misses, and the English ones filled.

``python -m liveshop.core.i18n_catalogs fill-english`` (run by ``make messages``) makes the
English catalogs complete: ``en_GB`` is the source text itself, ``en_US`` the same with
American spellings. ``missing(language, msgids)`` is what ``tests/test_i18n_catalogs.py``
reports per language.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from liveshop.core.i18n import DOMAIN, LOCALE_DIR

# British → American spellings and words the source text uses.
US_WORDS = {
    "cancelled": "canceled",
    "Cancelled": "Canceled",
    "cancelling": "canceling",
    "colour": "color",
    "Colour": "Color",
    "colours": "colors",
    "favourite": "favorite",
    "Favourite": "Favorite",
    "catalogue": "catalog",
    "centre": "center",
    "organisation": "organization",
    "authorise": "authorize",
    "authorised": "authorized",
    "licence": "license",
    "Postcode / ZIP": "ZIP code",
    "Postcode": "ZIP code",
    "postcode": "ZIP code",
    "Town / city": "City",
    "analyse": "analyze",
    "behaviour": "behavior",
    "cheque": "check",
}
_US = re.compile("|".join(sorted((re.escape(w) for w in US_WORDS), key=len, reverse=True)))


def american(text: str) -> str:
    return _US.sub(lambda m: US_WORDS[m.group(0)], text)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def save(catalog: Catalog, language: str) -> None:
    path = po_path(language)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=True, no_location=True)
    with path.with_suffix(".mo").open("wb") as f:
        write_mo(f, catalog)


def msgid_key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def missing(language: str, msgids: Iterable[str]) -> list[str]:
    """The messages (singular msgid) ``language``'s catalog has no translation of."""
    catalog = load(language)
    have: dict[str, bool] = {}
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        have[msgid_key(m.id)] = all(strings) and not m.fuzzy
    return sorted(i for i in set(msgids) if not have.get(i, False))


def _same(text: str) -> str:
    return text


def fill_english() -> None:
    for language, convert in (("en_GB", _same), ("en_US", american)):
        if not po_path(language).exists():
            continue
        catalog = load(language)
        for m in catalog:
            if not m.id:
                continue
            if isinstance(m.id, str):
                m.string = convert(m.id)
            else:
                m.string = tuple(convert(s) for s in m.id)
            m.flags.discard("fuzzy")
        save(catalog, language)


if __name__ == "__main__":
    if sys.argv[1:] == ["fill-english"]:
        fill_english()
    else:
        raise SystemExit("usage: python -m liveshop.core.i18n_catalogs fill-english")
