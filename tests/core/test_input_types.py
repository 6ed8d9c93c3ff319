"""Every input of every route takes the shared types of ``core/types.py``.

Walks the app's routes (API, pages, the room socket): each ``str`` a client can send — in
a path, query, header, cookie, form or JSON body, nested models and lists included — must
refuse control characters (the ``NoControlCharacters`` marker, or a pattern of its own
that cannot match one), and each ``int`` must have both bounds, ``≤ 2⁶³−1`` (an id beyond
a BIGINT is a 422, never a driver's overflow); an int in a JSON body must be strict (JSON
``true`` is not 1). A new route with a bare ``str`` or ``int`` fails here.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

import annotated_types
import pytest
from fastapi import UploadFile
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Strict
from pydantic.fields import FieldInfo

from liveshop.app import create_app
from liveshop.core.settings import Settings
from liveshop.core.types import MAX_ID, NoControlCharacters, check_text, first_control_character

CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800"]


def _routes() -> list[Any]:
    app = create_app(Settings(database_url="sqlite+aiosqlite:////tmp/h15a-walk.db"))
    return [
        r
        for r in iter_route_contexts(app.routes)  # routers included by FastAPI ≥ 0.16x too
        if isinstance(r.original_route, APIRoute | APIWebSocketRoute)
    ]


def _params(dependant: Any) -> Iterator[tuple[str, Any]]:
    for kind in ("path_params", "query_params", "header_params", "cookie_params"):
        for field in getattr(dependant, kind):
            yield kind, field
    for field in dependant.body_params:
        yield "body_params", field
    for sub in dependant.dependencies:
        yield from _params(sub)


def _meta(info: FieldInfo) -> list[Any]:
    return list(info.metadata)


def _leaves(
    annotation: Any, metadata: list[Any], where: str, seen: set[type]
) -> Iterator[tuple[str, type, list[Any]]]:
    """(where, str|int, its metadata) for every str or int reachable from ``annotation``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _leaves(base, metadata + _flatten(extra), where, seen)
        return
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _leaves(arg, metadata, where, seen)
        return
    if origin is Literal or annotation in (type(None), bool, float, date, datetime, Any):
        return
    if origin in (list, set, frozenset, tuple, typing.Sequence):
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                yield from _leaves(arg, [], where + "[]", seen)
        return
    if origin is dict:
        for arg in typing.get_args(annotation):
            yield from _leaves(arg, [], where + "{}", seen)
        return
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen = seen | {annotation}
        for name, info in annotation.model_fields.items():
            yield from _leaves(
                info.annotation, _meta(info), f"{where}.{annotation.__name__}.{name}", seen
            )
        return
    if annotation in (str, int):
        yield where, annotation, metadata
        return
    if annotation is UploadFile:
        return  # a file's bytes: read with a size cap and checked by the handler
    if isinstance(annotation, type) and annotation.__module__.startswith(("pydantic", "email")):
        return  # EmailStr, SecretStr …: validated by their own rules
    raise AssertionError(f"{where}: an input type the walk does not know: {annotation!r}")


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, FieldInfo):
            out.extend(item.metadata)
        else:
            out.append(item)
    return out


def _pattern(metadata: list[Any]) -> str | None:
    for m in metadata:
        pattern = getattr(m, "pattern", None)
        if isinstance(pattern, str):
            return pattern
    return None


def _problems() -> list[str]:
    found: list[str] = []
    for route in _routes():
        methods = ",".join(sorted(getattr(route, "methods", None) or {"WS"}))
        for kind, field in _params(route.dependant):
            info = field.field_info
            where = f"{methods} {route.path} {kind[:-7]}:{field.name}"
            in_json = kind == "body_params" and type(info).__name__ == "Body"
            for at, leaf, metadata in _leaves(info.annotation, _meta(info), where, set()):
                found.extend(_check(at, leaf, metadata, in_json=in_json or ".[]" in at))
    return sorted(set(found))


def _check(where: str, leaf: type, metadata: list[Any], *, in_json: bool) -> list[str]:
    if leaf is str:
        if any(isinstance(m, NoControlCharacters) for m in metadata):
            return []
        pattern = _pattern(metadata)
        if pattern is not None and _pattern_refuses_controls(pattern):
            return []
        return [f"{where}: str without core.types Line/Text"]
    lows = [m for m in metadata if isinstance(m, annotated_types.Ge | annotated_types.Gt)]
    highs = [m for m in metadata if isinstance(m, annotated_types.Le | annotated_types.Lt)]
    out = []
    if not lows or not highs:
        out.append(f"{where}: int without both bounds (core.types Id/Offset/Limit/Count)")
    elif any(getattr(h, "le", getattr(h, "lt", 0)) > MAX_ID + 1 for h in highs):
        out.append(f"{where}: int bound beyond 2**63-1")
    if in_json and not any(isinstance(m, Strict) or getattr(m, "strict", False) for m in metadata):
        out.append(f"{where}: int in a JSON body is not strict (core.types BodyId/Count)")
    return out


def _pattern_refuses_controls(pattern: str) -> bool:
    """A field's own pattern: no string it fully matches has a control character."""
    failures: list[str] = []

    @settings(max_examples=60, suppress_health_check=list(HealthCheck), database=None)
    @given(st.from_regex(re.compile(pattern), fullmatch=True))
    def matches_clean(value: str) -> None:
        if first_control_character(value, multiline=False) is not None:
            failures.append(value)

    matches_clean()
    return not failures and not any(re.fullmatch(pattern, "a" + c) for c in CONTROLS)


def test_every_input_of_every_route_takes_the_shared_types() -> None:
    problems = _problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("char", CONTROLS)
def test_a_line_refuses_every_control_character(char: str) -> None:
    assert first_control_character(f"ab{char}c", multiline=False) == 2
    assert first_control_character(f"ab{char}c", multiline=True) == 2


def test_free_text_keeps_tabs_and_newlines_and_every_script() -> None:
    text = "Größe M\tfits\r\nwell 👍🏽 — 日本語 ‍ झ"
    assert check_text(text, multiline=True) == text
    assert first_control_character(text, multiline=False) == 7
