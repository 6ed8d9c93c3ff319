"""Giveaways over HTTP: the host opens, draws or cancels one; signed-in viewers enter;
anyone reads a giveaway, its published entries, and re-runs a draw (``/giveaways/verify``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import CurrentPrincipal, MaybePrincipal, SessionDep, per_user
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.events import EventType
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import MAX_ID, Id
from liveshop.live import service as live_service
from liveshop.live.counts import RoomCounts
from liveshop.live.giveaways import draw, service
from liveshop.live.giveaways.models import Eligibility, Giveaway
from liveshop.realtime.publish import RoomPublisherDep

router = APIRouter(prefix="/api/v1/live", tags=["giveaways"], responses=PROBLEM_RESPONSES)

Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
PublicId = Annotated[str, Field(pattern=r"^[0-9a-f]{1,32}$")]


class GiveawayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, le=MAX_ID, strict=True, description="One unit of it is the prize")
    eligibility: Eligibility = Field(
        default=Eligibility.ROOM,
        description="room: anyone signed in; followers: the creator's followers; buyers: "
        "viewers with a paid order in this show",
    )
    entry_seconds: int = Field(
        default=120, ge=service.MIN_ENTRY_S, le=service.MAX_ENTRY_S, strict=True
    )


class GiveawayOut(BaseModel):
    giveaway_id: int
    session_id: int
    product_id: int
    sku_id: int
    title: str
    eligibility: str
    status: str
    seed_sha256: str
    seed: str | None = Field(description="Revealed at the draw")
    entries: int
    closes_at: str
    winner_entry: str | None
    winner_name: str | None
    record_url: str
    terms: str
    your_entry: str | None = Field(default=None, description="Your entry's public id")
    order_id: int | None = Field(default=None, description="The prize's order (the winner's)")


class EnteredOut(BaseModel):
    giveaway_id: int
    public_id: str = Field(description="Your entry in the published list")
    entries: int


class EntriesOut(BaseModel):
    giveaway_id: int
    status: str
    seed_sha256: str
    seed: str | None
    entries: list[str] = Field(description="Every entry's public id, sorted (the draw's input)")
    winner_entry: str | None
    algorithm: str


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: Hex64
    entries: list[PublicId] = Field(max_length=100_000)


class VerifyOut(BaseModel):
    seed_sha256: str
    digest: str
    winner_entry: str | None


async def _out(session: SessionDep, g: Giveaway, viewer_id: int | None) -> GiveawayOut:
    mine = await service.my_entry(session, g.id, viewer_id) if viewer_id is not None else None
    fields = await service.view(session, g)
    fields.pop("winner_id", None)
    return GiveawayOut(
        **fields,
        terms=g.terms,
        your_entry=mine,
        order_id=g.order_id if viewer_id is not None and viewer_id == g.winner_id else None,
    )


def _counts(request: Request) -> RoomCounts:
    counts: RoomCounts = request.app.state.room_counts
    return counts


@router.post("/sessions/{session_id}/giveaways", status_code=status.HTTP_201_CREATED)
async def open_giveaway(
    session_id: Id,
    body: GiveawayIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    publisher: RoomPublisherDep,
) -> GiveawayOut:
    """The creator or their moderator opens a giveaway: one unit held from stock, the seed's
    SHA-256 shown to the room at once."""
    live = await live_service.get_session(session, session_id)
    await live_service.ensure_can_control(session, principal, live)
    g = await service.open_giveaway(
        session,
        live,
        sku_id=body.sku_id,
        eligibility=body.eligibility,
        entry_seconds=body.entry_seconds,
        actor_id=principal.user_id,
        room=publisher.on_commit(session),
    )
    return await _out(session, g, principal.user_id)


@router.get("/sessions/{session_id}/giveaway")
async def room_giveaway(
    session_id: Id, session: SessionDep, principal: MaybePrincipal
) -> GiveawayOut:
    """The room's giveaway (open, or the last drawn); 404 when there is none. Public."""
    await live_service.get_session(session, session_id)
    g = await service.room_giveaway(session, session_id)
    if g is None:
        raise NotFound(_("no giveaway in this room"), code="no-giveaway")
    return await _out(session, g, principal.user_id if principal else None)


