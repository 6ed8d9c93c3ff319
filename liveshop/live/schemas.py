"""Live-session request and response bodies (inputs forbid unknown fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from liveshop.core.types import MAX_ID, BodyId, Line
from liveshop.live.catalog_view import ProductSummary
from liveshop.live.models import TITLE_MAX, LiveSession, SessionModerator, SessionStatus
from liveshop.live.service import MAX_SHOWCASE

MarketCode = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2}$", examples=["GB"]), AfterValidator(str.upper)
]
ProductIds = Annotated[list[BodyId], Field(max_length=MAX_SHOWCASE)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SessionIn(_In):
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    market: MarketCode
    planned_start: AwareDatetime
    planned_duration_minutes: int = Field(ge=1, le=1440, strict=True)
    product_ids: ProductIds = Field(default_factory=list, description="The showcase")


class ShowcaseIn(_In):
    product_ids: ProductIds


class PinIn(_In):
    product_id: int = Field(gt=0, strict=True, le=MAX_ID)


class ModeratorIn(_In):
    user_id: int = Field(gt=0, strict=True, le=MAX_ID)
    session_id: int | None = Field(
        default=None,
        gt=0,
        description="Only this session; all your sessions when omitted",
        strict=True,
        le=MAX_ID,
    )


class SkuInRoomOut(BaseModel):
    sku_id: int
    code: str
    attributes: dict[str, Any]
    price_minor: int
    price_display: str
    available: int | None = Field(description="Units left; null when unknown")


class RoomProductOut(BaseModel):
    """A product as the room shows it: price in the session market's currency, stock."""

    product_id: int
    shop_id: int
    title: str
    image_url: str | None
    currency: str
    price_minor: int | None = Field(description="Lowest SKU price, minor units")
    skus: list[SkuInRoomOut]

    @classmethod
    def of(cls, summary: ProductSummary) -> RoomProductOut:
        return cls.model_validate(summary.to_event())


class SessionOut(BaseModel):
    id: int
    creator_id: int
    title: str
    market: str
    currency: str
    planned_start: datetime
    planned_duration_minutes: int
    status: SessionStatus
    actual_start: datetime | None
    actual_end: datetime | None
    peak_viewers: int
    avg_viewers: int = Field(description="Time-weighted average concurrent viewers")
    likes: int
    comments_count: int
    orders_count: int
    gmv_minor: int = Field(description="In the session's currency, minor units")
    pinned_product_id: int | None
    ws_path: str = Field(description="The room's WebSocket path")

    @classmethod
    def of(cls, live: LiveSession) -> SessionOut:
        return cls(
            id=live.id,
            creator_id=live.creator_id,
            title=live.title,
            market=live.market_code,
            currency=live.currency,
            planned_start=live.planned_start,
            planned_duration_minutes=live.planned_duration_minutes,
            status=SessionStatus(live.status),
            actual_start=live.actual_start,
            actual_end=live.actual_end,
            peak_viewers=live.peak_viewers,
            avg_viewers=live.avg_viewers,
            likes=live.likes,
            comments_count=live.comments_count,
            orders_count=live.orders_count,
            gmv_minor=live.gmv_minor,
            pinned_product_id=live.pinned_product_id,
            ws_path=f"/ws/live/{live.id}",
        )


class SessionDetailOut(SessionOut):
    showcase: list[RoomProductOut]
    pinned: RoomProductOut | None


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int


class ModeratorOut(BaseModel):
    id: int
    user_id: int
    creator_id: int | None
    session_id: int | None

    @classmethod
    def of(cls, row: SessionModerator) -> ModeratorOut:
        return cls(
            id=row.id, user_id=row.user_id, creator_id=row.creator_id, session_id=row.session_id
        )
