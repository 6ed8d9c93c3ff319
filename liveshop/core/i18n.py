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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "en_GB"

# The languages liveshop speaks, in the switcher's order, each named in itself.
LANGUAGES: dict[str, str] = {
    "en_GB": "English (UK)",
    "en_US": "English (US)",
    "id": "Bahasa Indonesia",
    "th": "ไทย",
    "ms": "Bahasa Melayu",
    "vi": "Tiếng Việt",
    "de": "Deutsch",
    "fr": "Français",
    "it": "Italiano",
    "es": "Español",
}
# Complete everywhere; the others (planned markets) cover at least the buyer's path.
COMPLETE_LANGUAGES = ("en_GB", "en_US", "id", "th", "ms", "vi")
# A test-only language: every message accented and 40 % longer (layouts must still fit).
PSEUDO_LOCALE = "en_XA"

# The languages each market offers, its own language first (Accept-Language is matched
# against these; a market not listed speaks British English).
MARKET_LANGUAGES: dict[str, tuple[str, ...]] = {
    "GB": ("en_GB",),
    "US": ("en_US", "es"),
    "ID": ("id", "en_GB"),
    "TH": ("th", "en_GB"),
    "MY": ("ms", "en_GB"),
    "VN": ("vi", "en_GB"),
    "DE": ("de", "en_GB"),
    "FR": ("fr", "en_GB"),
    "IT": ("it", "en_GB"),
    "ES": ("es", "en_GB"),
}

_current: ContextVar[str] = ContextVar("liveshop_locale", default=DEFAULT_LOCALE)
# The language money, numbers and dates are written in, where the request chose one (a page
# viewed in a browser, a signed-in user's preference); None: the market's own locale (API
# callers that state no language keep the market's formatting).
_display: ContextVar[str | None] = ContextVar("liveshop_display_language", default=None)


@lru_cache(maxsize=64)
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for ``locale`` (``en_GB``, ``id``, ``pt_BR``…), falling back from
    ``xx_YY`` to ``xx``; English source text where there is none."""
    if locale == PSEUDO_LOCALE:
        return PseudoTranslations()
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


def set_locale(locale: str, *, display: bool = True) -> None:
    """Set the language for the rest of the current context (a request's task); with
    ``display`` money and dates follow it too (``display_locale``)."""
    _current.set(locale)
    if display:
        _display.set(locale)


def display_locale(market_locale: str, country: str | None) -> str:
    """The CLDR locale a market's money and dates are shown in to this request: the market's
    own (``id_ID``) unless the request chose another language, then that language as written
    in the market's country (``en_ID``) or alone."""
    chosen = _display.get()
    if chosen is None or chosen.split("_")[0] == market_locale.split("_")[0]:
        return market_locale
    return format_locale(chosen, country)


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


def lazy(compose: Callable[[], str]) -> LazyProxy:
    """Text composed when it is turned into ``str``, in the language then in force (a notice's
    words: ``notices.notify`` renders them in the recipient's language)."""
    return LazyProxy(compose, enable_cache=False)


def normalize(tag: str | None) -> str | None:
    """``id-ID``/``id``/``en-us`` → the supported language it names (``id``, ``en_US``), else
    None."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    if len(tag) > 16:
        return None
    lang, _sep, region = tag.partition("_")
    lang = lang.lower()
    full = f"{lang}_{region.upper()}" if region else lang
    if full in LANGUAGES or full == PSEUDO_LOCALE:
        return full
    if lang in LANGUAGES:
        return lang
    if lang == "en":
        return "en_US" if region.upper() == "US" else "en_GB"
    return None


def market_languages(market_code: str | None) -> tuple[str, ...]:
    """The languages a market offers, its own first; every language where no market is known
    (an API call that names none)."""
    if not market_code:
        return (DEFAULT_LOCALE, *(lang for lang in LANGUAGES if lang != DEFAULT_LOCALE))
    return MARKET_LANGUAGES.get(market_code.upper(), (DEFAULT_LOCALE,))


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "")[:512].split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag))
    return [tag for _q, _i, tag in sorted(ranked)]


def choose_language(
    *,
    preference: str | None,
    cookie: str | None,
    accept_language: str | None,
    market_code: str | None,
) -> str:
    """A signed-in user's preference, else the viewer's cookie, else the first
    ``Accept-Language`` the market offers, else the market's own language."""
    for chosen in (normalize(preference), normalize(cookie)):
        if chosen:
            return chosen
    offered = market_languages(market_code)
    for tag in parse_accept_language(accept_language):
        wanted = normalize(tag)
        if wanted is None:
            continue
        for lang in offered:
            if lang == wanted or lang.split("_")[0] == wanted.split("_")[0]:
                return lang
    return offered[0]


def format_locale(language: str, country: str | None) -> str:
    """The CLDR locale numbers, money and dates are written in: the language as spoken in the
    market's country (``id_ID``, ``en_MY``), else the language alone."""
    language = DEFAULT_LOCALE if language == PSEUDO_LOCALE else language
    base = language.split("_")[0]
    for candidate in (f"{base}_{country}" if country else None, language, base):
        if candidate is None:
            continue
        try:
            Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
        return candidate
    return DEFAULT_LOCALE


def html_lang(language: str) -> str:
    """``en_GB`` → ``en-GB`` (the ``lang`` attribute and ``Intl``'s locale)."""
    return language.replace("_", "-")


_ACCENTS = str.maketrans("aceinouyACEINOUY", "áçéîñöûýÁÇÉÎÑÖÛÝ")


def pseudo(text: str) -> str:
    """Accented and about 40 % longer, placeholders (``%(n)s``, ``{n}``) and markup kept."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and i + 1 < len(text) and text[i + 1] == "(":
            end = text.find(")", i)
            j = end + 1
            while j < len(text) and text[j].isalpha() is False and text[j] in "0123456789.-+ #":
                j += 1
            j = min(j + 1, len(text))
            out.append(text[i:j])
            i = j
            continue
        if ch in "{<":
            end = text.find("}" if ch == "{" else ">", i)
            if end > 0:
                out.append(text[i : end + 1])
                i = end + 1
                continue
        out.append(ch.translate(_ACCENTS))
        i += 1
    plain = "".join(out)
    letters = sum(c.isalpha() for c in text)
    dots = (letters * 4 + 9) // 10
    # In words of up to six dots: a long sentence's padding wraps as words would.
    pad = " ".join("·" * min(6, dots - i) for i in range(0, dots, 6))
    return f"[{plain} {pad}]" if letters else plain


class PseudoTranslations(NullTranslations):
    """``en_XA``: the source text accented and lengthened, to find layouts that break."""

    def ugettext(self, message: str) -> str:
        return pseudo(message)

    gettext = ugettext

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return pseudo(singular if n == 1 else plural)

    ngettext = ungettext  # type: ignore[assignment]

    def upgettext(self, context: str, message: str) -> str:
        return pseudo(message)

    pgettext = upgettext

    def unpgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return pseudo(singular if n == 1 else plural)


_ = gettext
