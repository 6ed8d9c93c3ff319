"""Inventory: the only code that changes stock. Other domains import from here.

Primitives (reserve, commit_reservation(s), release_reservation, split_reservation,
release_expired, return_units, receive, adjust) FLUSH and NEVER COMMIT: the caller's
top-level operation commits once. Every stock change is one conditional UPDATE whose WHERE
clause is the guard, so ``available``, ``held`` and ``sold`` never go negative and
``received = available + held + sold`` always holds (the database checks both too).
"""

from __future__ import annotations

from liveshop.inventory.errors import OutOfStock, ReservationLost, StockWouldGoNegative
from liveshop.inventory.models import (
    MovementKind,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Warehouse,
)
from liveshop.inventory.release import (
    end_payment,
    expire_due,
    keep_for_payment,
    release_expired,
    release_reservation,
)
from liveshop.inventory.reservations import (
    DEFAULT_HOLD,
    MAX_RESERVE,
    BatchReserved,
    commit_reservation,
    commit_reservations,
    configured_hold,
    get_reservation,
    held_children,
    lock_reservation,
    reserve,
    reserve_batch,
    reserve_many,
    split_many,
    split_reservation,
)
from liveshop.inventory.stock import (
    MAX_RECEIVE,
    StockDetail,
    StockSummary,
    WarehouseStock,
    adjust,
    create_warehouse,
    ensure_default_warehouse,
    list_movements,
    list_warehouses,
    receive,
    return_units,
    stock_detail,
    stock_summaries,
    stock_summary,
)
from liveshop.inventory.sweeper import ReservationSweeper

__all__ = [
    "DEFAULT_HOLD",
    "MAX_RECEIVE",
    "MAX_RESERVE",
    "BatchReserved",
    "MovementKind",
    "OutOfStock",
    "Reservation",
    "ReservationLost",
    "ReservationStatus",
    "ReservationSweeper",
    "StockDetail",
    "StockLevel",
    "StockMovement",
    "StockSummary",
    "StockWouldGoNegative",
    "Warehouse",
    "WarehouseStock",
    "adjust",
    "commit_reservation",
    "commit_reservations",
    "configured_hold",
    "create_warehouse",
    "end_payment",
    "ensure_default_warehouse",
    "expire_due",
    "get_reservation",
    "held_children",
    "keep_for_payment",
    "list_movements",
    "list_warehouses",
    "lock_reservation",
    "receive",
    "release_expired",
    "release_reservation",
    "reserve",
    "reserve_batch",
    "reserve_many",
    "return_units",
    "split_many",
    "split_reservation",
    "stock_detail",
    "stock_summaries",
    "stock_summary",
]
