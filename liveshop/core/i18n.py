"""Translations: the request's language and gettext over Babel's message catalogs.

The language a request is answered in lives in a context variable (``use_locale`` sets it for
a block; the web layer sets it per request). ``gettext``/``ngettext``/``pgettext`` translate
with the catalogs under ``liveshop/locale/<lang>/LC_MESSAGES/messages.mo`` (``pybabel
compile``); a language without a catalog, or a message missing from one, falls back to the
English source text. ``lazy_gettext`` marks a string defined at import time (a module-level
label) that is translated when it is turned into ``str``.

Mark every user-facing string: in templates ``{{ _("Buy now") }}`` or ``{% trans %}``; in
Python ``from liveshop.core.i18n import gettext as _``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "en_GB"

_current: ContextVar[str] = ContextVar("liveshop_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for ``locale`` (``en_GB``, ``id``, ``pt_BR``…), falling back from
    ``xx_YY`` to ``xx``; English source text where there is none."""
    candidates = [locale]
    if "_" in locale:
        candidates.append(locale.split("_", 1)[0])
    loaded = Translations.load(str(LOCALE_DIR), candidates, domain=DOMAIN)
    return loaded if isinstance(loaded, Translations) else NullTranslations()


def get_locale() -> str:
    """The language the current request (or task) is answered in."""
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Answer in ``locale`` inside the block."""
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def set_locale(locale: str) -> None:
    """Set the language for the rest of the current context (a request's task)."""
    _current.set(locale)


def gettext(message: str, **variables: object) -> str:
    text = translations(_current.get()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(_current.get()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def pgettext(context: str, message: str, **variables: object) -> str:
    text = translations(_current.get()).upgettext(context, message)
    return text % variables if variables else text


def raw_gettext(message: str) -> str:
    """Translate without formatting (Jinja's i18n extension formats the result itself)."""
    return translations(_current.get()).ugettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)


def raw_pgettext(context: str, message: str) -> str:
    return translations(_current.get()).upgettext(context, message)


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext
