"""Follows and reminders over HTTP: ``/api/v1/me/follows…`` and a show's ``reminder``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from liveshop.accounts.deps import CurrentPrincipal, SessionDep, per_user
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import Id
from liveshop.live import service as live_service
from liveshop.live.follows import service

router = APIRouter(prefix="/api/v1", tags=["follows"], responses=PROBLEM_RESPONSES)
PER_USER = [Depends(per_user(Bucket.FOLLOW))]
"""A follow, unfollow or reminder change is one hit of the per-user ``follow`` limit."""


class FollowState(BaseModel):
    following: bool
    followers: int


class FollowedCreator(BaseModel):
    creator_id: int
    name: str


class FollowedShop(BaseModel):
    shop_id: int
    name: str
    slug: str


class MyFollows(BaseModel):
    creators: list[FollowedCreator]
    shops: list[FollowedShop]


class ReminderState(BaseModel):
    session_id: int
    reminded: bool


@router.get("/me/follows")
async def my_follows(principal: CurrentPrincipal, session: SessionDep) -> MyFollows:
    """The creators and shops you follow, newest first."""
    creators, shops = await service.my_follows(session, principal.user_id)
    return MyFollows(
        creators=[FollowedCreator(creator_id=u.id, name=u.display_name) for u in creators],
        shops=[FollowedShop(shop_id=s.id, name=s.name, slug=s.slug) for s in shops],
    )


@router.put("/me/follows/creators/{creator_id}", dependencies=PER_USER, responses=RATE_LIMITED)
async def follow_creator(
    creator_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> FollowState:
    """Follow a creator: you are told when they go live (again: no change)."""
    await service.follow_creator(session, principal.user_id, creator_id)
    return FollowState(
        following=True, followers=await service.followers(session, creator_id=creator_id)
    )


@router.delete("/me/follows/creators/{creator_id}", dependencies=PER_USER, responses=RATE_LIMITED)
async def unfollow_creator(
    creator_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> FollowState:
    await service.unfollow(session, principal.user_id, creator_id=creator_id)
    return FollowState(
        following=False, followers=await service.followers(session, creator_id=creator_id)
    )


@router.put("/me/follows/shops/{shop_id}", dependencies=PER_USER, responses=RATE_LIMITED)
async def follow_shop(shop_id: Id, principal: CurrentPrincipal, session: SessionDep) -> FollowState:
    """Follow a shop: you are told when a show with its products goes live."""
    await service.follow_shop(session, principal.user_id, shop_id)
    return FollowState(following=True, followers=await service.followers(session, shop_id=shop_id))


@router.delete("/me/follows/shops/{shop_id}", dependencies=PER_USER, responses=RATE_LIMITED)
async def unfollow_shop(
    shop_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> FollowState:
    await service.unfollow(session, principal.user_id, shop_id=shop_id)
    return FollowState(following=False, followers=await service.followers(session, shop_id=shop_id))


@router.put(
    "/live/sessions/{session_id}/reminder",
    status_code=status.HTTP_200_OK,
    dependencies=PER_USER,
    responses=RATE_LIMITED,
)
async def remind_me(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> ReminderState:
    """ "Remind me": you are told when this scheduled show goes live."""
    live = await live_service.get_session(session, session_id)
    await service.remind(session, principal.user_id, live)
    return ReminderState(session_id=session_id, reminded=True)


@router.delete(
    "/live/sessions/{session_id}/reminder", dependencies=PER_USER, responses=RATE_LIMITED
)
async def forget_reminder(
    session_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> ReminderState:
    await live_service.get_session(session, session_id)
    await service.forget_reminder(session, principal.user_id, session_id)
    return ReminderState(session_id=session_id, reminded=False)
