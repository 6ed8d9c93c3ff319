"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from liveshop.accounts.models import Role


@dataclass
class Actor:
    """A signed-in user for tests: ``headers`` carry their bearer token."""

    id: int
    email: str
    token: str
    roles: frozenset[Role]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def assert_problem(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and problem type)."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    if code is not None:
        assert body["type"].endswith("/" + code), body
    return body


class MakeActor(Protocol):
    """The ``make_actor`` fixture: ``await make_actor(Role.SELLER)`` → a signed-in Actor."""

    async def __call__(self, *roles: Role, name: str | None = None) -> Actor: ...
