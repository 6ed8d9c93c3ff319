"""A request that fails validation is answered in the caller's language (issue 21): the
problem+json title and each field's message (pydantic's error type with its limits), never
pydantic's English; programs keep the error ``type`` and its ``ctx``."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from liveshop.accounts.models import Role, User
from liveshop.core import i18n
from liveshop.core.db import Database
from liveshop.core.errors import field_message
from tests.support import MakeActor, assert_problem

KEY = {"idempotency-key": "validation-language-1"}
BAD_ORDER = {"market": "GBR", "lines": [{"sku_id": 1, "quantity": 0}]}


def _by_field(body: dict) -> dict[str, str]:
    return {".".join(e["loc"][1:]): e["msg"] for e in body["errors"]}


async def test_an_indonesian_browser_reads_the_field_errors_in_indonesian(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    resp = await client.post(
        "/api/v1/checkout",
        json=BAD_ORDER,
        headers={**buyer.headers, **KEY, "accept-language": "id-ID"},
    )
    body = assert_problem(resp, 422, "validation-error")
    assert body["title"] == "Permintaan tidak valid"
    fields = _by_field(body)
    assert fields["market"] == "Maksimal 2 karakter"
    assert fields["lines.0.quantity"] == "Minimal 1"
    assert body["detail"] in (
        "body.market: Maksimal 2 karakter",
        "body.lines.0.quantity: Minimal 1",
    )
    assert "should" not in resp.text  # none of pydantic's English
    quantity = next(e for e in body["errors"] if e["loc"][-1] == "quantity")
    assert (quantity["type"], quantity["ctx"]) == ("greater_than_equal", {"ge": 1})


async def test_a_users_own_language_wins_without_accept_language(
    db: Database, client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    async with db.session() as s:
        await s.execute(update(User).where(User.id == buyer.id).values(language="id"))
        await s.commit()
    resp = await client.post(
        "/api/v1/checkout", json={"lines": []}, headers={**buyer.headers, **KEY}
    )
    body = assert_problem(resp, 422, "validation-error")
    assert body["title"] == "Permintaan tidak valid"
    assert _by_field(body)["market"] == "Wajib diisi"


def test_each_kind_of_error_reads_naturally() -> None:
    with i18n.use_locale("th"):
        assert field_message({"type": "missing"}) == "จำเป็นต้องกรอก"
        assert field_message({"type": "less_than_equal", "ctx": {"le": 99}}) == "ต้องไม่เกิน 99"
        assert field_message({"type": "too_long", "ctx": {"max_length": 5}}) == ("ได้ไม่เกิน 5 รายการ")
        assert field_message({"type": "value_error", "ctx": {"error": ValueError("x y")}}) == (
            "x y"  # a validator's own words (translated where it raised them)
        )
        assert field_message({"type": "no_such_type"}) == "ค่านี้ไม่ถูกต้อง"
    with i18n.use_locale("de"):
        assert field_message({"type": "string_too_short", "ctx": {"min_length": 1}}) == (
            "Mindestens 1 Zeichen"
        )
    with i18n.use_locale("fr"):
        assert field_message({"type": "string_too_long", "ctx": {"max_length": 80}}) == (
            "Au plus 80 caractères"
        )
        assert field_message({"type": "enum", "ctx": {"expected": "'a' or 'b'"}}) == (
            "Choisissez parmi : 'a' or 'b'"
        )
