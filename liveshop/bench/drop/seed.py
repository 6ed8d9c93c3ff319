"""Setting a drop up (outside the timed part) and checking the database afterwards.

- :func:`fresh_database`: a new PostgreSQL database (next to the given URL, dropped
  afterwards) or a new SQLite file, migrated.
- :func:`seed_people`: a seller, a creator and N buyers with API tokens, bulk-inserted
  (one password hash for all: hashing per user would take minutes for 2,000 buyers).
- :func:`prepare_shop` (over the API of the running server, as a seller and a creator
  would): a shop, a product with one SKU per phase, each with ``stock`` units, an affiliate
  plan, and a live session showing the product.
- :func:`start_deal` / :func:`end_deal`: the creator's deal controls.
- :func:`verify`: what the database says afterwards (oversold, paid orders, stock identity,
  ledger)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from liveshop.accounts.models import AuthToken, Role, TokenKind, User, UserRole
from liveshop.accounts.passwords import hash_password
from liveshop.accounts.service import TOKEN_PREFIX
from liveshop.bench.drop.options import CARD, DEFAULT_PG_URL
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.migrate import upgrade
from liveshop.inventory.models import Reservation, ReservationStatus, StockLevel
from liveshop.ledger.service import trial_balance
from liveshop.orders.models import Order, OrderLine
from liveshop.orders.payments.provider import card_brand
from liveshop.orders.payments.sandbox_methods import SandboxPaymentMethod
from liveshop.orders.saved_cards import SavedCard, customer_of
from liveshop.orders.status import OrderStatus

PHASE_SKUS = ("claim", "checkout", "naive")
DEAL_PRICE_MINOR = 999
REGULAR_PRICE_MINOR = 1899


# --- the database --------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(kind: str, database_url: str | None) -> Iterator[str]:
    """A migrated, empty database of ``kind``; yields its URL and drops it afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="liveshop-drop-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    base = make_url(database_url or os.environ.get("LIVESHOP_TEST_POSTGRES_URL") or DEFAULT_PG_URL)
    if base.drivername in ("postgres", "postgresql"):
        base = base.set(drivername="postgresql+asyncpg")
    name = f"liveshop_drop_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        admin = base.set(database="postgres")
        with contextlib.suppress(Exception):
            asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(url: Any, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


APP_POOL = 40  # the app's pooled connections per process (pool 20 + overflow 20)
SPARE_CONNECTIONS = 30  # left for others (the checks, other work on the same server)


async def pool_per_server(url: str, servers: int) -> int:
    """0 when every server process can have the app's own pool; otherwise the connections
    each may have, sharing what PostgreSQL has left (its ``max_connections`` less those in
    use now and a few to spare)."""
    if url.startswith("sqlite"):
        return 0
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            most = int((await conn.execute(text("SHOW max_connections"))).scalar_one())
            used = int(
                (await conn.execute(text("SELECT count(*) FROM pg_stat_activity"))).scalar_one()
            )
    finally:
        await engine.dispose()
    free = most - used - SPARE_CONNECTIONS
    if free >= APP_POOL * servers:
        return 0
    return max(4, free // servers)


# --- people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    seller: str  # API tokens
    creator: str
    buyers: list[tuple[int, str]]  # (user id, API token), in user-id order


def _token() -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


async def _save_cards(s: AsyncSession, buyer_ids: list[int]) -> None:
    """Each buyer's default saved card (the sandbox's test card that pays), as saving it on
    the payments page leaves it: the provider's record and the buyer's token — what the
    room's one-tap pay (``--pay-via ws``) charges."""
    year = utcnow().year + 3
    tokens = {b: f"pm_bench_{b}_{secrets.token_hex(6)}" for b in buyer_ids}
    await s.execute(
        insert(SandboxPaymentMethod),
        [
            {
                "token": tokens[b],
                "customer": customer_of(b),
                "number": CARD,
                "brand": card_brand(CARD),
                "exp_month": 12,
                "exp_year": year,
            }
            for b in buyer_ids
        ],
    )
    await s.execute(
        insert(SavedCard),
        [
            {
                "buyer_id": b,
                "provider": "sandbox",
                "provider_token": tokens[b],
                "brand": card_brand(CARD),
                "last4": CARD[-4:],
                "exp_month": 12,
                "exp_year": year,
                "is_default": True,
            }
            for b in buyer_ids
        ],
    )


async def seed_people(url: str, buyers: int) -> People:
    """Bulk-insert the seller, the creator and ``buyers`` buyers, each with an API token."""
    password = await hash_password("bench-password")  # one hash, shared: nobody logs in
    now = utcnow()
    expires = now + timedelta(days=30)
    db = Database(url)
    try:
        async with db.session() as s:
            rows: list[dict[str, Any]] = [
                {"email": "seller@drop.bench.invalid", "display_name": "Drop seller"},
                {"email": "creator@drop.bench.invalid", "display_name": "Drop creator"},
            ]
            rows += [
                {"email": f"buyer{i}@drop.bench.invalid", "display_name": f"Buyer {i}"}
                for i in range(buyers)
            ]
            for row in rows:
                row.update(password_hash=password, is_active=True)
            await s.execute(insert(User), rows)
            ids = list((await s.scalars(select(User.id).order_by(User.id))).all())
            seller_id, creator_id, buyer_ids = ids[0], ids[1], ids[2:]
            roles = [{"user_id": u, "role": str(Role.BUYER)} for u in ids]
            roles += [
                {"user_id": seller_id, "role": str(Role.SELLER)},
                {"user_id": creator_id, "role": str(Role.CREATOR)},
            ]
            await s.execute(insert(UserRole), roles)
            tokens = {u: _token() for u in ids}
            await s.execute(
                insert(AuthToken),
                [
                    {
                        "user_id": u,
                        "token_hash": hashed,
                        "kind": str(TokenKind.API),
                        "name": "drop bench",
                        "expires_at": expires,
                        # Signed in a moment ago (the room page, the room socket): the first
                        # tap's token read does not also write ``last_used_at``.
                        "last_used_at": now,
                    }
                    for u, (_, hashed) in tokens.items()
                ],
            )
            await _save_cards(s, buyer_ids)
            await s.commit()
    finally:
        await db.dispose()
    return People(
        seller=tokens[seller_id][0],
        creator=tokens[creator_id][0],
        buyers=[(u, tokens[u][0]) for u in buyer_ids],
    )


# --- the shop and the room, over the API ---------------------------------------------------


@dataclass(frozen=True)
class Room:
    session_id: int
    product_id: int
    skus: dict[str, int]  # phase -> SKU id


def _ok(resp: httpx.Response, *codes: int) -> dict[str, Any]:
    if resp.status_code not in (codes or (200, 201)):
        raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: {resp.text[:400]}")
    body: dict[str, Any] = resp.json()
    return body


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def prepare_shop(http: httpx.Client, people: People, stock: int) -> Room:
    """A shop with one product (a SKU per phase, ``stock`` units each) under an open
    affiliate plan, and the creator's live session showing it."""
    seller, creator = _auth(people.seller), _auth(people.creator)
    shop = _ok(
        http.post(
            "/api/v1/shops",
            json={"name": "Drop shop", "slug": "drop", "home_market": "GB"},
            headers=seller,
        )
    )
    prices = [
        {
            "market": "GB",
            "currency": "GBP",
            "amount_minor": REGULAR_PRICE_MINOR,
            "is_available": True,
        }
    ]
    product = _ok(
        http.post(
            f"/api/v1/shops/{shop['id']}/products",
            json={
                "title": "Limited drop hoodie",
                "description": "The drop.",
                "category": "fashion",
                "images": ["https://cdn.example.com/hoodie.jpg"],
                "skus": [
                    {"code": f"DROP-{p.upper()}", "attributes": {"size": p}, "prices": prices}
                    for p in PHASE_SKUS
                ],
            },
            headers=seller,
        )
    )
    _ok(http.post(f"/api/v1/products/{product['id']}/publish", headers=seller))
    _ok(
        http.post(
            f"/api/v1/shops/{shop['id']}/affiliate-plans",
            json={"kind": "open", "items": [{"product_id": product["id"], "rate_bp": 1000}]},
            headers=seller,
        )
    )
    skus = {str(s["attributes"]["size"]): int(s["id"]) for s in product["skus"]}
    for sku_id in skus.values():
        _ok(
            http.post(
                f"/api/v1/skus/{sku_id}/stock/receive",
                json={"quantity": stock, "reason": "the drop"},
                headers=seller,
            )
        )
    session = _ok(
        http.post(
            "/api/v1/live/sessions",
            json={
                "title": "The drop",
                "market": "GB",
                "planned_start": (utcnow() + timedelta(minutes=5)).isoformat(),
                "planned_duration_minutes": 120,
                "product_ids": [product["id"]],
            },
            headers=creator,
        )
    )
    _ok(http.post(f"/api/v1/live/sessions/{session['id']}/start", headers=creator))
    return Room(session_id=int(session["id"]), product_id=int(product["id"]), skus=skus)


def start_deal(
    http: httpx.Client,
    people: People,
    room: Room,
    sku_id: int,
    units: int,
    *,
    policy: str | None = None,
    hold_seconds: int | None = None,
) -> int:
    """The creator starts a deal of ``units`` (ending the running one first, if any)."""
    body: dict[str, Any] = {
        "sku_id": sku_id,
        "price_minor": DEAL_PRICE_MINOR,
        "units": units,
        "duration_seconds": 3600,
    }
    if policy is not None:
        body["policy"] = policy
    if hold_seconds is not None:
        body["hold_seconds"] = hold_seconds
    path = f"/api/v1/live/sessions/{room.session_id}/deals"
    resp = http.post(path, json=body, headers=_auth(people.creator))
    if resp.status_code == 409 and "deal-already-running" in resp.text:
        running = http.get(f"/api/v1/live/sessions/{room.session_id}/deal")
        if running.status_code == 200 and running.json():
            end_deal(http, people, room, int(running.json()["deal_id"]))
        resp = http.post(path, json=body, headers=_auth(people.creator))
    if resp.status_code == 422 and "extra_forbidden" in resp.text and policy == "hold_then_pay":
        # A server before the drop policies: today's behaviour is hold then pay.
        body.pop("policy", None)
        body.pop("hold_seconds", None)
        resp = http.post(path, json=body, headers=_auth(people.creator))
    return int(_ok(resp, 201)["deal_id"])


def end_deal(http: httpx.Client, people: People, room: Room, deal_id: int) -> None:
    path = f"/api/v1/live/sessions/{room.session_id}/deals/{deal_id}/end"
    resp = http.post(path, headers=_auth(people.creator))
    if resp.status_code not in (200, 409):
        raise RuntimeError(f"ending deal {deal_id}: {resp.text[:400]}")


def route_exists(http: httpx.Client, token: str, path: str) -> bool:
    """Whether the server has a POST route at ``path``: an unknown route answers 404 with
    the generic ``not-found`` problem (a known one with its own, e.g. ``deal-not-found``)."""
    resp = http.post(path, json={}, headers=_auth(token))
    if resp.status_code != 404:
        return True
    with contextlib.suppress(ValueError):
        return not str(resp.json().get("type", "")).endswith("/not-found")
    return False


# --- afterwards ----------------------------------------------------------------------------


async def verify(
    url: str, *, claim_deal_id: int | None, stock: int, shelf_sku_id: int | None = None
) -> dict[str, Any]:
    """What the database says once the run is over."""
    db = Database(url)
    try:
        async with db.session(deferred=True) as s:
            levels = (await s.execute(select(StockLevel))).scalars().all()
            held_rows = await s.execute(
                select(Reservation.stock_level_id, func.coalesce(func.sum(Reservation.quantity), 0))
                .where(Reservation.status == ReservationStatus.HELD)
                .group_by(Reservation.stock_level_id)
            )
            held_by_level = {int(k): int(v) for k, v in held_rows.all()}
            identity = all(
                lvl.received == lvl.available + lvl.held + lvl.sold
                and lvl.held == held_by_level.get(lvl.id, 0)
                and min(lvl.available, lvl.held, lvl.sold) >= 0
                for lvl in levels
            )
            paid_orders, paid_units = 0, 0
            if claim_deal_id is not None or shelf_sku_id is not None:
                which = (
                    OrderLine.deal_id == claim_deal_id
                    if claim_deal_id is not None
                    else OrderLine.sku_id == shelf_sku_id
                )
                paid = (
                    select(Order.id, OrderLine.quantity)
                    .join(OrderLine, OrderLine.order_id == Order.id)
                    .where(Order.status == OrderStatus.PAID, which)
                    .subquery()
                )
                row = (
                    await s.execute(
                        select(
                            func.count(func.distinct(paid.c.id)),
                            func.coalesce(func.sum(paid.c.quantity), 0),
                        )
                    )
                ).one()
                paid_orders, paid_units = int(row[0]), int(row[1])
            balances = await trial_balance(s)
    finally:
        await db.dispose()
    beyond_received = sum(max(0, lvl.sold + lvl.held - lvl.received) for lvl in levels)
    return {
        "oversold": max(0, paid_units - stock) + beyond_received,
        "paid_orders": paid_orders,
        "paid_units": paid_units,
        "stock_identity_ok": identity,
        "ledger_balanced": all(v == 0 for v in balances.values()),
    }
