"""The moderation log page (``/studio/moderation``) over HTTP: who may open it, what it
shows, its filters and chart, and Unhide / Unmute from it with the page's form CSRF."""

from __future__ import annotations

import html
import re

import httpx

from liveshop.accounts.models import Role
from liveshop.chat import service
from liveshop.core.db import Database
from liveshop.live import activity
from tests.live.helpers import new_session
from tests.support import MakeActor
from tests.web.test_pages import csrf_of, page_login

URL = "/api/v1/live/sessions"
PAGE = "/studio/moderation"
ROW = re.compile(r'<tr id="entry-(\d+)" data-action="(\w+)">')


async def test_the_page_shows_filters_and_undoes(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator = await make_actor(Role.CREATOR, name="Mia")
    viewer = await make_actor(Role.BUYER, name="Duc")
    sid = (await new_session(client, creator, [], start=True))["id"]
    other = (await new_session(client, creator, [], start=True))["id"]
    async with db.session() as s:
        spam = await activity.post_comment(s, session_id=sid, user_id=viewer.id, text="<b>spam</b>")
    hid = await client.post(f"{URL}/{sid}/comments/{spam}/hide", headers=creator.headers)
    assert hid.status_code == 200
    body = {"user_id": viewer.id, "duration_minutes": None, "reason": "links"}
    muted = await client.post(f"{URL}/{other}/mutes", json=body, headers=creator.headers)
    assert muted.status_code == 201

    await page_login(client, creator)
    studio = await client.get(f"/studio/sessions/{sid}")
    assert f'href="{PAGE}?session={sid}"' in studio.text
    assert f'href="{PAGE}"' in (await client.get("/studio")).text

    page = await client.get(PAGE)
    assert page.status_code == 200, page.text
    assert [a for _, a in ROW.findall(page.text)] == ["mute", "hide"]
    assert "&lt;b&gt;spam&lt;/b&gt;" in page.text and "<b>spam</b>" not in page.text
    assert "Duc 2" in page.text and "Mia 1" in page.text and "· Creator" in page.text
    assert "Until unmuted" in page.text and "“links”" in page.text
    assert 'aria-label="Unhide the comment by Duc 2"' in page.text
    assert 'aria-label="Unmute Duc 2"' in page.text
    assert '<svg class="chart"' in page.text and "per day, last 14 days" in page.text

    one = await client.get(PAGE, params={"session": sid})
    assert [a for _, a in ROW.findall(one.text)] == ["hide"]
    assert "during the show" in one.text and f'<option value="{sid}" selected>' in one.text
    mutes = await client.get(PAGE, params={"action": "mute"})
    assert [a for _, a in ROW.findall(mutes.text)] == ["mute"]
    none = await client.get(PAGE, params={"session": sid, "action": "unmute"})
    assert ROW.findall(none.text) == [] and "Nothing moderated of this kind" in none.text
    everything = await client.get(PAGE, params={"session": "", "action": ""})
    assert len(ROW.findall(everything.text)) == 2
    for bad in ({"session": "abc"}, {"action": "delete"}, {"page": "0"}):
        assert (await client.get(PAGE, params=bad)).status_code == 422

    # Unhide from the log: back where it was, the comment is in the room again.
    ((hide_id, _),) = [r for r in ROW.findall(one.text)]
    back = f"{PAGE}?session={sid}"
    form = {"csrf_token": csrf_of(one), "back": back}
    forged = await client.post(f"{PAGE}/{hide_id}/undo", data={**form, "csrf_token": "f" * 40})
    assert forged.status_code == 403
    done = await client.post(f"{PAGE}/{hide_id}/undo", data=form)
    assert done.status_code == 303 and done.headers["location"] == back
    async with db.session() as s:
        assert [c.id for c in await activity.recent_comments(s, sid)] == [spam]
    shown = await client.get(back)
    assert "comment is visible again" in html.unescape(shown.text)
    assert [a for _, a in ROW.findall(shown.text)] == ["unhide", "hide"]
    assert "Unhide the comment" not in shown.text

    # Unmute from the log; a second try finds nothing to undo and says so on the page.
    mute_id = next(i for i, a in ROW.findall(page.text) if a == "mute")
    lifted = await client.post(
        f"{PAGE}/{mute_id}/undo", data={**form, "back": "https://evil.example/"}
    )
    assert lifted.status_code == 303 and lifted.headers["location"] == PAGE
    async with db.session() as s:
        assert await service.muted_users(s, creator.id) == {}
    again = await client.post(
        f"{PAGE}/{mute_id}/undo", data=form, headers={"referer": f"http://testserver{PAGE}"}
    )
    assert again.status_code == 303 and again.headers["location"] == PAGE
    assert "no longer in force" in html.unescape((await client.get(PAGE)).text)


async def test_who_may_open_the_page(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, viewer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    stranger, admin = await make_actor(Role.CREATOR), await make_actor(Role.ADMIN)
    platform_mod = await make_actor(Role.MODERATOR)
    sid = (await new_session(client, creator, [], start=True))["id"]
    async with db.session() as s:
        said = await activity.post_comment(s, session_id=sid, user_id=viewer.id, text="hello")
    hid = await client.post(f"{URL}/{sid}/comments/{said}/hide", headers=creator.headers)
    assert hid.status_code == 200

    nobody = await client.get(PAGE, params={"session": sid})
    assert nobody.status_code == 303
    assert nobody.headers["location"] == f"/login?next=%2Fstudio%2Fmoderation%3Fsession%3D{sid}"

    await page_login(client, viewer)  # neither creator nor anyone's moderator
    assert (await client.get(PAGE)).status_code == 403
    client.cookies.clear()
    await page_login(client, stranger)  # a creator, not of this show
    assert (await client.get(PAGE, params={"session": sid})).status_code == 403
    assert ROW.findall((await client.get(PAGE)).text) == []
    assert (await client.get(PAGE, params={"session": 424242})).status_code == 404
    for everyone in (admin, platform_mod):
        client.cookies.clear()
        await page_login(client, everyone)
        page = await client.get(PAGE, params={"session": sid})
        assert page.status_code == 200 and len(ROW.findall(page.text)) == 1
    assert 'href="/studio/moderation" aria-current="page">Moderation</a>' in page.text


def test_the_chart_buckets_a_show_into_at_most_60_bars() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from liveshop.live.models import LiveSession, SessionStatus
    from liveshop.web.pages_moderation import session_timeline

    start = datetime(2025, 3, 14, 18, 0, 30, tzinfo=UTC)
    show = LiveSession(
        status=SessionStatus.ENDED,
        planned_start=start,
        actual_start=start,
        actual_end=start + timedelta(minutes=90),
    )
    times = [start + timedelta(minutes=m) for m in (0, 1, 1.5, 45, 89.9)]
    timeline = session_timeline(times, show, ZoneInfo("Europe/London"))
    assert timeline.bucket_minutes == 2 and len(timeline.bars) == 46  # 18:00 … 19:30
    assert [b.value for b in timeline.bars if b.value] == [2, 1, 1, 1]
    assert timeline.bars[0].label == "18:00" and timeline.bars[0].hint == "18:00–18:02: 2 actions"
    assert sum(b.value for b in timeline.bars) == len(times)
    short = session_timeline(
        times[:2],
        LiveSession(
            status=SessionStatus.LIVE,
            planned_start=start,
            actual_start=start,
            actual_end=start + timedelta(minutes=5),
        ),
        ZoneInfo("Asia/Jakarta"),
    )
    assert short.bucket_minutes == 1 and short.bars[0].label == "01:00"
