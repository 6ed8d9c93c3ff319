"""Stock endpoints: a public availability read; everything else is for the SKU's shop staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.deps import MaybePrincipal, SellerPrincipal, SessionDep
from liveshop.accounts.service import Principal
from liveshop.catalog.service import ensure_shop_staff, sku_shop_id
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import FormCount, Id, Limit
from liveshop.inventory import stock
from liveshop.inventory.schemas import (
    AdjustIn,
    MovementOut,
    PublicStockOut,
    ReceiveIn,
    StockDetailOut,
    StockOut,
    WarehouseIn,
    WarehouseOut,
)
from liveshop.inventory.stock import StockSummary

router = APIRouter(prefix="/api/v1", tags=["inventory"], responses=PROBLEM_RESPONSES)


def _out(s: StockSummary) -> StockOut:
    return StockOut(
        sku_id=s.sku_id, received=s.received, available=s.available, held=s.held, sold=s.sold
    )


async def _staff_of_sku(session: AsyncSession, principal: Principal, sku_id: Id) -> int:
    shop_id = await sku_shop_id(session, sku_id)
    await ensure_shop_staff(session, principal, shop_id)
    return shop_id


@router.get("/skus/{sku_id}/stock")
async def public_stock(sku_id: Id, session: SessionDep, _: MaybePrincipal) -> PublicStockOut:
    """What a buyer may know: how many can be bought now (expired holds released first)."""
    await sku_shop_id(session, sku_id)
    summary = await stock.stock_summary(session, sku_id)
    await session.commit()  # keeps the lazy release of expired holds
    return PublicStockOut(sku_id=sku_id, available=summary.available, sold_out=summary.sold_out)


@router.get("/skus/{sku_id}/stock/detail")
async def stock_detail(
    sku_id: Id, session: SessionDep, principal: SellerPrincipal
) -> StockDetailOut:
    await _staff_of_sku(session, principal, sku_id)
    detail = await stock.stock_detail(session, sku_id)
    await session.commit()
    return StockDetailOut.of(detail)


@router.post("/skus/{sku_id}/stock/receive")
async def receive_stock(
    sku_id: Id, body: ReceiveIn, session: SessionDep, principal: SellerPrincipal
) -> StockOut:
    await _staff_of_sku(session, principal, sku_id)
    summary = await stock.receive(
        session,
        sku_id=sku_id,
        quantity=body.quantity,
        reason=body.reason,
        actor_id=principal.user_id,
        warehouse_id=body.warehouse_id,
    )
    await session.commit()
    return _out(summary)


@router.post("/skus/{sku_id}/stock/adjust")
async def adjust_stock(
    sku_id: Id, body: AdjustIn, session: SessionDep, principal: SellerPrincipal
) -> StockOut:
    await _staff_of_sku(session, principal, sku_id)
    summary = await stock.adjust(
        session,
        sku_id=sku_id,
        delta=body.delta,
        reason=body.reason,
        actor_id=principal.user_id,
        warehouse_id=body.warehouse_id,
    )
    await session.commit()
    return _out(summary)


@router.get("/skus/{sku_id}/stock/movements")
async def stock_movements(
    sku_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    limit: Annotated[Limit, Query(le=200)] = 50,
    offset: Annotated[FormCount, Query(ge=0, le=1_000_000)] = 0,
) -> list[MovementOut]:
    await _staff_of_sku(session, principal, sku_id)
    rows = await stock.list_movements(session, sku_id, limit=limit, offset=offset)
    return [MovementOut.of(m) for m in rows]


@router.get("/shops/{shop_id}/warehouses")
async def list_warehouses(
    shop_id: Id, session: SessionDep, principal: SellerPrincipal
) -> list[WarehouseOut]:
    await ensure_shop_staff(session, principal, shop_id)
    return [WarehouseOut.of(w) for w in await stock.list_warehouses(session, shop_id)]


@router.post("/shops/{shop_id}/warehouses", status_code=status.HTTP_201_CREATED)
async def create_warehouse(
    shop_id: Id, body: WarehouseIn, session: SessionDep, principal: SellerPrincipal
) -> WarehouseOut:
    await ensure_shop_staff(session, principal, shop_id)
    warehouse = await stock.create_warehouse(session, shop_id, name=body.name)
    await session.commit()
    return WarehouseOut.of(warehouse)
