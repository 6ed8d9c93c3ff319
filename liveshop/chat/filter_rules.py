r"""Blocked terms and "hold links": the comment filter's matching rules, compiled once per list.

Pure functions, no I/O: ``chat.filter_cache`` compiles a creator's list and the platform's
list for a market into :class:`Matcher` objects and calls :meth:`Matcher.search` for every
comment. The rules (also in docs/architecture.md, *Automatic comment filtering*):

1. **Folding.** Comment and term are NFKC-normalised and case-folded (``unicodedata``
   NFKC, ``str.casefold``, NFKC again), and invisible format characters (zero-width
   spaces and joiners, soft hyphen, direction marks, BOM…) are removed. So ``ＦＵＣＫ``
   (full-width), ``Fuck``, ``ﬁ`` (ligature) and ``f\u200buck`` are what they look like.
   Diacritics are kept: Vietnamese and others tell words apart by them.
2. **Whole words.** A term matches only where it is not preceded or followed by a word
   character (a letter, digit, combining mark, ``@`` or ``$``): ``ass`` never matches
   "class" or "assistant". Terms in scripts written without spaces between words (Thai, Lao,
   Khmer, Myanmar, Chinese, Japanese) match anywhere, since there are no word edges to find.
3. **Inside a term**, words are separated by any run of 1–5 spaces or punctuation
   (``kill yourself`` matches "kill-yourself", "kill   yourself"); punctuation typed in a
   term separates words too (``f*ck`` matches "f*ck", "f.ck", "f ck").
4. **Leetspeak digits**: in a term's Latin letters ``a`` also matches ``4`` and ``@``, ``b``
   ``8``, ``e`` ``3``, ``i`` ``1``, ``l`` ``1``, ``o`` ``0``, ``s`` ``5`` and ``$``, ``t``
   ``7`` (and a digit typed in a term matches those letters back). A match must still
   contain a letter, so ``ass`` never matches the number "455".
5. **Spaced out**: where a comment has a run of three or more single characters, each pair
   1–3 spaces or punctuation apart ("f u c k", "f.u.c.k", "s_h_1_t"), the run is also read
   with its separators taken out, and a term of three or more letters (its words run
   together) is found anywhere in it ("you are a b i t c h" holds ``bitch``). A separator
   between only some letters is not caught (so ``anal`` never matches "an al").
6. Not caught, on purpose: repeated letters ("fuuuck": collapsing them would make ``god``
   match "good"), look-alike letters of other scripts (Cyrillic ``а`` for Latin ``a``),
   a term inside a longer word, and misspellings.

*Hold links* (``link_kind``): a URL (``http://``, ``https://``, ``www.``), a bare domain with
one of the TLDs in ``STRONG_TLDS`` (not ``.me``/``.it``/``.to``/…, which are everyday words —
except the known short-link and chat hosts in ``LINK_HOSTS`` such as ``t.me``, ``wa.me``,
``bit.ly``, ``s.id``) or a second-level country domain (``shop.co.id``, ``x.com.vn``),
``name dot com`` with the word "dot" (com, net, org), an e-mail address, or a phone number:
9–15 digits, optionally after ``+`` or ``00``, with at most two spaces, dashes, dots or
brackets between digits — but not a number grouped in thousands ("250.000.000": prices in
VND and IDR) nor one that starts with a date ("2024-05-12 10:30").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

TERM_MAX = 50  # characters of a term, folded
TERM_INPUT_MAX = 100  # characters accepted before folding


class LinkKind(StrEnum):
    URL = "url"
    EMAIL = "email"
    PHONE = "phone"


# --- folding -----------------------------------------------------------------------------

# Invisible characters used to split a word without showing it (Unicode format characters
# and fillers that render as nothing).
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e"
    "\u206f\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b"
    "\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
)
_DROP = dict.fromkeys(map(ord, _INVISIBLE))


def fold(text: str) -> str:
    """NFKC + casefold (+ NFKC again: casefolding can un-normalise), invisibles removed."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).translate(_DROP).casefold()
    return unicodedata.normalize("NFKC", text)


# --- character classes ---------------------------------------------------------------------


