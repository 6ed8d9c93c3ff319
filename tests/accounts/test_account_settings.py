"""The account's own settings on both databases: the profile, and a password change that needs
the current password, signs out every other session (the one it came from stays), is
rate-limited, and refuses bad input without changing anything."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from tests.support import MakeActor, assert_problem
from tests.web.test_promotion_pages import signed_in

OLD = "correct horse battery"
NEW = "a brand new passphrase"


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    return resp


def _bearer(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


async def test_password_change_signs_out_other_sessions(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    user = await make_actor(Role.BUYER)
    here = _bearer(await _login(client, user.email, OLD))
    elsewhere = _bearer(await _login(client, user.email, OLD))

    # Bad input changes nothing.
    for body in (
        {"current_password": OLD, "new_password": "short"},
        {"current_password": OLD, "new_password": NEW, "admin": True},
        {"current_password": OLD, "new_password": "nul\x00nul-password"},
        {"current_password": OLD, "new_password": 12345678901},
        {"current_password": OLD, "new_password": NEW, "sign_out_api_tokens": "yes"},
    ):
        resp = await client.post("/api/v1/me/password", json=body, headers=here)
        assert_problem(resp, 422)
    wrong = await client.post(
        "/api/v1/me/password", json={"current_password": "nope", "new_password": NEW}, headers=here
    )
    assert_problem(wrong, 401, "bad-credentials")
    assert (await client.get("/api/v1/me", headers=elsewhere)).status_code == 200

    done = await client.post(
        "/api/v1/me/password", json={"current_password": OLD, "new_password": NEW}, headers=here
    )
    assert done.status_code == 200, done.text
    assert done.json()["signed_out_tokens"] == 1  # the other session; the API token stays
    assert (await client.get("/api/v1/me", headers=here)).status_code == 200
    assert (await client.get("/api/v1/me", headers=elsewhere)).status_code == 401
    assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
    assert_problem(await _login(client, user.email, OLD), 401, "bad-credentials")
    assert (await _login(client, user.email, NEW)).status_code == 200

    # With sign_out_api_tokens the API tokens go too.
    again = await client.post(
        "/api/v1/me/password",
        json={"current_password": NEW, "new_password": OLD, "sign_out_api_tokens": True},
        headers=here,
    )
    assert again.status_code == 200 and again.json()["signed_out_tokens"] >= 2
    assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 401


async def test_wrong_current_passwords_are_rate_limited(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    user = await make_actor(Role.BUYER)
    for _ in range(5):
        resp = await client.post(
            "/api/v1/me/password",
            json={"current_password": "guess", "new_password": NEW},
            headers=user.headers,
        )
        assert_problem(resp, 401, "bad-credentials")
    sixth = await client.post(
        "/api/v1/me/password",
        json={"current_password": OLD, "new_password": NEW},
        headers=user.headers,
    )
    assert_problem(sixth, 429, "rate-limited")
    assert "retry-after" in sixth.headers
    assert (await _login(client, user.email, OLD)).status_code == 200  # unchanged


async def test_profile_and_password_from_the_account_page(app: Any, make_actor: MakeActor) -> None:
    user = await make_actor(Role.CREATOR)
    async with signed_in(app, user) as (c, token):
        page = await c.get("/account")
        for link in ('href="/statements"', 'href="/ledger"', 'href="#api-tokens"'):
            assert link in page.text
        saved = await c.post(
            "/account/profile",
            data={"csrf_token": token, "display_name": "  Glow Ann  "},
            follow_redirects=True,
        )
        assert "Your details are saved." in saved.text and 'value="Glow Ann"' in saved.text
        blank = await c.post(
            "/account/profile",
            data={"csrf_token": token, "display_name": " "},
            follow_redirects=True,
        )
        assert "Give the name others see." in blank.text
        wrong = await c.post(
            "/account/password",
            data={"csrf_token": token, "current_password": "nope", "new_password": NEW},
            follow_redirects=True,
        )
        assert "Your current password is not that." in wrong.text
        changed = await c.post(
            "/account/password",
            data={"csrf_token": token, "current_password": OLD, "new_password": NEW},
            follow_redirects=True,
        )
        assert "Password changed." in changed.text
        assert (await c.get("/account")).status_code == 200  # this browser stays signed in