@router.get("/giveaways/{giveaway_id}")
async def get_giveaway(
    giveaway_id: Id, session: SessionDep, principal: MaybePrincipal
) -> GiveawayOut:
    """A giveaway (public; an entrant sees their entry, the winner their order)."""
    g = await service.get_giveaway(session, giveaway_id)
    return await _out(session, g, principal.user_id if principal else None)


@router.get("/giveaways/{giveaway_id}/entries")
async def published_entries(
    giveaway_id: Id, session: SessionDep, principal: MaybePrincipal
) -> EntriesOut:
    """The published draw record (public): the seed's hash, the seed once drawn, and every
    entry's public id, sorted."""
    del principal  # anyone may check
    g = await service.get_giveaway(session, giveaway_id)
    fields = service.fields(g)
    return EntriesOut(
        giveaway_id=g.id,
        status=g.status,
        seed_sha256=g.seed_sha256,
        seed=fields["seed"],
        entries=await service.published_entries(session, g.id),
        winner_entry=fields["winner_entry"],
        algorithm="winner = sorted_ids[int(sha256(seed + ':' + '\\n'.join(sorted_ids)), 16) "
        "% len(sorted_ids)]",
    )


@router.post("/giveaways/verify")
async def verify(body: VerifyIn, principal: MaybePrincipal) -> VerifyOut:
    """Re-run a draw from a seed and an entries list (anyone; nothing is stored): the seed's
    SHA-256 (compare it with the one shown when entries opened) and the winner it gives."""
    del principal
    return VerifyOut(
        seed_sha256=draw.fingerprint(body.seed),
        digest=draw.digest(body.seed, body.entries),
        winner_entry=draw.winner(body.seed, body.entries),
    )


@router.post(
    "/giveaways/{giveaway_id}/entries",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(per_user(Bucket.ENGAGE))],
    responses=RATE_LIMITED,
)
async def enter(
    giveaway_id: Id, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> EnteredOut:
    """Enter, once (409 ``already-entered``). 403 ``not-eligible`` (with ``eligibility``) or
    ``host-cannot-enter``; 409 ``giveaway-closed``, ``address-required``."""
    got = await service.enter(session, giveaway_id, principal.user_id)
    _counts(request).note(
        got.giveaway.session_id,
        EventType.GIVEAWAY_ENTRIES,
        giveaway_id,
        {"giveaway_id": giveaway_id, "entries": got.entries},
        got.entries,
    )
    return EnteredOut(giveaway_id=giveaway_id, public_id=got.public_id, entries=got.entries)


@router.post("/giveaways/{giveaway_id}/draw")
async def draw_giveaway(
    giveaway_id: Id, principal: CurrentPrincipal, session: SessionDep, publisher: RoomPublisherDep
) -> GiveawayOut:
    """The host closes the entries and draws: the seed is revealed with the winner's public
    name, and the winner's zero-price order is placed."""
    g = await service.get_giveaway(session, giveaway_id)
    live = await live_service.get_session(session, g.session_id)
    await live_service.ensure_can_control(session, principal, live)
    g = await service.draw_giveaway(session, giveaway_id, room=publisher.on_commit(session))
    await service.deliver(session, g)
    return await _out(session, await service.get_giveaway(session, giveaway_id), None)


@router.post("/giveaways/{giveaway_id}/deliver")
async def deliver(giveaway_id: Id, principal: CurrentPrincipal, session: SessionDep) -> GiveawayOut:
    """The host retries the prize's order of a drawn giveaway (idempotent: one order)."""
    g = await service.get_giveaway(session, giveaway_id)
    live = await live_service.get_session(session, g.session_id)
    await live_service.ensure_can_control(session, principal, live)
    await service.deliver(session, g)
    return await _out(session, await service.get_giveaway(session, giveaway_id), None)


@router.post("/giveaways/{giveaway_id}/cancel")
async def cancel(
    giveaway_id: Id, principal: CurrentPrincipal, session: SessionDep, publisher: RoomPublisherDep
) -> GiveawayOut:
    """The host calls an open giveaway off: its unit goes back on sale."""
    g = await service.get_giveaway(session, giveaway_id)
    live = await live_service.get_session(session, g.session_id)
    await live_service.ensure_can_control(session, principal, live)
    g = await service.cancel(session, giveaway_id, room=publisher.on_commit(session))
    return await _out(session, g, None)
