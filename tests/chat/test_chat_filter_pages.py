"""The blocked-words pages over HTTP: a creator's (``/studio/chat-filter``, also for the
moderators of all their shows) and the admins' (``/admin/chat-filter``): what they show,
adding and removing words and switching "hold links" with the page's form CSRF, bad input
coming back as a message with nothing changed, and who may open them."""

from __future__ import annotations

import html

import httpx

from liveshop.accounts.models import Role
from liveshop.chat import filters
from liveshop.core.db import Database
from tests.support import MakeActor
from tests.web.test_pages import csrf_of, page_login

STUDIO = "/studio/chat-filter"
ADMIN = "/admin/chat-filter"


async def _terms(db: Database, creator_id: int) -> list[str]:
    async with db.session() as s:
        return [t.term for t in (await filters.creator_filter(s, creator_id)).terms]


async def test_a_creator_manages_blocked_words_on_the_page(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator = await make_actor(Role.CREATOR, name="Mia")
    await page_login(client, creator)
    assert f'href="{STUDIO}"' in (await client.get("/studio")).text
    page = await client.get(STUDIO)
    assert page.status_code == 200, page.text
    assert "No blocked words yet." in page.text and "How words are matched" in page.text
    form = {"csrf_token": csrf_of(page), "creator": str(creator.id)}

    forged = await client.post(f"{STUDIO}/terms", data={**form, "csrf_token": "f" * 40})
    assert forged.status_code == 403
    added = await client.post(f"{STUDIO}/terms", data={**form, "terms": "Scam, fake\n<b>x</b>"})
    assert added.status_code == 303 and added.headers["location"] == f"{STUDIO}#terms"
    assert await _terms(db, creator.id) == ["<b>x</b>", "fake", "scam"]
    shown = await client.get(STUDIO)
    text = html.unescape(shown.text)
    assert "Now held: “scam”, “fake”, “<b>x</b>”." in text
    assert "&lt;b&gt;x&lt;/b&gt;" in shown.text and "<b>x</b></span>" not in shown.text
    assert 'data-term="scam"' in shown.text and "3 of 1000" in shown.text

    # Bad input: back to the page with the reason; nothing added.
    for bad, why in (
        ("ok, 1234", "needs at least one letter"),
        ("x" * 51, "at most 50 characters"),
        (" , ", "at least one term"),
    ):
        refused = await client.post(
            f"{STUDIO}/terms", data={**form, "terms": bad}, headers={"referer": STUDIO}
        )
        assert refused.status_code == 303 and refused.headers["location"] == STUDIO
        assert why in html.unescape((await client.get(STUDIO)).text)
    assert await _terms(db, creator.id) == ["<b>x</b>", "fake", "scam"]

    async with db.session() as s:
        scam = next(
            t.id for t in (await filters.creator_filter(s, creator.id)).terms if t.term == "scam"
        )
    removed = await client.post(f"{STUDIO}/terms/{scam}/delete", data=form)
    assert removed.status_code == 303
    assert await _terms(db, creator.id) == ["<b>x</b>", "fake"]
    assert "“scam” is no longer held." in html.unescape((await client.get(STUDIO)).text)

    on = await client.post(f"{STUDIO}/settings", data={**form, "hold_links": "true"})
    assert on.status_code == 303 and on.headers["location"] == f"{STUDIO}#links"
    assert 'name="hold_links" value="true" checked' in (await client.get(STUDIO)).text
    off = await client.post(f"{STUDIO}/settings", data=form)
    assert off.status_code == 303
    async with db.session() as s:
        assert (await filters.creator_filter(s, creator.id)).hold_links is False


async def test_who_may_open_the_pages(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator = await make_actor(Role.CREATOR, name="Mia")
    helper, buyer = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    other, admin = await make_actor(Role.CREATOR), await make_actor(Role.ADMIN)
    made = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert made.status_code == 201
    async with db.session() as s:
        await filters.add_creator_terms(s, creator.id, ["scam"], actor_id=creator.id)

    nobody = await client.get(STUDIO)
    assert nobody.status_code == 303 and nobody.headers["location"].startswith("/login")

    # The creator's moderator of all shows: their list is the one shown, and they add to it.
    await page_login(client, helper)
    page = await client.get(STUDIO)
    assert page.status_code == 200 and "Blocked words · Mia" in page.text
    assert 'data-term="scam"' in page.text
    form = {"csrf_token": csrf_of(page), "creator": str(creator.id), "terms": "fraud"}
    added = await client.post(f"{STUDIO}/terms", data=form)
    assert added.status_code == 303 and added.headers["location"] == (
        f"{STUDIO}?creator={creator.id}#terms"
    )
    assert await _terms(db, creator.id) == ["fraud", "scam"]

    # Anyone else: the 403 page (another creator sees only their own list).
    for who in (buyer, other, admin):
        client.cookies.clear()
        await page_login(client, who)
        assert (await client.get(STUDIO, params={"creator": creator.id})).status_code == 403
        if who is buyer:
            assert (await client.get(STUDIO)).status_code == 403
        refused = await client.post(
            f"{STUDIO}/terms",
            data={
                "csrf_token": csrf_of(await client.get("/")),
                "creator": creator.id,
                "terms": "x",
            },
        )
        assert refused.status_code in (303, 403)
    assert await _terms(db, creator.id) == ["fraud", "scam"]
    client.cookies.clear()
    await page_login(client, other)
    assert "No blocked words yet." in (await client.get(STUDIO)).text

    # The admins' page is theirs alone.
    for who in (creator, helper):
        client.cookies.clear()
        await page_login(client, who)
        assert (await client.get(ADMIN)).status_code == 403


async def test_the_admin_page(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    admin = await make_actor(Role.ADMIN)
    await page_login(client, admin)
    page = await client.get(ADMIN)
    assert page.status_code == 200, page.text
    assert 'aria-current="page">Blocked words</a>' in page.text
    assert '<option value="market:GB">' in page.text and '<option value="language:en">' in page.text
    token = csrf_of(page)
    for scope, words in (("", "everywhere"), ("market:GB", "uk only"), ("language:vi", "vi only")):
        done = await client.post(
            f"{ADMIN}/terms", data={"csrf_token": token, "terms": words, "scope": scope}
        )
        assert done.status_code == 303, done.text
    bad = await client.post(
        f"{ADMIN}/terms",
        data={"csrf_token": token, "terms": "x", "scope": "market:ZZ"},
        headers={"referer": ADMIN},
    )
    assert bad.status_code == 303
    shown = await client.get(ADMIN)
    assert "there is no market" in html.unescape(shown.text)
    assert "Language: vi" in shown.text and "Every market" in shown.text
    async with db.session() as s:
        listed = await filters.platform_filter(s)
    assert sorted(t.term for t in listed.terms) == ["everywhere", "uk only", "vi only"]

    on = await client.post(
        f"{ADMIN}/settings", data={"csrf_token": token, "market": "VN", "hold_links": "true"}
    )
    assert on.status_code == 303
    async with db.session() as s:
        assert (await filters.platform_filter(s)).hold_links_markets == ["VN"]
    gone = next(t.id for t in listed.terms if t.term == "uk only")
    assert (
        await client.post(f"{ADMIN}/terms/{gone}/delete", data={"csrf_token": token})
    ).status_code == 303
    async with db.session() as s:
        assert len((await filters.platform_filter(s)).terms) == 2


async def test_the_moderation_log_page_shows_what_the_filter_held(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    from liveshop.chat import held_comments
    from liveshop.chat.filter_rules import Hit
    from tests.live.helpers import new_session

    creator, viewer = await make_actor(Role.CREATOR, name="Mia"), await make_actor(name="Duc")
    sid = (await new_session(client, creator, [], start=True))["id"]
    async with db.session() as s:
        await held_comments.post_comments(
            s,
            [(sid, viewer.id, "total scam"), (sid, viewer.id, "call 0912 345 678")],
            [Hit("creator_term", "scam"), Hit("link", "phone")],
        )
    await page_login(client, creator)
    page = html.unescape((await client.get("/studio/moderation")).text)
    assert page.count("Held a comment") == 2 and page.count("Automatic filter") >= 2
    assert "· blocked term “scam”" in page and "· a link (phone)" in page
    assert "Unhide the comment by Duc 2" in page and "· Creator" not in page
