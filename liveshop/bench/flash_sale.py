"""``liveshop bench flash-sale``: N buyers race through the real checkout for S units.

Every buyer runs the production code path — ``orders.checkout.place_order`` (stock held by
the inventory's conditional UPDATE) then ``orders.payment_flow.pay_order`` with the sandbox
card (stock sold, order paid, ledger posted) — against a fresh database of the chosen kind.

The baseline (``naive=True``) swaps only the stock step for the classic bug: read the
counter, check it in Python, write back ``read - n`` in a separate statement. It runs the
same checkout and payment code around it, so the timings compare, and it oversells.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from liveshop.accounts.models import User, UserRole
from liveshop.accounts.passwords import hash_password
from liveshop.catalog.models import Product, ProductStatus, Shop, Sku, SkuPrice
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.core.i18n import gettext
from liveshop.core.migrate import upgrade
from liveshop.inventory import service as inventory
from liveshop.ledger.service import trial_balance
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.models import Order, OrderLine
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.status import OrderStatus

DEFAULT_PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class FlashSaleResult:
    orders: int  # paid orders in the database afterwards
    oversold: int  # units sold beyond the stock there was (must be 0)
    stock_left: int  # units still available
    reservations_per_s: float  # stock-reservation attempts answered per second (won or refused)
    p50_ms: float  # checkout latency per buyer (hold + pay, or the refusal)
    p99_ms: float
    ledger_balanced: bool  # every currency's postings sum to zero

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the naive baseline ------------------------------------------------------------------------
_naive_meta = MetaData()
naive_stock = Table(
    "bench_naive_stock",
    _naive_meta,
    Column("sku_id", Integer, primary_key=True),
    Column("available", Integer, nullable=False),  # no CHECK: that is the point
)


_naive_seen: contextvars.ContextVar[int | None] = contextvars.ContextVar("naive_seen", default=None)


async def _naive_check(db: Database, sku_id: int) -> None:
    """The handler's "is it in stock?" read, in its own short transaction."""
    async with db.session(deferred=True) as s:
        _naive_seen.set(
            await s.scalar(select(naive_stock.c.available).where(naive_stock.c.sku_id == sku_id))
        )


@contextlib.contextmanager
def _naive_stock_step(db: Database) -> Iterator[None]:
    """Replace reserve/commit with read-check-write on a bare counter (the bug to avoid)."""
    real_reserve, real_commit = inventory.reserve, inventory.commit_reservation

    async def naive_reserve(session: Any, *, sku_id: int, quantity: int, **_: Any) -> Any:
        available = _naive_seen.get()  # what the handler read before starting the checkout
        if available is None or available < quantity:
            raise inventory.OutOfStock(gettext("sold out"), available=available or 0)
        await session.execute(
            update(naive_stock)
            .where(naive_stock.c.sku_id == sku_id)
            .values(available=available - quantity)
        )
        return SimpleNamespace(id=None)

    async def naive_commit(session: Any, reservation_id: int) -> Any:
        return None

    inventory.reserve = naive_reserve
    inventory.commit_reservation = naive_commit
    try:
        yield
    finally:
        inventory.reserve = real_reserve
        inventory.commit_reservation = real_commit


