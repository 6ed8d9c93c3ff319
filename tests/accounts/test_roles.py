from __future__ import annotations

from typing import Any

import httpx
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from liveshop.accounts.deps import ACCESS_MARK
from liveshop.accounts.models import Role
from tests.support import MakeActor, assert_problem


def _declared_access(dependant: Any) -> set[str]:
    found: set[str] = set()
    for dep in dependant.dependencies:
        mark = getattr(dep.call, ACCESS_MARK, None)
        if mark:
            found.add(mark)
        found |= _declared_access(dep)
    return found


def test_every_endpoint_declares_who_may_call_it(app: Any) -> None:
    undeclared = [
        f"{sorted(getattr(r, 'methods', []) or [])} {r.path}"
        for r in iter_route_contexts(app.routes)  # included routers' routes too
        if isinstance(r.original_route, APIRoute | APIWebSocketRoute)
        and not _declared_access(r.dependant)
    ]
    assert undeclared == []


async def test_admin_endpoints_refuse_everyone_else(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    assert_problem(await client.get("/api/v1/admin/users"), 401, "unauthenticated")
    for role in (Role.BUYER, Role.SELLER, Role.CREATOR, Role.AGENCY, Role.MODERATOR):
        actor = await make_actor(role)
        resp = await client.get("/api/v1/admin/users", headers=actor.headers)
        assert_problem(resp, 403, "wrong-role")


async def test_admin_grants_roles(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    admin = await make_actor(Role.ADMIN)
    ann = await make_actor(Role.BUYER)
    resp = await client.put(
        f"/api/v1/admin/users/{ann.id}/roles",
        json={"roles": ["buyer", "creator"]},
        headers=admin.headers,
    )
    assert resp.status_code == 200
    assert resp.json()["roles"] == ["buyer", "creator"]
    me = await client.get("/api/v1/me", headers=ann.headers)
    assert me.json()["roles"] == ["buyer", "creator"]

    listed = await client.get("/api/v1/admin/users?role=creator", headers=admin.headers)
    assert [u["id"] for u in listed.json()["items"]] == [ann.id]

    bad = await client.put(
        f"/api/v1/admin/users/{ann.id}/roles", json={"roles": ["wizard"]}, headers=admin.headers
    )
    assert_problem(bad, 422, "validation-error")
    self_demote = await client.put(
        f"/api/v1/admin/users/{admin.id}/roles", json={"roles": ["buyer"]}, headers=admin.headers
    )
    assert_problem(self_demote, 409, "self-demotion")


async def test_admin_creates_user_with_roles(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    resp = await client.post(
        "/api/v1/admin/users",
        json={
            "email": "shop@example.com",
            "password": "s3cret-pass",
            "display_name": "Shop",
            "roles": ["seller"],
        },
        headers=admin.headers,
    )
    assert resp.status_code == 201
    login = await client.post(
        "/api/v1/auth/login", json={"email": "shop@example.com", "password": "s3cret-pass"}
    )
    assert login.json()["user"]["roles"] == ["seller"]
