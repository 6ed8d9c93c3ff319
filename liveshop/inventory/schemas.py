from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from liveshop.core.types import BodyId, Line, Text
from liveshop.inventory.models import MovementKind, StockMovement, Warehouse
from liveshop.inventory.stock import MAX_RECEIVE, StockDetail


class ReceiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(strict=True, ge=1, le=MAX_RECEIVE, description="Units that arrived")
    reason: Text = Field(default="", max_length=200, description="e.g. a delivery note number")
    warehouse_id: BodyId | None = Field(default=None, description="Default warehouse if omitted")


class AdjustIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delta: int = Field(
        strict=True,
        ge=-MAX_RECEIVE,
        le=MAX_RECEIVE,
        description="Signed correction of available units (not zero)",
    )
    reason: Text = Field(min_length=1, max_length=200, description="Why: count, damage, loss…")
    warehouse_id: BodyId | None = None


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=120)


class PublicStockOut(BaseModel):
    sku_id: int
    available: int
    sold_out: bool


class StockOut(BaseModel):
    """received = available + held + sold."""

    sku_id: int
    received: int
    available: int
    held: int
    sold: int


class WarehouseStockOut(BaseModel):
    warehouse_id: int
    name: str
    is_default: bool
    received: int
    available: int
    held: int
    sold: int


class StockDetailOut(StockOut):
    warehouses: list[WarehouseStockOut]

    @classmethod
    def of(cls, detail: StockDetail) -> StockDetailOut:
        s = detail.summary
        return cls(
            sku_id=s.sku_id,
            received=s.received,
            available=s.available,
            held=s.held,
            sold=s.sold,
            warehouses=[
                WarehouseStockOut(
                    warehouse_id=w.warehouse_id,
                    name=w.name,
                    is_default=w.is_default,
                    received=w.received,
                    available=w.available,
                    held=w.held,
                    sold=w.sold,
                )
                for w in detail.warehouses
            ],
        )


class MovementOut(BaseModel):
    id: int
    kind: MovementKind
    quantity: int
    available_delta: int
    held_delta: int
    sold_delta: int
    stock_level_id: int
    reservation_id: int | None
    reference: str
    reason: str
    actor_user_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, m: StockMovement) -> MovementOut:
        return cls(
            id=m.id,
            kind=MovementKind(m.kind),
            quantity=m.quantity,
            available_delta=m.available_delta,
            held_delta=m.held_delta,
            sold_delta=m.sold_delta,
            stock_level_id=m.stock_level_id,
            reservation_id=m.reservation_id,
            reference=m.reference,
            reason=m.reason,
            actor_user_id=m.actor_user_id,
            created_at=m.created_at,
        )


class WarehouseOut(BaseModel):
    id: int
    shop_id: int
    name: str
    is_default: bool

    @classmethod
    def of(cls, w: Warehouse) -> WarehouseOut:
        return cls(id=w.id, shop_id=w.shop_id, name=w.name, is_default=w.is_default)