# -- database set-up -----------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def fresh_database(
    kind: str, pg_admin_url: str | None = None, *, connections: int = 64
) -> AsyncIterator[Database]:
    """A migrated, empty database of ``kind`` that is dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="liveshop-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await asyncio.to_thread(upgrade, url)
            db = Database(url)
            try:
                yield db
            finally:
                await db.dispose()
        return
    if kind != "postgres":
        raise ValueError("db must be sqlite or postgres")
    admin_url = pg_admin_url or os.environ.get("LIVESHOP_TEST_POSTGRES_URL") or DEFAULT_PG_ADMIN_URL
    name = f"liveshop_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    # PostgreSQL allows 100 connections by default: stay well under it.
    db = Database(url, pool_size=max(1, min(connections, 80)), max_overflow=0, pool_timeout=120)
    try:
        await asyncio.to_thread(upgrade, url)
        yield db
    finally:
        await db.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _seed(db: Database, *, buyers: int, stock: int) -> tuple[int, list[int]]:
    """One shop, one SKU (£12.00 in GB) with ``stock`` units, ``buyers`` buyer accounts."""
    password = await hash_password("bench-password")
    async with db.session() as s:
        shop = Shop(slug="flash", name="Flash sale shop", home_market="GB")
        s.add(shop)
        await s.flush()
        product = Product(
            shop_id=shop.id,
            title="Limited drop hoodie",
            category="fashion",
            status=ProductStatus.PUBLISHED,
            images=[],
        )
        s.add(product)
        await s.flush()
        sku = Sku(product_id=product.id, shop_id=shop.id, code="DROP-1", attributes={"size": "M"})
        s.add(sku)
        await s.flush()
        s.add(SkuPrice(sku_id=sku.id, market_code="GB", currency="GBP", amount_minor=1200))
        await inventory.receive(
            s, sku_id=sku.id, quantity=stock, reason="flash sale", actor_id=None
        )
        await s.execute(
            insert(User),
            [
                {
                    "email": f"buyer{i}@bench.example.com",
                    "display_name": f"Buyer {i}",
                    "password_hash": password,
                    "is_active": True,
                }
                for i in range(buyers)
            ],
        )
        ids = list((await s.scalars(select(User.id).order_by(User.id))).all())
        await s.execute(insert(UserRole), [{"user_id": i, "role": "buyer"} for i in ids])
        sku_id = sku.id
        await s.commit()
    async with db.engine.begin() as conn:
        await conn.run_sync(_naive_meta.create_all)
        await conn.execute(insert(naive_stock).values(sku_id=sku_id, available=stock))
    return sku_id, ids


# -- the race --------------------------------------------------------------------------------------
async def _one_buyer(
    db: Database, provider: SandboxProvider, sku_id: int, buyer_id: int, n: int, *, naive: bool
) -> tuple[bool, float]:
    started = time.perf_counter()
    ok = False
    try:
        if naive:
            await _naive_check(db, sku_id)
        async with db.session() as s:
            placed = await place_order(
                s,
                buyer_id=buyer_id,
                market_code="GB",
                lines=[CheckoutLine(sku_id=sku_id, quantity=1)],
                idempotency_key=f"flash-{n}",
                hold_for=timedelta(minutes=10),
            )
            await pay_order(
                s,
                provider,
                order_id=placed.order.id,
                buyer_id=buyer_id,
                card=CardDetails(CARD_SUCCEEDS),
            )
            ok = True
    except Problem:
        ok = False
    return ok, (time.perf_counter() - started) * 1000.0


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[k], 2)


async def run_flash_sale(
    *,
    db_kind: str,
    buyers: int,
    stock: int,
    concurrency: int = 64,
    naive: bool = False,
    pg_admin_url: str | None = None,
    console: Console | None = None,
) -> FlashSaleResult:
    async with fresh_database(db_kind, pg_admin_url, connections=concurrency) as db:
        sku_id, buyer_ids = await _seed(db, buyers=buyers, stock=stock)
        provider = SandboxProvider("bench", delay_s=-1)
        gate = asyncio.Semaphore(max(1, concurrency))
        latencies: list[float] = []
        progress = Progress(
            TextColumn(f"[bold]{'naive ' if naive else ''}flash sale on {db_kind}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,
            disable=console is None,
        )

        async def guarded(n: int, buyer_id: int, task: Any) -> None:
            async with gate:
                _, ms = await _one_buyer(db, provider, sku_id, buyer_id, n, naive=naive)
            latencies.append(ms)
            progress.advance(task)

        with progress, _naive_stock_step(db) if naive else contextlib.nullcontext():
            task = progress.add_task("buyers", total=buyers)
            started = time.perf_counter()
            await asyncio.gather(*(guarded(n, b, task) for n, b in enumerate(buyer_ids)))
            elapsed = time.perf_counter() - started

        async with db.session(deferred=True) as s:
            paid = int(
                await s.scalar(
                    select(func.count()).select_from(Order).where(Order.status == OrderStatus.PAID)
                )
                or 0
            )
            units = int(
                await s.scalar(
                    select(func.coalesce(func.sum(OrderLine.quantity), 0))
                    .join(Order, Order.id == OrderLine.order_id)
                    .where(Order.status == OrderStatus.PAID)
                )
                or 0
            )
            balanced = all(v == 0 for v in (await trial_balance(s)).values())
            if naive:
                left = int(
                    await s.scalar(
                        select(naive_stock.c.available).where(naive_stock.c.sku_id == sku_id)
                    )
                    or 0
                )
            else:
                left = (await inventory.stock_summary(s, sku_id)).available
        return FlashSaleResult(
            orders=paid,
            oversold=max(0, units - stock),
            stock_left=left,
            reservations_per_s=round(buyers / elapsed, 1) if elapsed > 0 else 0.0,
            p50_ms=_percentile(latencies, 0.50),
            p99_ms=_percentile(latencies, 0.99),
            ledger_balanced=balanced,
        )


def median_of(results: list[FlashSaleResult]) -> dict[str, Any]:
    """Median of each numeric figure over repeated runs (counts from the worst run)."""
    return {
        "orders": min(r.orders for r in results),
        "oversold": max(r.oversold for r in results),
        "stock_left": max(r.stock_left for r in results),
        "reservations_per_s": round(statistics.median(r.reservations_per_s for r in results), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 2),
        "ledger_balanced": all(r.ledger_balanced for r in results),
    }
