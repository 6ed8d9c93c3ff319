"""The moderator's screen, the moderators page and Follow shop, as pages: who may open them,
appointing by e-mail or name (and bad input), following a shop from a product page."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.live.helpers import new_session
from tests.support import MakeActor
from tests.web.test_pages import csrf_of, make_product, page_login


async def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_moderators_and_the_moderator_screen(
    app: Any, client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, helper = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    outsider = await make_actor(Role.BUYER)
    sid = int((await new_session(client, creator, [], start=True))["id"])
    screen = f"/studio/sessions/{sid}/moderate"
    async with await _client(app) as owner:
        await page_login(owner, creator)
        page = await owner.get("/studio/moderators")
        assert page.status_code == 200 and "Appoint a moderator" in page.text
        token = csrf_of(page)
        back = {"referer": "http://testserver/studio/moderators"}
        for who in ("nobody@example.com", "No Such Name", "", "x" * 300, creator.email):
            refused = await owner.post(
                "/studio/moderators", data={"csrf_token": token, "who": who}, headers=back
            )
            assert refused.status_code in (303, 422), refused.text
            assert refused.status_code == 422 or refused.headers["location"].startswith(
                "/studio/moderators"
            )
        bad_show = await owner.post(
            "/studio/moderators",
            data={"csrf_token": token, "who": helper.email, "show": "abc"},
            headers=back,
        )
        assert bad_show.status_code in (303, 422)
        listed = (await client.get("/api/v1/live/moderators", headers=creator.headers)).json()
        assert listed == []
        made = await owner.post(
            "/studio/moderators",
            data={"csrf_token": token, "who": helper.email.upper(), "show": str(sid)},
            headers=back,
        )
        assert made.status_code == 303, made.text
        listed = (await client.get("/api/v1/live/moderators", headers=creator.headers)).json()
        assert [(m["user_id"], m["session_id"]) for m in listed] == [(helper.id, sid)]
        mine = await owner.get(screen)
        assert mine.status_code == 200 and "Incoming comments" in mine.text
    async with await _client(app) as mod:
        await page_login(mod, helper)
        assert (await mod.get(screen)).status_code == 200
        assert (await mod.get("/studio/moderators")).status_code == 403  # creators only
    async with await _client(app) as other:
        await page_login(other, outsider)
        assert (await other.get(screen)).status_code == 403
    async with await _client(app) as anonymous:
        gone = await anonymous.get(screen)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_follow_a_shop_from_its_product_page(
    app: Any, client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller, fan = await make_actor(Role.SELLER), await make_actor(Role.BUYER)
    product_id, _ = await make_product(db, seller, "follow-me")
    async with await _client(app) as browser:
        await page_login(browser, fan)
        page = await browser.get(f"/p/{product_id}")
        assert "Follow shop" in page.text and "0 followers" in page.text
        back = {"referer": f"http://testserver/p/{product_id}"}
        shop_id = int(page.text.split('action="/shops/')[1].split("/")[0])
        followed = await browser.post(
            f"/shops/{shop_id}/follow", data={"csrf_token": csrf_of(page)}, headers=back
        )
        assert followed.status_code == 303 and followed.headers["location"] == f"/p/{product_id}"
        mine = (await client.get("/api/v1/me/follows", headers=fan.headers)).json()
        assert [s["shop_id"] for s in mine["shops"]] == [shop_id]
        again = await browser.get(f"/p/{product_id}")
        assert "Following" in again.text and "1 follower" in again.text
        await browser.post(
            f"/shops/{shop_id}/follow", data={"csrf_token": csrf_of(again)}, headers=back
        )
        mine = (await client.get("/api/v1/me/follows", headers=fan.headers)).json()
        assert mine["shops"] == []
        missing = await browser.post(
            "/shops/424242/follow", data={"csrf_token": csrf_of(again)}, headers=back
        )
        assert missing.status_code in (303, 404)
