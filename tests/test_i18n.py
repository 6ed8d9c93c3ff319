"""Every word a person reads is marked for translation, and every language liveshop speaks has
it translated (issue 21).

- Templates: no text or user-facing attribute outside ``_()``/``ngettext``/``{% trans %}``
  (``liveshop.web.i18n_scan``; ``make mark-templates`` does a first pass on a new page).
- Scripts: no English in ``static/js`` (words come from the page: ``t("key")``), and every
  key a script asks for exists in ``web/js_messages.py``.
- Python: problem titles and details, flashes, page titles and notices go through gettext.
- Catalogs: ``en_GB en_US id th ms vi`` translate every message; ``de fr it es`` every message
  on the buyer's path (home, room, buy sheet, checkout, orders). A failure names each
  language's missing messages: run ``make messages`` and translate them in
  ``liveshop/locale/<lang>/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from liveshop.core import i18n
from liveshop.core.i18n_catalogs import po_path
from liveshop.web import i18n_scan
from liveshop.web.js_messages import MESSAGES, PLURALS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "liveshop"
TEMPLATES = PACKAGE / "web" / "templates"
SCRIPTS = PACKAGE / "web" / "static" / "js"

# The buyer's path: what every language must have whole.
BUYER_TEMPLATES = {
    "base.html", "macros.html", "error.html", "home.html", "product.html", "cart.html",
    "pay.html", "orders.html", "order.html", "_parcels.html", "_returns.html", "login.html",
    "signup.html", "account.html", "addresses.html", "inbox.html", "live/room.html",
    "live/_product.html",
}  # fmt: skip
BUYER_PYTHON = {
    "liveshop/web/js_messages.py", "liveshop/core/errors.py", "liveshop/web/templating.py",
    "liveshop/web/routing.py", "liveshop/logistics/eta.py", "liveshop/web/shipping_view.py",
    "liveshop/logistics/wording.py", "liveshop/logistics/tell.py",
    "liveshop/orders/payments/declines.py",
}  # fmt: skip
PLANNED = ("de", "fr", "it", "es")


def _report(found: dict[str, list[str]], what: str, hint: str) -> str:
    lines = [f"{what} ({sum(map(len, found.values()))}); {hint}"]
    for where, items in sorted(found.items()):
        lines.append(f"  {where}:")
        lines.extend(f"    {item}" for item in items[:40])
        if len(items) > 40:
            lines.append(f"    … and {len(items) - 40} more")
    return "\n".join(lines)


def test_templates_have_no_unmarked_text() -> None:
    found: dict[str, list[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for u in i18n_scan.unmarked(path.read_text()):
            found.setdefault(str(path.relative_to(ROOT)), []).append(f"{u.line}: {u.text[:100]}")
    assert not found, _report(
        found, "template text not marked for translation", "wrap it in {{ _('…') }}"
    )


def test_templates_keep_no_english_in_expressions() -> None:
    """``{{ "Yes" if x else "No" }}``: words inside an expression are marked too."""
    literal = re.compile(r"\{\{(?:(?!\}\}).)*?(['\"])([A-Z][a-z]+(?: [a-z]+)*)\1", re.S)
    found: dict[str, list[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for m in literal.finditer(text):
            before = text[max(0, m.start(2) - 4) : m.start(2)]
            if "_(" in before:
                continue
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault(str(path.relative_to(ROOT)), []).append(f"{line}: {m.group(2)}")
    assert not found, _report(found, "English inside template expressions", "use _('…')")


_CALL = r"""\{\{-?\s*_\((?P<q>["'])(?P<msg>(?:(?!(?P=q)).)*)(?P=q)[^}]*\}\}"""
_INLINE = r"(?:a|strong|b|em|code|span|i)"
# A sentence going on into an inline tag that holds the next piece of it…
_CUT_BEFORE = re.compile(
    _CALL + r"\s*<" + _INLINE + r"\b[^>]*>\s*\{\{-?\s*_\((?P<q2>[\"'])(?!\()", re.S
)
# …or taken up again after one ("), not from…", ". It cannot…").
_CUT_AFTER = re.compile(r"</" + _INLINE + r">\s*\{\{-?\s*_\([\"']\s*[),.:;]", re.S)


def test_sentences_are_not_cut_at_inline_tags() -> None:
    """Translators see whole sentences: ``{{ _('Shipped with <strong>%(carrier)s</strong>',
    carrier=…) }}``, not three pieces around a ``<strong>`` (a label's "(optional)" hint is
    its own)."""
    found: dict[str, list[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        for m in _CUT_BEFORE.finditer(text):
            if not re.search(r"[.?!:…)]\s*$", m.group("msg")):
                line = text.count("\n", 0, m.start()) + 1
                found.setdefault(where, []).append(f"{line}: {m.group('msg')[-60:]}")
        for m in _CUT_AFTER.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault(where, []).append(f"{line}: {text[m.start() : m.end() + 40]}")
    assert not found, _report(
        found,
        "sentences cut at inline tags",
        "make one msgid with the markup in it and placeholders: _('… <a href=\"%(url)s\">…</a> …')",
    )


def test_scripts_read_their_words_from_the_page() -> None:
    found: dict[str, list[str]] = {}
    unknown: dict[str, list[str]] = {}
    for path in sorted(SCRIPTS.rglob("*.js")):
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        for u in i18n_scan.js_unmarked(text):
            found.setdefault(where, []).append(f"{u.line}: {u.text[:100]}")
        for m in re.finditer(r"\bt\(\"(\w+)\"", text):
            if m.group(1) not in MESSAGES:
                unknown.setdefault(where, []).append(m.group(1))
        for m in re.finditer(r"\btn\(\"(\w+)\"", text):
            if m.group(1) not in PLURALS:
                unknown.setdefault(where, []).append(m.group(1))
    assert not found, _report(
        found, "English in scripts", "add a key to web/js_messages.py and use t('key')"
    )
    assert not unknown, _report(unknown, "keys not in web/js_messages.py", "add them there")


ERROR_CALLS = {
    "Problem", "NotFound", "Conflict", "Unprocessable", "Unauthorized", "Forbidden",
    "ImageTooLarge", "WebhookRejected", "PaymentDeclined", "OutOfStock", "ReservationLost",
    "StockWouldGoNegative", "BadQuantity", "TooManyRequests",
}  # fmt: skip


FLASH_NAMES = {"text", "message", "note"}


def _literals(node: ast.expr) -> Iterator[ast.expr]:
    """String literals an expression may evaluate to (through ``a if c else b``)."""
    if isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.Constant | ast.JoinedStr):
        yield node


def _words(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2,}", node.value))
    return isinstance(node, ast.JoinedStr)


def _user_facing(tree: ast.AST, *, pages: bool) -> Iterator[ast.expr]:
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name in ERROR_CALLS:
                yield from n.args[:1]
                yield from (k.value for k in n.keywords if k.arg in ("detail", "title"))
            elif name == "problem_response":
                yield from (k.value for k in n.keywords if k.arg in ("detail", "title"))
            elif name == "redirect":
                for k in n.keywords:
                    if k.arg == "flash" and isinstance(k.value, ast.Tuple):
                        yield from k.value.elts[1:]
            elif name == "notify":
                yield from (k.value for k in n.keywords if k.arg in ("subject", "body"))
        elif pages and isinstance(n, ast.Assign):
            # A page's flash text built first: `text = "Cart updated."`
            if any(isinstance(t, ast.Name) and t.id in FLASH_NAMES for t in n.targets):
                yield from _literals(n.value)
        elif pages and isinstance(n, ast.Dict):
            for k, v in zip(n.keys, n.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "title":
                    yield v
        elif isinstance(n, ast.ClassDef):
            for st in n.body:
                if isinstance(st, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "title" for t in st.targets
                ):
                    yield st.value


def test_python_words_for_people_go_through_gettext() -> None:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        pages = path.parent.name == "web"
        for node in _user_facing(tree, pages=pages):
            if _words(node):
                where = str(path.relative_to(ROOT))
                found.setdefault(where, []).append(f"{node.lineno}: {ast.unparse(node)[:100]}")
    assert not found, _report(
        found,
        "user-facing Python strings not marked",
        "use gettext (from liveshop.core.i18n import gettext as _), lazy_gettext at import time",
    )


@cache
def _extracted() -> dict[str, set[str]]:
    """Every marked message now in the code (not only what the catalogs were last updated
    with), and where it is: {msgid: {file, …}}."""
    method_map = [
        ("liveshop/**.py", "python"),
        ("liveshop/web/templates/**.html", "jinja2"),
    ]
    options = {"liveshop/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {
        "_": None,
        "gettext": None,
        "_l": None,
        "lazy_gettext": None,
        "ngettext": (1, 2),
        "plural_noop": (1, 2),
        "pgettext": ((1, "c"), 2),
    }
    out: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        if "/tests/" in f"/{filename}" or filename.startswith(("tests", ".")):
            continue
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            out.setdefault(msgid, set()).add(filename)
    return out


def _on_buyer_path(files: set[str]) -> bool:
    for f in files:
        if f in BUYER_PYTHON:
            return True
        if f.removeprefix("liveshop/web/templates/") in BUYER_TEMPLATES:
            return True
    return False


def _translated(language: str) -> dict[str, bool]:
    with po_path(language).open("rb") as f:
        catalog = read_po(f, locale=language)
    out: dict[str, bool] = {}
    for m in catalog:
        if m.id:
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            key = m.id if isinstance(m.id, str) else m.id[0]
            out[key] = all(strings) and not m.fuzzy
    return out


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_every_language_has_its_messages(language: str) -> None:
    extracted = _extracted()
    have = _translated(language)
    wanted = (
        {m for m, files in extracted.items() if _on_buyer_path(files)}
        if language in PLANNED
        else set(extracted)
    )
    missing = sorted(m for m in wanted if not have.get(m))
    scope = "the buyer's path" if language in PLANNED else "every message"
    assert not missing, _report(
        {f"{language} ({scope})": [repr(m) for m in missing]},
        f"{language} has no translation for these messages",
        f"run `make messages`, then translate them in {po_path(language).relative_to(ROOT)}",
    )


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_translations_keep_placeholders_and_are_compiled(language: str) -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]")
    with po_path(language).open("rb") as f:
        po = read_po(f, locale=language)
    with po_path(language).with_suffix(".mo").open("rb") as f:
        mo = read_mo(f)
    wrong = []
    for m in po:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        allowed = {p for i in ids for p in placeholder.findall(i)}
        for s in strings:
            if s and not set(placeholder.findall(s)) <= allowed:
                wrong.append(f"{ids[0]!r} → {s!r}")
        if not all(strings):
            continue
        compiled = mo.get(m.id)
        got = compiled.string if compiled is not None else None
        assert (tuple(got) if isinstance(got, list) else got) == m.string, (
            f"{language}: the .mo is older than the .po ({ids[0]!r}): `make compile-messages`"
        )
    assert not wrong, "translations with placeholders their source lacks:\n" + "\n".join(wrong)
    assert po.plural_forms.startswith(f"nplurals={po.num_plurals};")


def test_choosing_the_language() -> None:
    choose = i18n.choose_language
    assert choose(preference="th", cookie="id", accept_language="vi", market_code="ID") == "th"
    assert choose(preference=None, cookie="id", accept_language="vi", market_code="GB") == "id"
    accept = "fr-CH, fr;q=0.9, id;q=0.8, *;q=0.5"
    assert choose(preference=None, cookie=None, accept_language=accept, market_code="ID") == "id"
    assert choose(preference=None, cookie=None, accept_language="zh", market_code="VN") == "vi"
    assert choose(preference=None, cookie=None, accept_language="en-US", market_code="US") == (
        "en_US"
    )
    assert choose(preference=None, cookie="xx", accept_language=None, market_code="MY") == "ms"
    # Plurals as each language has them: Thai, Indonesian and Vietnamese have one form.
    with i18n.use_locale("en_GB"):
        assert i18n.ngettext("%(num)d SKU", "%(num)d SKUs", 1) == "1 SKU"
    for language in ("th", "id", "vi", "ms"):
        assert i18n.translations(language).plural(5) == 0  # type: ignore[attr-defined]
    # The pseudo-locale: accented, longer, placeholders intact.
    with i18n.use_locale(i18n.PSEUDO_LOCALE):
        text = i18n.gettext("Page %(page)s of %(pages)s", page=2, pages=9)
    assert "2" in text and "9" in text and "á" in text and len(text) > 1.3 * len("Page 2 of 9")


def test_the_script_scanner_finds_a_word_set_into_a_sentence() -> None:
    snippet = 'line.textContent = text + (known ? "" : " (estimate)");\nx = " · to " + where;\n'
    assert [u.text for u in i18n_scan.js_unmarked(snippet)] == [" (estimate)", " · to "]
    code = 'el.classList.add("is-open"); fetch(url, { credentials: "same-origin" });'
    assert i18n_scan.js_unmarked(code) == []
