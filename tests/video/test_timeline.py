"""The shoppable replay timeline: pins, flash deals and purchase spikes at their offsets,
public once the session is over, and always at the normal price."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.realtime.publish import room_publisher
from liveshop.video.hls import Segment, replay_offset_ms
from liveshop.video.models import TimelineKind
from liveshop.video.timeline import AT, add_entry, realign
from tests.support import MakeActor, assert_problem
from tests.video.conftest import nginx_calls
from tests.video.helpers import eventually, new_key, product, session


async def timeline(client: httpx.AsyncClient, sid: int, **kw: Any) -> httpx.Response:
    return await client.get(f"/api/v1/video/{sid}/timeline", **kw)


async def test_the_replay_knows_what_was_on_screen_and_sells_at_the_normal_price(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    serum = await product(vclient, seller, "glow", price=1899)
    toner = await product(vclient, seller, "tone", price=1299)
    sid = (await session(vclient, creator, [serum, toner], start=True))["id"]
    host = creator.headers

    # Pinned in the studio before the encoder connects: on screen from the first frame.
    pin = await vclient.post(
        f"/api/v1/live/sessions/{sid}/pin", json={"product_id": serum}, headers=host
    )
    assert pin.status_code == 200
    key = await new_key(vclient, creator)
    assert (await nginx_calls(vclient, "publish", key)).status_code == 302

    pin = await vclient.post(
        f"/api/v1/live/sessions/{sid}/pin", json={"product_id": toner}, headers=host
    )
    assert pin.status_code == 200
    publisher = room_publisher(video_app)
    await publisher.deal_started(
        sid, deal_id=5, product_id=toner, sku_id=1, price_minor=777, currency="GBP",
        units=20, ends_at=utcnow() + timedelta(minutes=5), regular_price_minor=1299,
    )  # fmt: skip
    for _ in range(3):
        await publisher.purchase(sid, product_id=toner, title="Tone serum", city="Leeds")
    await publisher.deal_ended(sid, deal_id=5, reason="sold_out", sold=20)
    assert (
        await vclient.post(f"/api/v1/live/sessions/{sid}/unpin", headers=host)
    ).status_code == 200

    async def recorded(n: int) -> bool:
        resp = await timeline(vclient, sid, headers=host)
        return len(resp.json()["entries"]) >= n

    await eventually(lambda: recorded(5))  # pin, pin, deal start, deal end, unpin

    # While live: the hosts only.
    assert_problem(await timeline(vclient, sid), 401, "unauthenticated")
    stranger = await make_actor(Role.CREATOR)
    assert_problem(await timeline(vclient, sid, headers=stranger.headers), 403, "not-room-host")

    assert (await vclient.post(f"/api/v1/live/sessions/{sid}/end", headers=host)).status_code == 200

    async def finished() -> bool:
        return (await vclient.get(f"/api/v1/video/{sid}")).json()["state"] == "ended"

    await eventually(finished)
    resp = await timeline(vclient, sid)  # public now
    assert resp.status_code == 200, resp.text
    body = resp.json()
    entries = body["entries"]
    offsets = [e["offset_ms"] for e in entries]
    assert offsets == sorted(offsets) and offsets[0] == 0
    by_kind = {e["kind"]: e for e in entries}
    spike = by_kind["purchase_spike"]  # written when its window closes, placed where it began
    assert [(e["kind"], e["product_id"]) for e in entries if e is not spike] == [
        ("pin", serum),
        ("pin", toner),
        ("deal_started", toner),
        ("deal_ended", toner),
        ("unpin", None),
    ]
    assert by_kind["deal_started"]["offset_ms"] <= spike["offset_ms"]
    assert spike["offset_ms"] <= by_kind["deal_ended"]["offset_ms"]
    assert spike["data"] == {"units": 3, "products": [{"product_id": toner, "units": 3}]}
    assert by_kind["deal_ended"]["data"]["reason"] == "sold_out"

    # The products to show and buy, at their normal prices; no flash-deal price anywhere.
    assert {p["product_id"]: p["price_minor"] for p in body["products"]} == {
        serum: 1899,
        toner: 1299,
    }
    assert all(p["url"] == f"/p/{p['product_id']}" for p in body["products"])

    # The deal's price (777) appears nowhere: not as a price, nor in any entry's data (a
    # substring test of the whole body also matched timestamps' microseconds now and then).
    def numbers(value: object) -> list[object]:
        if isinstance(value, dict):
            return [n for v in value.values() for n in numbers(v)]
        if isinstance(value, list):
            return [n for v in value for n in numbers(v)]
        return [value]

    assert 777 not in numbers(body) and "£7.77" not in numbers(body)


async def test_timeline_of_unknown_or_unstreamed_sessions(
    vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    assert_problem(await timeline(vclient, 999_999), 404, "live-session-not-found")
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(vclient, creator, [await product(vclient, seller, "glow")]))["id"]
    own = await timeline(vclient, sid, headers=creator.headers)
    assert (
        own.status_code == 200 and own.json()["entries"] == [] and own.json()["replay_url"] is None
    )


def test_replay_offsets_count_from_the_first_picture_across_reconnects() -> None:
    """Segments are named by the wall time their picture arrived: 3 s of audio-only start
    never reached the replay, and an 8 s gap between two publishes is not in it either."""
    t0 = 1_780_000_000_000
    segs = [
        Segment(f"{t0 + 3000}.ts", 2.0),
        Segment(f"{t0 + 5000}.ts", 2.0),
        Segment(f"{t0 + 15000}.ts", 2.0, discontinuity=True),  # the encoder came back
    ]
    assert replay_offset_ms(segs, t0) == 0  # pinned at publish, before the first picture
    assert replay_offset_ms(segs, t0 + 3500) == 500
    assert replay_offset_ms(segs, t0 + 6000) == 3000
    assert replay_offset_ms(segs, t0 + 10_000) == 4000  # in the gap: where the picture resumes
    assert replay_offset_ms(segs, t0 + 16_000) == 5000
    assert replay_offset_ms(segs, t0 + 99_000) == 6000  # after the end: the end
    assert replay_offset_ms([Segment("12.ts", 2.0)], t0) is None  # names without a time


async def test_realign_moves_recorded_chips_onto_the_replay_timeline(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(vclient, creator, [await product(vclient, seller, "glow")]))["id"]
    t0 = 1_780_000_000_000
    async with db.session() as s:
        # As recorded live: offsets from the publish's start (the picture came 3 s late).
        await add_entry(s, sid, 0, TimelineKind.PIN, {"product_id": 1, AT: t0})
        await add_entry(s, sid, 4000, TimelineKind.UNPIN, {AT: t0 + 4000})
        await add_entry(s, sid, 500, TimelineKind.PIN, {"product_id": 2})  # no wall time
        await s.commit()
    async with db.session() as s:
        segs = [Segment(f"{t0 + 3000}.ts", 2.0), Segment(f"{t0 + 5000}.ts", 2.0)]
        assert await realign(s, sid, segs) == 1
        await s.commit()
    got = (await timeline(vclient, sid, headers=creator.headers)).json()["entries"]
    assert [(e["kind"], e["offset_ms"]) for e in got] == [("pin", 0), ("pin", 500), ("unpin", 1000)]
    assert all(AT not in e["data"] for e in got)
