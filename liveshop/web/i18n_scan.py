"""Finding (and marking) template text that is not translated (issue 21).

``unmarked(source)`` lists the text a person would read in a Jinja template that does not go
through ``_()``/``ngettext``/``{% trans %}``: text between tags and the user-facing
attributes (``aria-label``, ``title``, ``placeholder``, ``alt``, ``label``,
``data-msg-*``). ``tests/web/test_i18n_marked.py`` fails on any.

``mark(source)`` wraps such text in ``{{ _("…") }}``, turning the ``{{ expr }}`` inside a
sentence into named placeholders (``Expires {{ c.expiry }}`` → ``{{ _("Expires
%(expiry)s", expiry=c.expiry) }}``): ``python -m liveshop.web.i18n_scan FILE…`` (``make
mark-templates``) rewrites templates in place, for a first pass over a new page before a
person reads the result (plurals still want ``ngettext`` by hand).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

TOKEN = re.compile(
    r"(?P<comment>\{#.*?#\})"
    r"|(?P<stmt>\{%-?\s*(?P<kw>\w+).*?-?%\})"
    r"|(?P<expr>\{\{.*?\}\})"
    r"|(?P<tag></?[a-zA-Z!][^<>]*?(?:\{\{.*?\}\}[^<>]*?|\{%.*?%\}[^<>]*?)*>)"
    r"|(?P<text>[^<{]+|[<{])",
    re.S,
)
RAW_TAGS = ("script", "style")
ATTRS = re.compile(
    r"""(?P<name>aria-label|title|placeholder|alt|label|data-msg-[\w-]+)=(?P<q>["'])(?P<value>.*?)(?P=q)""",
    re.S,
)
LETTERS = re.compile(r"[^\W\d_]{2,}")
# Words that stay as they are in every language.
KEEP = frozenset({"liveshop", "OBS", "RTMP", "HLS", "SKU", "PDF", "CSV", "URL", "API"})
MARKED = re.compile(r"^\{\{-?\s*(_|gettext|ngettext|pgettext)\(")
TRANS_OPEN = ("trans", "pluralize")


@dataclass(frozen=True, slots=True)
class Unmarked:
    line: int
    text: str


def _is_text(s: str) -> bool:
    words = LETTERS.findall(s)
    return any(w not in KEEP for w in words)


def _tokens(source: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    for m in TOKEN.finditer(source):
        kind = "text"
        for k in ("comment", "stmt", "expr", "tag", "text"):
            if m.group(k) is not None:
                kind = k
                break
        out.append((kind, m.group(0), m.start()))
    return out


def _line(source: str, pos: int) -> int:
    return source.count("\n", 0, pos) + 1


def _stmt_kw(tok: str) -> str:
    m = re.match(r"\{%-?\s*(\w+)", tok)
    return m.group(1) if m else ""


def _boundary_expr(expr: str) -> bool:
    """An expression that renders markup or is itself translated: never a placeholder."""
    inner = expr.strip("{}- \n")
    return bool(
        MARKED.match(expr)
        or "|safe" in inner
        or "caller()" in inner
        or re.match(
            r"^(csrf|badge|empty|pager|session_card|product_card|\w+_html|field|row)\(", inner
        )
        or inner.startswith(("_(", "ngettext(", "gettext("))
        or "_(" in inner
    )


def unmarked(source: str) -> list[Unmarked]:
    found: list[Unmarked] = []
    raw: str | None = None
    in_trans = 0
    skip = False
    for kind, tok, pos in _tokens(source):
        if raw is not None:
            if kind == "tag" and re.match(rf"</{raw}\b", tok, re.I):
                raw = None
            continue
        if kind == "stmt":
            kw = _stmt_kw(tok)
            skip = bool(re.match(r"\{%-?\s*block\s+\w*class", tok))
            if kw == "trans":
                in_trans += 1
            elif kw == "endtrans":
                in_trans = max(0, in_trans - 1)
            continue
        if in_trans or skip:
            continue
        if kind == "tag":
            name = re.match(r"</?([a-zA-Z][\w-]*)", tok)
            if name and name.group(1).lower() in RAW_TAGS and not tok.startswith("</"):
                raw = name.group(1).lower()
            for a in ATTRS.finditer(tok):
                value = a.group("value")
                plain = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value, flags=re.S)
                if _is_text(plain):
                    found.append(
                        Unmarked(_line(source, pos + a.start()), f'{a.group("name")}="{value}"')
                    )
        elif kind == "text" and _is_text(tok):
            found.append(Unmarked(_line(source, pos), " ".join(tok.split())))
    return found


def _placeholder(expr: str, taken: dict[str, str]) -> str:
    inner = expr.strip()[2:-2].strip("- \n")
    base = inner.split("|")[0].strip()
    m = (
        re.findall(r"[A-Za-z_]\w*", base.split("(")[0])
        if "(" in base
        else re.findall(r"[A-Za-z_]\w*", base)
    )
    name = (m[-1] if m else "value").lower()
    if name in ("money", "display_price"):
        name = "amount"
    if name.startswith("_") or name in ("if", "else", "not", "and", "or", "none"):
        name = "value"
    candidate, n = name, 2
    while candidate in taken and taken[candidate] != inner:
        candidate, n = f"{name}{n}", n + 1
    taken[candidate] = inner
    return candidate


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _emit(parts: list[tuple[str, str]]) -> str:
    """A run of text and expressions as one translated message, outer whitespace kept."""
    taken: dict[str, str] = {}
    msg = ""
    for kind, tok in parts:
        if kind == "text":
            msg += tok.replace("%", "%%")
        else:
            msg += f"%({_placeholder(tok, taken)})s"
    lead = msg[: len(msg) - len(msg.lstrip())]
    trail = msg[len(msg.rstrip()) :]
    body = " ".join(msg.split())
    args = "".join(
        f", {k}={v}" if re.fullmatch(r"[\w.]+", v) else f", {k}=({v})" for k, v in taken.items()
    )
    return f"{lead}{{{{ _({_quote(body)}{args}) }}}}{trail}"


def _mark_attr(tok: str) -> str:
    def one(a: re.Match[str]) -> str:
        value = a.group("value")
        if "{%" in value or MARKED.search(value) or "_(" in value:
            return a.group(0)
        plain = re.sub(r"\{\{.*?\}\}", "", value, flags=re.S)
        if not _is_text(plain):
            return a.group(0)
        parts: list[tuple[str, str]] = []
        for piece in re.split(r"(\{\{.*?\}\})", value, flags=re.S):
            if piece:
                parts.append(("expr" if piece.startswith("{{") else "text", piece))
        inner = _emit(parts).strip()
        inner = inner.replace('{{ _("', "{{ _('", 1) if a.group("q") == '"' else inner
        if a.group("q") == '"':
            # keep the attribute's double quotes: the message in single quotes
            m = re.match(r'^\{\{ _\("(.*?)"(.*)\) \}\}$', _emit(parts).strip(), re.S)
            if m:
                msg = m.group(1).replace('\\"', '"').replace("'", "\\'")
                inner = "{{ _('" + msg + "'" + m.group(2) + ") }}"
        return f"{a.group('name')}={a.group('q')}{inner}{a.group('q')}"

    return ATTRS.sub(one, tok)


def mark(source: str) -> str:
    out: list[str] = []
    run: list[tuple[str, str]] = []
    raw: str | None = None
    in_trans = 0
    skip = False

    def flush() -> None:
        if not run:
            return
        if any(k == "text" and _is_text(t) for k, t in run):
            # whitespace-only text at either end stays outside the message
            start, end = 0, len(run)
            while start < end and not run[start][1].strip():
                start += 1
            while end > start and not run[end - 1][1].strip():
                end -= 1
            out.extend(t for _k, t in run[:start])
            out.append(_emit(run[start:end]))
            out.extend(t for _k, t in run[end:])
        else:
            out.extend(t for _k, t in run)
        run.clear()

    for kind, tok, _pos in _tokens(source):
        if raw is not None:
            out.append(tok)
            if kind == "tag" and re.match(rf"</{raw}\b", tok, re.I):
                raw = None
            continue
        if kind == "stmt":
            flush()
            kw = _stmt_kw(tok)
            skip = bool(re.match(r"\{%-?\s*block\s+\w*class", tok))
            in_trans += kw == "trans"
            in_trans -= kw == "endtrans"
            out.append(tok)
            continue
        if in_trans or skip or kind == "comment":
            flush()
            out.append(tok)
            continue
        if kind == "tag":
            flush()
            name = re.match(r"</?([a-zA-Z][\w-]*)", tok)
            if name and name.group(1).lower() in RAW_TAGS and not tok.startswith("</"):
                raw = name.group(1).lower()
                out.append(tok)
            else:
                out.append(_mark_attr(tok))
            continue
        if kind == "expr" and _boundary_expr(tok):
            flush()
            out.append(tok)
            continue
        run.append(("text" if kind == "text" else "expr", tok))
    flush()
    return "".join(out)


def main(paths: list[str]) -> None:
    for p in paths:
        path = Path(p)
        before = path.read_text()
        after = mark(before)
        if after != before:
            path.write_text(after)
            print(f"marked {path}")


if __name__ == "__main__":
    main(sys.argv[1:])


# -- scripts -----------------------------------------------------------------------------------
_JS_TOKEN = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<string>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)",
    re.S,
)
# Attribute-ish keys and calls whose string values are code, not words for people.
_JS_CODE_CONTEXT = re.compile(
    r"(class|className|type|rel|role|autocomplete|inputmode|href|src|method|credentials|key|"
    r"phase|code|mode|kind|for|id|name|value|state|status|enterkeyhint|Accept|Content-Type)"
    r"\s*[:=]\s*$|(querySelector(All)?|getElementById|closest|addEventListener|"
    r"removeEventListener|setAttribute|getAttribute|toggleAttribute|createElement|"
    r"classList\.(add|remove|toggle|contains)|startsWith|endsWith|includes|fetch|"
    r"new Error|console\.\w+|import|from|\bel|\bnode|t|tn)\s*\(\s*$|\b(case|import|from)\s*$"
    r"|[=!]==?\s*$"
)


