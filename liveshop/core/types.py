"""The shapes every input takes: text, ids, offsets, limits, quantities.

One validation layer for everything a client sends — JSON bodies, query and path
parameters, the pages' form posts. Every request schema and route parameter uses these
types (``tests/core/test_input_types.py`` walks every route of the app and fails on a
``str`` or ``int`` input that does not), so a bad value is a 422 problem naming its
field, the same on SQLite and PostgreSQL, and never reaches the database:

- **Text** never holds control characters: PostgreSQL refuses NUL in text (a 500 if it
  got there), and the others (escape sequences, DEL, C1 codes) have no business in a
  name or a comment. ``Line`` (names, titles, codes, searches) allows none; ``Text``
  (descriptions, reasons, comments) allows tab, line feed and carriage return. Lone
  UTF-16 surrogates (``"\\ud800"`` in JSON) are refused too: no database can store them.
  Refused, never stripped: what a person wrote is stored as written or not at all.
- **Ids** are 1 … 2⁶³−1 (a BIGINT); an id beyond that cannot exist, so it is a 422,
  never an overflow in the driver. Offsets and limits have caps. JSON ``true`` is not an
  id (pydantic's lax mode would take it as 1).
- **Quantities** are strict: ``true`` and ``"1"`` are refused in a JSON body, as money
  amounts are (``core/money.py``). Form posts send strings, so their fields stay lax.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, Strict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

MAX_ID = 2**63 - 1  # a BIGINT primary key
MAX_OFFSET = 1_000_000
MAX_LIMIT = 200
MAX_COUNT = 2**31 - 1  # an INTEGER column (units, days, counts)
MAX_AMOUNT_MINOR = 10**13  # exclusive; ~ 10^11 of a 2-exponent currency, well inside BIGINT

_FREE_TEXT_CONTROLS = frozenset("\t\n\r")
# For OpenAPI (and so for schemathesis): the same rule as a pattern.
_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$"
_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$"


def first_control_character(value: str, *, multiline: bool) -> int | None:
    """Index of the first character a text field refuses, or None."""
    for i, ch in enumerate(value):
        if ch.isprintable() or ch == " ":
            continue
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and not (multiline and ch in _FREE_TEXT_CONTROLS)):
            return i
    return None


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` if it has no refused character; PydanticCustomError otherwise."""
    at = first_control_character(value, multiline=multiline)
    if at is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (found {char} at position {at})",
            {"char": f"U+{ord(value[at]):04X}", "at": at},
        )
    return value


@dataclass(frozen=True, slots=True)
class NoControlCharacters:
    """Metadata on a ``str``: refuse control characters (all of them, or all but tab, line
    feed and carriage return when ``multiline``). The marker the route walk looks for."""

    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        multiline = self.multiline
        return core_schema.no_info_after_validator_function(
            lambda v: check_text(v, multiline=multiline), handler(source)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        if out.get("type") == "string":  # a field's own, stricter pattern stays
            out.setdefault("pattern", _TEXT_PATTERN if self.multiline else _LINE_PATTERN)
        return out


Line = Annotated[str, NoControlCharacters()]
"""One line of text: a name, title, code, search words. No control characters at all.
(A field with a pattern of its own, stricter than this, may stay a plain ``str``.)"""
Text = Annotated[str, NoControlCharacters(multiline=True)]
"""Free text (descriptions, reasons, comments): tab and newlines allowed, nothing else."""
Name = Line
SearchQuery = Line

# Path, query and form values are strings on the wire: these are lax (``"7"`` is 7).
Id = Annotated[int, Ge(1), Le(MAX_ID)]
"""A row's id in a path, query or form: 1 … 2⁶³−1."""
Offset = Annotated[int, Ge(0), Le(MAX_OFFSET)]
Limit = Annotated[int, Ge(1), Le(MAX_LIMIT)]
FormCount = Annotated[int, Ge(0), Le(MAX_COUNT)]
"""A number in a query or form (narrow it with ``Form(le=…)``)."""

# A JSON body has real numbers: strict, so ``true`` and ``"1"`` are refused.
BodyId = Annotated[int, Strict(), Ge(1), Le(MAX_ID)]
"""A row's id in a JSON body: an integer 1 … 2⁶³−1, never ``true`` or ``"7"``."""
Count = Annotated[int, Strict(), Ge(0), Le(MAX_COUNT)]
"""A count in a JSON body (units, days, limits); narrow it with ``Field(le=…)``."""
Quantity = Annotated[int, Strict(), Ge(1), Le(MAX_COUNT)]
"""Units a buyer asks for, in a JSON body (narrow it with ``Field(le=…)``)."""
Amount = Annotated[int, Strict(), Ge(0), Lt(MAX_AMOUNT_MINOR)]
"""Money in a JSON body: an integer of the currency's minor unit, never a float or string."""
Integer = Annotated[int, Strict(), Ge(-MAX_COUNT), Le(MAX_COUNT)]
"""Any other whole number in a JSON body (its service checks the range it means)."""
SignedAmount = Annotated[int, Strict(), Gt(-MAX_AMOUNT_MINOR), Lt(MAX_AMOUNT_MINOR)]
"""Money that its service checks for sign (thresholds, fees, corrections)."""

# A model field written ``x: Count = Field(ge=…)`` keeps the TYPE's bounds (pydantic puts
# the annotation's constraints last), so a field with bounds of its own is a plain
# ``int = Field(strict=True, ge=…, le=…)``; ``Annotated[Count, Field(le=…)]`` narrows fine.


def is_clean_line(value: str) -> bool:
    """For hand-parsed input (the room socket's frames): no control character at all."""
    return first_control_character(value, multiline=False) is None
