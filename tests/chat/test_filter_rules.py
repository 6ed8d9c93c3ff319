"""The comment filter's matching rules (``chat.filter_rules``), without a database: each rule
by example, links, and two properties — a comment with a listed term in any variant the
rules claim to catch is caught; a comment without one (words of other letters, or the term
inside longer words) never is."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liveshop.chat.filter_rules import (
    TERM_MAX,
    BadTerm,
    Hit,
    LinkKind,
    Matcher,
    check,
    fold,
    link_kind,
    normalise_term,
)


def matcher(*terms: str) -> Matcher:
    return Matcher([normalise_term(t) for t in terms], rule="creator_term")


def caught(m: Matcher, text: str) -> str | None:
    return m.search(fold(text))


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("FUCK this", "fuck"),  # case
        ("Fuck.", "fuck"),
        ("ｆｕｃｋ", "fuck"),  # full-width (NFKC)
        ("f\u200buck", "fuck"),  # a zero-width space inside
        ("f\u00aduck", "fuck"),  # a soft hyphen inside
        ("you a$$", "ass"),  # leetspeak
        ("4ss", "ass"),
        ("sh1t happens", "shit"),
        ("5h17", "shit"),
        ("f u c k", "fuck"),  # spaced out
        ("f.u.c.k off", "fuck"),
        ("s_h_1_t", "shit"),
        ("you are a b i t c h ok", "bitch"),  # the run read together
        ("kill-yourself", "kill yourself"),  # a phrase's words, any gap
        ("KILL   yourself!!", "kill yourself"),
        ("k i l l y o u r s e l f", "kill yourself"),
        ("f-ck", "f*ck"),  # punctuation in a term separates words
        ("ไอควยเอ้ย", "ควย"),  # Thai: no word edges
        ("STRASSE", "straße"),  # casefold: ß is ss
    ],
)
def test_what_is_caught(text: str, term: str) -> None:
    m = matcher("fuck", "ass", "shit", "bitch", "kill yourself", "f*ck", "ควย", "straße")
    assert caught(m, text) == normalise_term(term)


@pytest.mark.parametrize(
    "text",
    [
        "a classic class act",  # inside a longer word
        "assistant, assess, bass",
        "455 units left",  # a number is not "ass": a match needs a letter
        "fucking",  # whole words only
        "f u ck",  # a separator between only some letters
        "fu ck",
        "an al",
        "good",  # repeated letters are not collapsed ("god" would match "good")
        "fuuuck",
        "kill yourselves",
        "mà",  # diacritics are kept: "ma" is not listed, "mà" is a different word
        "",
    ],
)
def test_what_is_not_caught(text: str) -> None:
    m = matcher("fuck", "ass", "anal", "god", "kill yourself", "ma", "f*ck")
    assert caught(m, text) is None


def test_repeated_letters_and_good_god() -> None:
    m = matcher("god")
    assert caught(m, "good") is None and caught(m, "oh my god") == "god"


def test_terms_are_folded_and_checked() -> None:
    assert normalise_term("  Kill   YOURSELF ") == "kill yourself"
    assert normalise_term("ＳＣＡＭ") == "scam"
    for bad in ("", "   ", "1234", "!!!", "x" * (TERM_MAX + 1), "y" * 101):
        with pytest.raises(BadTerm):
            normalise_term(bad)
    assert normalise_term("covid19") == "covid19"


def test_check_names_the_list_and_holds_links_only_when_asked() -> None:
    mine = Matcher(["scam"], rule="creator_term")
    platform = Matcher(["fraud"], rule="platform_term")
    assert check("total FRAUD", [mine, platform], hold_links=False) == Hit("platform_term", "fraud")
    assert check("a scam, fraud", [mine, platform], hold_links=False) == Hit("creator_term", "scam")
    assert check("see www.x.com", [mine, platform], hold_links=False) is None
    assert check("see www.x.com", [mine, platform], hold_links=True) == Hit("link", "url")
    assert check("hello", [Matcher([], rule="creator_term")], hold_links=True) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("visit https://shop.example", LinkKind.URL),
        ("www.cheap-deals.co", LinkKind.URL),
        ("go to cheapbags.shop now", LinkKind.URL),
        ("t.me/seller123", LinkKind.URL),
        ("wa.me/6281234567890", LinkKind.URL),
        ("toko.co.id", LinkKind.URL),
        ("example dot com", LinkKind.URL),
        ("mail deals@mail.example", LinkKind.EMAIL),
        ("call 0912 345 678", LinkKind.PHONE),
        ("+44 7700 900123", LinkKind.PHONE),
        ("0812-3456-7890", LinkKind.PHONE),
        ("０９１２３４５６７８", LinkKind.PHONE),  # full-width digits
    ],
)
def test_links_held(text: str, kind: LinkKind) -> None:
    assert link_kind(fold(text)) == kind


@pytest.mark.parametrize(
    "text",
    [
        "love it.me too",  # .me, .it and .to are everyday words
        "great.it fits",
        "connect the dot to the line",
        "price 250.000.000 vnd",  # prices grouped in thousands
        "2,500,000 or 1.500.000?",
        "order 12345678",  # 8 digits
        "live at 2024-05-12 10:30",  # a date and a time
        "e.g. this one",
        "size 2.5",
    ],
)
def test_no_link(text: str) -> None:
    assert link_kind(fold(text)) is None


# --- properties ---------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"
LEET = {"a": "4@", "b": "8", "e": "3", "i": "1", "l": "1", "o": "0", "s": "5$", "t": "7"}
GAPS = " -_.,!*~"  # spaces and punctuation


def _word(alphabet: str, min_size: int = 2) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=9)


@st.composite
def term_words(draw: st.DrawFn, alphabet: str = LETTERS) -> list[str]:
    words = draw(st.lists(_word(alphabet), min_size=1, max_size=3))
    assume(sum(map(len, words)) >= 3)
    return words


@st.composite
def variant(draw: st.DrawFn, words: list[str]) -> str:
    """The term written in a way the rules claim to catch: any case, full-width letters,
    leetspeak (a letter always left), invisible characters, any word gaps — or spaced out
    letter by letter."""
    chars: list[list[str]] = []
    for word in words:
        out = []
        for ch in word:
            style = draw(st.sampled_from(["lower", "upper", "wide", "leet"]))
            if style == "upper":
                ch = ch.upper()
            elif style == "wide":
                ch = chr(ord(ch.upper() if draw(st.booleans()) else ch) - 0x21 + 0xFF01)
            elif style == "leet" and ch in LEET:
                ch = draw(st.sampled_from(LEET[ch]))
            out.append(ch)
        chars.append(out)
    assume(any(ch.isalpha() for word in chars for ch in word))
    if draw(st.booleans()):  # spaced out: 1-3 separators between every two characters
        flat = [ch for word in chars for ch in word]
        text = flat[0]
        for ch in flat[1:]:
            text += draw(st.text(GAPS, min_size=1, max_size=3)) + ch
        return text
    parts = []
    for word in chars:
        if len(word) > 1 and draw(st.booleans()):  # an invisible character inside
            at = draw(st.integers(1, len(word) - 1))
            word = [*word[:at], draw(st.sampled_from("\u200b\u200c\u200d\u00ad\u2060")), *word[at:]]
        parts.append("".join(word))
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.text(GAPS, min_size=1, max_size=5)) + part
    return text


@settings(max_examples=300, deadline=None)
@given(data=st.data(), listed=st.lists(term_words(), min_size=1, max_size=6))
def test_a_listed_term_in_any_claimed_variant_is_caught(
    data: st.DataObject, listed: list[list[str]]
) -> None:
    m = Matcher([" ".join(w) for w in listed], rule="creator_term")
    words = data.draw(st.sampled_from(listed))
    before = data.draw(st.lists(_word(LETTERS, 1), max_size=4))
    after = data.draw(st.lists(_word(LETTERS, 1), max_size=4))
    text = " ".join([*before, data.draw(variant(words)), *after])
    assert m.search(fold(text)) is not None, text


# Terms of the first half of the alphabet; comments of letters and digits that are none of
# those, even read as leetspeak (4 a, 8 b, 3 e, 1 i/l, 0 o, 5 s, 7 t).
TERM_LETTERS = "abcdefghijklm"
OTHER = "npqruvwxyz269"


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    listed=st.lists(term_words(TERM_LETTERS), min_size=1, max_size=6),
)
def test_a_comment_without_a_term_is_never_caught(
    data: st.DataObject, listed: list[list[str]]
) -> None:
    m = Matcher([" ".join(w) for w in listed], rule="creator_term")
    pieces = []
    for _ in range(data.draw(st.integers(0, 12))):
        if data.draw(st.booleans()):  # a word of other letters, in any case
            word = data.draw(_word(OTHER, 1))
            pieces.append(word.upper() if data.draw(st.booleans()) else word)
        else:  # a listed term inside longer words: each of its words glued to letters
            words = data.draw(st.sampled_from(listed))
            glue = data.draw(st.sampled_from("nprxyz"))
            pieces.append(
                " ".join(f"{glue}{w}" if i % 2 else f"{w}{glue}" for i, w in enumerate(words))
            )
        pieces.append(data.draw(st.text(GAPS, min_size=1, max_size=3)))
    text = "".join(pieces)
    assert m.search(fold(text)) is None, text