@cache
def _marks() -> str:
    """Combining marks of the Basic Multilingual Plane as a regex class body (ranges)."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


def _not_word_before() -> str:
    return rf"(?<![^\W_])(?<![@${_marks()}])"


def _not_word_after() -> str:
    return rf"(?![^\W_])(?![@${_marks()}])"


# A separator: anything that is not a word character (spaces, punctuation, underscore).
_WORD_GAP = r"[\W_]{1,5}"  # between the words of a term

# Leetspeak: what each character of a term also matches.
_LEET: dict[str, str] = {
    "a": "a4@",
    "b": "b8",
    "e": "e3",
    "i": "i1",
    "l": "l1",
    "o": "o0",
    "s": "s5$",
    "t": "t7",
    "0": "0o",
    "1": "1il",
    "3": "3e",
    "4": "4a@",
    "5": "5s$",
    "7": "7t",
    "8": "8b",
    "@": "@a4",
    "$": "$s5",
}

# Scripts written without spaces between words: no word edges there.
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK
    (0xF900, 0xFAFF),  # CJK compatibility
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x323AF),  # CJK extensions B–H
)


def _unspaced(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _UNSPACED)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "@$" or unicodedata.category(ch).startswith("M")


def _unit(ch: str) -> str:
    alts = _LEET.get(ch)
    if alts is None:
        return re.escape(ch)
    return "[" + "".join(re.escape(a) for a in alts) + "]"


# --- terms -----------------------------------------------------------------------------


class BadTerm(ValueError):
    """A term that cannot be blocked (empty, too long, no letter)."""


def term_words(term: str) -> list[str]:
    """The words of a folded term: runs of word characters (letters, digits, marks, @, $)."""
    words: list[str] = []
    current: list[str] = []
    for ch in term:
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def normalise_term(raw: str) -> str:
    """The term as stored and matched: folded, trimmed, inner whitespace collapsed.

    Raises :class:`BadTerm` for an empty term, one longer than ``TERM_MAX`` characters,
    or one with no letter (a term of digits only would block numbers).
    """
    if len(raw) > TERM_INPUT_MAX:
        raise BadTerm(f"a term is at most {TERM_MAX} characters")
    term = " ".join(fold(raw).split())
    if not term:
        raise BadTerm("a term needs some text")
    if len(term) > TERM_MAX:
        raise BadTerm(f"a term is at most {TERM_MAX} characters")
    words = term_words(term)
    if not any(ch.isalpha() for w in words for ch in w):
        raise BadTerm("a term needs at least one letter")
    return term


def _compact_units(words: Sequence[str]) -> list[str]:
    """Regex units of a term written normally: its characters, word gaps between words."""
    units: list[str] = []
    for i, word in enumerate(words):
        if i:
            units.append(_WORD_GAP)
        units.extend(_unit(ch) for ch in word)
    return units


def _spaced_units(words: Sequence[str]) -> list[str] | None:
    """Regex units of a term's letters run together, for spaced-out text once its
    separators are taken out (None: not for this term)."""
    chars = [ch for w in words for ch in w]
    if len(chars) < 3 or any(_unspaced(ch) for ch in chars):
        return None
    return [_unit(ch) for ch in chars]


# A spaced-out run: three or more single word characters, each pair 1-3 separators apart.
_W = r"(?:[^\W_]|[@$])"
_NOT_W_BEFORE = r"(?<![^\W_])(?<![@$])"
_NOT_W_AFTER = r"(?![^\W_])(?![@$])"
_RUN_GAP = r"(?:[^\w@$]|_){1,3}"
_RUN = re.compile(_NOT_W_BEFORE + _W + _NOT_W_AFTER + rf"(?:{_RUN_GAP}{_W}{_NOT_W_AFTER}){{2,}}")
_GAPS = re.compile(r"[^\w@$]|_")


# --- the compiled list ---------------------------------------------------------------------


class _Trie:
    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.ends: list[str] = []  # regex tails of the terms ending here

    def add(self, units: Sequence[str], tail: str) -> None:
        node = self
        for u in units:
            node = node.children.setdefault(u, _Trie())
        node.ends.append(tail)

    def regex(self) -> str:
        """Alternatives, longest first: common prefixes are matched once (a trie of the
        terms), so a position of the comment costs about one branch per character."""
        alts = [u + child.regex() for u, child in self.children.items()]
        alts.extend(self.ends)
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"


@dataclass(frozen=True, slots=True)
class Hit:
    """Why a comment is held: the rule and what matched (the term as listed, or the kind
    of link)."""

    rule: str  # "creator_term", "platform_term" or "link"
    match: str


class Matcher:
    """One list of blocked terms compiled into two regular expressions: the terms as written
    (word edges, word gaps, leetspeak) and their letters run together, searched in the
    spaced-out runs of a comment ("f u c k") with the separators taken out."""

    __slots__ = ("_groups", "_pattern", "_spaced", "_spaced_groups", "rule", "terms")

    def __init__(self, terms: Iterable[str], *, rule: str) -> None:
        self.rule = rule
        self.terms: tuple[str, ...] = tuple(sorted(set(terms)))
        # One trie per kind of edge, so the word-edge checks appear once, not per term.
        tries: dict[tuple[bool, bool], _Trie] = {}
        spaced = _Trie()
        groups: list[str] = [""]  # group number → term (group 0 is the whole match)
        spaced_groups: list[str] = [""]
        for term in self.terms:
            words = term_words(term)
            if not words:
                continue
            edges = (not _unspaced(words[0][0]), not _unspaced(words[-1][-1]))
            groups.append(term)
            tries.setdefault(edges, _Trie()).add(_compact_units(words), "()")
            units = _spaced_units(words)
            if units is not None:
                spaced_groups.append(term)
                spaced.add(units, "()")
        parts = []
        for (start, end), trie in sorted(tries.items(), reverse=True):
            before = _not_word_before() if start else ""
            after = _not_word_after() if end else ""
            parts.append(before + trie.regex() + after)
        self._groups = groups
        self._pattern = re.compile("|".join(parts)) if parts else None
        self._spaced_groups = spaced_groups
        self._spaced = re.compile(spaced.regex()) if spaced.children else None

    def __len__(self) -> int:
        return len(self.terms)

    def search(self, folded: str) -> str | None:
        """The first listed term in ``folded`` (a comment passed through :func:`fold`)."""
        pattern = self._pattern
        if pattern is None:
            return None
        for m in pattern.finditer(folded):
            if _has_letter(m.group()):  # "455" is a number, not "ass"
                return self._groups[m.lastindex or 0]
        spaced = self._spaced
        if spaced is not None:
            for run in _RUN.finditer(folded):
                letters = _GAPS.sub("", run.group())
                for m in spaced.finditer(letters):
                    if _has_letter(m.group()):
                        return self._spaced_groups[m.lastindex or 0]
        return None


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


# --- links -------------------------------------------------------------------------------

_TLD_WORDS = (
    "com net org info biz xyz io ly gg shop store online site website top click link app dev "
    "icu vip club cam buzz tk ml cf ga gq ru cn vn th uk sg ph jp kr nl pl fr eu au"
)
_HOST_WORDS = (
    "t.me wa.me m.me line.me lin.ee zalo.me s.id bit.ly goo.gl is.gd ow.ly rb.gy cutt.ly "
    "shorturl.at tinyurl.com linktr.ee"
)
STRONG_TLDS = tuple(_TLD_WORDS.split())
LINK_HOSTS = tuple(_HOST_WORDS.split())
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LINK = re.compile(
    "|".join(
        [
            r"(?P<url>(?:https?://|www\.)[^\s]+"
            + rf"|(?<![\w@.-])(?:{_LABEL}\.)+(?:{'|'.join(STRONG_TLDS)})(?![\w-])"
            + rf"|(?<![\w@.-])(?:{_LABEL}\.)+(?:co|com|net|org|or|ac|go|web|gov|edu)\."
            + r"(?:id|th|vn|uk|my|sg|ph|au|jp|kr|in|nz|za)(?![\w-])"
            + rf"|(?<![\w@.-])(?:{'|'.join(re.escape(h) for h in LINK_HOSTS)})(?![\w-])"
            + rf"|(?<![\w.-]){_LABEL}\s*(?:\(dot\)|\[dot\]|\sdot\s)\s*(?:com|net|org)(?!\w))",
            r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
            r"(?P<phone>(?<![\w+])(?:\+|00)?\d(?:[ \-.()]{0,2}\d){8,14}(?!\w))",
        ]
    )
)
_ANY_DIGIT = re.compile(r"\d")
_THOUSANDS = re.compile(r"\d{1,3}(?:([ .,])\d{3})(?:\1\d{3})*")
_DATE = re.compile(
    r"(?:19|20)\d\d[-.](?:0?[1-9]|1[0-2])[-.](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-.](?:0?[1-9]|1[0-2])[-.](?:19|20)?\d\d"
)


def link_kind(folded: str) -> LinkKind | None:
    """Whether a folded comment carries a URL, an e-mail address or a phone number."""
    if (
        "." not in folded
        and "@" not in folded
        and "dot" not in folded
        and _ANY_DIGIT.search(folded) is None
    ):
        return None  # no link is written without one of these: skip the big search
    for m in _LINK.finditer(folded):
        kind = m.lastgroup
        if kind == "phone":
            number = m.group()
            if not number.startswith(("+", "00")) and (
                _THOUSANDS.fullmatch(number) or _DATE.match(number)
            ):
                continue  # a price grouped in thousands, or a date and time
            return LinkKind.PHONE
        if kind is not None:
            return LinkKind(kind)
    return None


# --- a room's filter -------------------------------------------------------------------------

EMPTY = Matcher((), rule="creator_term")


def check(
    text: str,
    lists: Sequence[Matcher],
    *,
    hold_links: bool,
) -> Hit | None:
    """Whether a comment is held, and why: the first list with a term in it, else a link
    (when links are held). ``text`` is the comment as sent (folded here, once)."""
    folded = fold(text)
    for matcher in lists:
        term = matcher.search(folded)
        if term is not None:
            return Hit(matcher.rule, term)
    if hold_links:
        kind = link_kind(folded)
        if kind is not None:
            return Hit("link", str(kind))
    return None
