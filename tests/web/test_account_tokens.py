"""API tokens on the account page, on both databases: create one (shown once, and it works),
see it listed, revoke it (it stops working); another user cannot revoke it."""

from __future__ import annotations

import re
from typing import Any

from liveshop.accounts.models import Role
from tests.support import MakeActor
from tests.web.test_promotion_pages import signed_in


async def test_a_user_creates_and_revokes_an_api_token(app: Any, make_actor: MakeActor) -> None:
    seller, other = await make_actor(Role.SELLER), await make_actor(Role.BUYER)
    async with signed_in(app, seller) as (c, token):
        made = await c.post("/account/tokens", data={"csrf_token": token, "name": "Stock sync"})
        assert made.status_code == 200
        found = re.search(r'class="mono token-value">([^<]+)<', made.text)
        assert found, made.text[-2000:]
        bearer = {"Authorization": f"Bearer {found.group(1)}"}
        c.cookies.clear()
        me = await c.get("/api/v1/me/shops", headers=bearer)
        assert me.status_code == 200, me.text
    async with signed_in(app, seller) as (c, token):
        page = await c.get("/account")
        assert "Stock sync" in page.text and found.group(1) not in page.text  # shown once
        ids = re.findall(r"/account/tokens/(\d+)/revoke", page.text)
        assert len(ids) == 2  # the test's own and the new one
        target = ids[-1]
    async with signed_in(app, other) as (o, token):
        refused = await o.post(f"/account/tokens/{target}/revoke", data={"csrf_token": token})
        assert refused.status_code == 404
    async with signed_in(app, seller) as (c, token):
        gone = await c.post(f"/account/tokens/{target}/revoke", data={"csrf_token": token})
        assert gone.status_code == 303
        c.cookies.clear()
        assert (await c.get("/api/v1/me/shops", headers=bearer)).status_code == 401