def _js_words(body: str) -> bool:
    plain = re.sub(r"\$\{.*?\}", "", body)
    if not LETTERS.search(plain) or not _is_text(plain):
        return False
    if re.search(r"<\w|--\w|\(m(in|ax)-|\w=$|^[a-z-]+: ", plain):  # markup, CSS, a query
        return False
    if "${" in body and re.search(r"(^|[\s(])[A-Za-z]{3,}", plain) and "/" not in plain:
        return True  # `${n} (included)`: a word around a value
    if re.fullmatch(r"\s*[(·–—]?\s*[A-Za-z]{2,}\s*\)?\s*", plain) and (
        plain != plain.strip() or "(" in plain
    ):
        return True  # " (estimate)", " · to ": a word set into a sentence
    if re.fullmatch(r"[\w.:/#?&=%-]*", plain):  # one word, a path, a selector, a code
        return bool(re.match(r"^[A-Z][a-z]+$", plain))  # "Sold", "Buy": a word for people
    return bool(re.search(r"[A-Za-z]{2,}[^\w\n]+[A-Za-z]{2,}", plain)) and not re.fullmatch(
        r"[a-z0-9 _-]+",
        plain,  # "btn btn-primary": class lists
    )


def js_unmarked(source: str) -> list[Unmarked]:
    """String literals in a script that read as words for people (``t("key")`` instead)."""
    found: list[Unmarked] = []
    for m in _JS_TOKEN.finditer(source):
        if m.group("string") is None:
            continue
        body = m.group("string")[1:-1]
        before = source[max(0, m.start() - 60) : m.start()]
        if _JS_CODE_CONTEXT.search(before) or not _js_words(body):
            continue
        is_key = source[m.end() :].lstrip().startswith(":") and before.rstrip()[-1:] in "{,"
        if is_key:  # an object key
            continue
        found.append(Unmarked(_line(source, m.start()), body))
    return found
