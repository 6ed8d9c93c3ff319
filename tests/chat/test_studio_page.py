"""The studio's moderation over HTTP, as the page's script does it (session cookie and the
X-CSRF-Token header), and the muted-viewers list the studio page shows."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.live import activity
from tests.live.helpers import new_session
from tests.support import MakeActor, assert_problem
from tests.web.test_pages import page_login


async def test_the_studio_mutes_hides_and_lists_with_its_cookie(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    sid = (await new_session(client, creator, [], start=True))["id"]
    async with db.session() as s:
        said = await activity.post_comment(s, session_id=sid, user_id=buyer.id, text="spam")
    await page_login(client, creator)
    api = f"/api/v1/live/sessions/{sid}"
    csrf = {"X-CSRF-Token": client.cookies["liveshop_csrf"]}

    page = await client.get(f"/studio/sessions/{sid}")
    assert page.status_code == 200
    assert "Muted viewers" in page.text and 'data-region="no-mutes">' in page.text

    body = {"user_id": buyer.id, "duration_minutes": 60, "reason": "links"}
    forged = await client.post(f"{api}/mutes", json=body)  # no header: a cross-site form
    assert_problem(forged, 403, "csrf-failed")
    assert_problem(await client.post(f"{api}/comments/{said}/hide"), 403, "csrf-failed")
    assert (await client.post(f"{api}/mutes", json=body, headers=csrf)).status_code == 201
    assert (await client.post(f"{api}/comments/{said}/hide", headers=csrf)).status_code == 200

    page = await client.get(f"/studio/sessions/{sid}")
    name = (await client.get(f"{api}/mutes", headers=csrf)).json()[0]["display_name"]
    assert f'aria-label="Unmute {name}"' in page.text and "links" in page.text
    assert 'data-region="no-mutes" hidden' in page.text

    assert (await client.delete(f"{api}/mutes/{buyer.id}", headers=csrf)).status_code == 204
    page = await client.get(f"/studio/sessions/{sid}")
    assert f"Unmute {name}" not in page.text
