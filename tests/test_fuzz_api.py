"""A signed-in schemathesis run over every operation of the OpenAPI (issue 15).

Every operation is called with generated requests as a buyer, a seller, a creator and an
admin (logout and token revocation left out: they would sign the fuzzer out), against a
real server on SQLite and on PostgreSQL. Asserted: no 5xx, and every response — problems
included — matches the schema (status code, content type, body). A few examples per
operation and role keep it inside ``make test``; ``make fuzz`` runs more
(``LIVESHOP_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.live.conftest import Serve, live_app, serve
from tests.support import MakeActor

__all__ = ["serve"]

EXAMPLES = int(os.environ.get("LIVESHOP_FUZZ_EXAMPLES", "2"))
ROLES = (Role.BUYER, Role.SELLER, Role.CREATOR, Role.ADMIN)
BYSTANDERS = 20
LEFT_OUT = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/auth/tokens/{token_id}")}
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz(schema: Any, base: str, headers: dict[str, dict[str, str]]) -> list[str]:
    failures: list[str] = []
    sessions = {role: requests.Session() for role in headers}
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in LEFT_OUT:
            continue
        strategy = operation.as_strategy()  # built once, drawn from as each role
        for role in headers:
            failures.extend(
                _fuzz_one(operation, strategy, role, base, headers[role], sessions[role])
            )
    return failures


def _fuzz_one(
    operation: Any,
    strategy: Any,
    role: str,
    base: str,
    headers: dict[str, str],
    session: requests.Session,
) -> list[str]:
    seen: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: Any) -> None:
        if seen:
            return  # one failure per operation and role is enough to read
        response = case.call(base_url=base, session=session, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:
            seen.append(
                f"{operation.method.upper()} {operation.path} as {role}: "
                f"{type(exc).__name__}: {str(exc)[:600]}"
            )

    call()
    return seen


async def test_every_operation_signed_in_as_each_role(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = (await serve(app)).replace("ws://", "http://")
    for _ in range(BYSTANDERS):  # the small ids an admin's generated requests hit first
        await make_actor(Role.BUYER)
    headers = {}
    for role in ROLES:
        actor = await make_actor(role)
        headers[str(role)] = actor.headers
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures = await asyncio.to_thread(_fuzz, schema, base, headers)
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
