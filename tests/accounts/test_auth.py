from __future__ import annotations

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import AuthToken, Role, User
from liveshop.core.db import Database
from tests.support import MakeActor, assert_problem


async def _signup(client: httpx.AsyncClient, email: str = "ann@example.com") -> httpx.Response:
    return await client.post(
        "/api/v1/auth/signup",
        json={"email": email, "password": "s3cret-pass", "display_name": "Ann"},
    )


async def test_signup_login_me_logout(client: httpx.AsyncClient) -> None:
    resp = await _signup(client)
    assert resp.status_code == 201, resp.text
    assert resp.json()["roles"] == ["buyer"]

    login = await client.post(
        "/api/v1/auth/login", json={"email": "ANN@example.com", "password": "s3cret-pass"}
    )
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    assert "liveshop_session" in login.cookies

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ann@example.com"

    out = await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    again = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(again, 401, "invalid-token")


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await _signup(client)
    bad = await client.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": "wrong-pass"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "bob@example.com", "password": "wrong-pass"}
    )
    assert (
        assert_problem(bad, 401, "bad-credentials")["detail"]
        == assert_problem(unknown, 401, "bad-credentials")["detail"]
    )


async def test_duplicate_email_is_409_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert (await _signup(client)).status_code == 201
    assert_problem(await _signup(client, "Ann@Example.com"), 409, "email-taken")
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1


async def test_bad_signup_is_validation_problem(client: httpx.AsyncClient, db: Database) -> None:
    for body in (
        {"email": "not-an-email", "password": "s3cret-pass", "display_name": "A"},
        {"email": "a@example.com", "password": "short", "display_name": "A"},
        {"email": "a@example.com", "password": "s3cret-pass", "display_name": "x" * 81},
        {"email": "a@example.com", "password": "s3cret-pass", "display_name": "A", "role": "admin"},
    ):
        assert_problem(await client.post("/api/v1/auth/signup", json=body), 422, "validation-error")
    malformed = await client.post(
        "/api/v1/auth/signup", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 422, "validation-error")
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0


async def test_api_tokens_can_be_listed_and_revoked(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    ann = await make_actor(Role.BUYER)
    created = await client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=ann.headers)
    assert created.status_code == 201
    new = created.json()
    listed = await client.get("/api/v1/auth/tokens", headers=ann.headers)
    assert {t["name"] for t in listed.json()} == {"test", "ci"}

    # Someone else cannot revoke Ann's token: it does not exist for them.
    bob = await make_actor(Role.BUYER)
    other = await client.delete(f"/api/v1/auth/tokens/{new['token_id']}", headers=bob.headers)
    assert_problem(other, 404, "token-not-found")

    revoked = await client.delete(f"/api/v1/auth/tokens/{new['token_id']}", headers=ann.headers)
    assert revoked.status_code == 204
    use = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['token']}"})
    assert_problem(use, 401, "invalid-token")


async def test_tokens_are_stored_hashed(
    client: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    ann = await make_actor(Role.BUYER)
    async with db.session() as s:
        hashes = (await s.scalars(select(AuthToken.token_hash))).all()
    assert ann.token not in hashes
    assert all(len(h) == 64 for h in hashes)


async def test_cookie_session_needs_csrf_for_writes(client: httpx.AsyncClient) -> None:
    await _signup(client)
    login = await client.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": "s3cret-pass"}
    )
    csrf = login.json()["csrf_token"]
    # The client keeps the session cookie: reads work without the header...
    assert (await client.get("/api/v1/me")).status_code == 200
    # ...writes without it are refused, with it they pass.
    refused = await client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert_problem(refused, 403, "csrf-failed")
    ok = await client.post(
        "/api/v1/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201
    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    client.cookies.clear()
    assert_problem(await client.get("/api/v1/me"), 401, "unauthenticated")


async def test_deactivated_user_loses_access(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    ann = await make_actor(Role.BUYER)
    resp = await client.patch(
        f"/api/v1/admin/users/{ann.id}", json={"is_active": False}, headers=admin.headers
    )
    assert resp.status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=ann.headers), 401, "invalid-token")
