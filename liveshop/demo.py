"""Demo data: people, four shops and their products (each under an open affiliate plan, so
creators may show them), written through the domain services.

Safe to run again: everything is found by its natural key first (users by e-mail, shops by
slug, SKUs by (shop, code)) and only what is missing is created, so a second run adds no
rows. Every demo account's password is ``settings.demo_password``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role, User
from liveshop.affiliates import agencies, contracts, invitations, plans
from liveshop.affiliates.models import PlanKind
from liveshop.catalog import products as catalog_products
from liveshop.catalog import service as catalog
from liveshop.catalog.demo_data import DEMO_SHOPS, DemoProduct, DemoShop, DemoVariant, demo_prices
from liveshop.catalog.models import Shop
from liveshop.catalog.schemas import ProductIn, ShopIn, SkuIn
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.settings import get_settings
from liveshop.inventory import service as inventory
from liveshop.live import service as live
from liveshop.live.deals import service as deals
from liveshop.live.deals.models import DealEndReason
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.logistics import demo_data as logistics_demo
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.video.demo_push import DEMO_STREAM_EMAIL

DEMO_DOMAIN = "liveshop.demo"
DEMO_STREAM_SHOW = "teststream"  # DemoShow.key of the session the demo video goes into


@dataclass(frozen=True)
class DemoUser:
    email: str
    display_name: str
    roles: tuple[Role, ...]


def _people() -> list[DemoUser]:
    creators = ["Mia Thompson", "Jake Patel", "Putri Maharani", "Linh Nguyen", "Sophie Clarke"]
    sellers = ["Harriet Cole", "Oliver Bennett", "Ravi Sharma", "Dewi Kartika"]
    buyers = [
        "Amelia Hughes", "Noah Williams", "Grace Evans", "Harry Wilson", "Isla Roberts",
        "George Walker", "Ayu Lestari", "Budi Santoso", "Siti Rahmawati", "Rizky Pratama",
        "Intan Permata", "Agus Setiawan", "Nguyen Thi Mai", "Tran Van Duc", "Le Thu Ha",
        "Pham Quoc Bao", "Vo Minh Chau", "Chloe Davies", "Arjun Mehta", "Olivia Brown",
    ]  # fmt: skip
    people = [
        DemoUser(f"admin@{DEMO_DOMAIN}", "Liveshop Admin", (Role.ADMIN,)),
        DemoUser(f"agency@{DEMO_DOMAIN}", "Starlight Talent", (Role.AGENCY,)),
    ]
    people += [
        DemoUser(f"creator{i}@{DEMO_DOMAIN}", name, (Role.CREATOR, Role.BUYER))
        for i, name in enumerate(creators, start=1)
    ]
    # `make run`'s test-card stream goes out under this account, never a real creator's.
    people.append(DemoUser(DEMO_STREAM_EMAIL, "Liveshop Test Card", (Role.CREATOR,)))
    people += [
        DemoUser(f"seller{i}@{DEMO_DOMAIN}", name, (Role.SELLER,))
        for i, name in enumerate(sellers, start=1)
    ]
    people += [
        DemoUser(f"buyer{i}@{DEMO_DOMAIN}", name, (Role.BUYER,))
        for i, name in enumerate(buyers, start=1)
    ]
    return people


DEMO_PEOPLE: tuple[DemoUser, ...] = tuple(_people())


@dataclass(frozen=True)
class DemoShow:
    """A live session of the demo, known by (creator, title, status)."""

    key: str
    creator_email: str
    title: str
    status: SessionStatus  # live, scheduled (upcoming) or ended (a replay)
    products: tuple[str, ...]  # demo product slugs; the live show pins the first
    minutes: int
    starts_in: timedelta = timedelta(0)


DEMO_SHOWS: tuple[DemoShow, ...] = (
    DemoShow(
        "live",
        f"creator1@{DEMO_DOMAIN}",
        "Spring drop: organic tees live",
        SessionStatus.LIVE,
        (
            "heavyweight-tee",
            "linen-shirt",
            "merino-crew-jumper",
            "waxed-canvas-tote",
            "lambswool-beanie",
        ),
        minutes=90,
    ),
    DemoShow(
        DEMO_STREAM_SHOW,
        DEMO_STREAM_EMAIL,
        "Test card: the demo's own video",
        SessionStatus.LIVE,
        ("pocket-speaker", "ring-light-10"),
        minutes=600,
    ),
    DemoShow(
        "upcoming",
        f"creator2@{DEMO_DOMAIN}",
        "Glow routine Q&A",
        SessionStatus.SCHEDULED,
        ("rosehip-serum", "tinted-lip-balm", "vitamin-c-moisturiser", "dewy-skin-tint"),
        minutes=45,
        starts_in=timedelta(days=1),
    ),
    DemoShow(
        "replay",
        f"creator5@{DEMO_DOMAIN}",
        "Creator kit: going live on a budget",
        SessionStatus.ENDED,
        ("ring-light-10", "pocket-speaker", "power-bank-20k", "braided-usb-c-cable"),
        minutes=60,
    ),
)


@dataclass(frozen=True)
class DemoDeal:
    """The live show's flash deal: restarted by a later load once it has ended."""

    sku_code: str
    price_minor: int  # in the show's market (GB: pence)
    units: int
    duration: timedelta


DEMO_DEAL = DemoDeal("NT-TEE-M-BLACK", 1900, 20, deals.MAX_DURATION)


def demo_stock(sku_code: str) -> int:
    """Units a demo SKU starts with: 40 to 200, the same on every machine."""
    return 40 + zlib.crc32(sku_code.encode()) % 161


@dataclass
class DemoSummary:
    """What the demo holds after loading, and what this run had to create."""

    users: int = 0
    shops: int = 0
    products: int = 0
    skus: int = 0
    created_users: int = 0
    created_shops: int = 0
    created_products: int = 0
    created_skus: int = 0
    user_ids: dict[str, int] = field(default_factory=dict)  # e-mail -> id
    shop_ids: dict[str, int] = field(default_factory=dict)  # slug -> id
    product_ids: dict[str, int] = field(default_factory=dict)  # demo product slug -> id
    sku_ids: dict[str, int] = field(default_factory=dict)  # SKU code -> id (codes are unique)
    stocked_skus: int = 0  # SKUs that had no stock and received some in this run
    created_plans: int = 0  # open affiliate plans this run had to create
    created_shows: int = 0
    show_ids: dict[str, int] = field(default_factory=dict)  # DemoShow.key -> live session id
    deal_id: int | None = None  # the live show's running flash deal
    started_deal: bool = False
    created_addresses: int = 0
    created_deliveries: int = 0  # past deliveries (ETA history) this run made


async def load_demo(db: Database, *, console: Console | None = None) -> DemoSummary:
    """Create whatever part of the demo is missing; report progress on ``console``."""
    summary = DemoSummary()
    n_products = sum(len(s.products) for s in DEMO_SHOPS)
    with _progress(console) as progress:
        async with db.session() as session:
            task = progress.add_task("people", total=len(DEMO_PEOPLE)) if progress else None
            for person in DEMO_PEOPLE:
                await _ensure_user(session, person, summary)
                _advance(progress, task)
            task = progress.add_task("shops & products", total=n_products) if progress else None
            for demo_shop in DEMO_SHOPS:
                shop = await _ensure_shop(session, demo_shop, summary)
                for demo_product in demo_shop.products:
                    await _ensure_product(session, shop, demo_product, summary)
                    _advance(progress, task)

            task = progress.add_task("stock", total=len(summary.sku_ids)) if progress else None
            for code, sku_id in summary.sku_ids.items():
                await _ensure_stock(session, code, sku_id, summary)
                _advance(progress, task)
            await session.commit()
            for demo_shop in DEMO_SHOPS:
                await _ensure_plan(session, demo_shop, summary)
            await _ensure_shows(session, summary)
            await _ensure_logistics(session, summary)
            await _ensure_agency(session, summary)
    if console is not None:
        _print_summary(console, summary)
    return summary


# Where each demo person shops (and gets things delivered); buyers 16-20 have no address yet.
def demo_market(email: str) -> str:
    name = email.split("@")[0]
    n = int("".join(c for c in name if c.isdigit()) or 0)
    if name.startswith("creator"):
        return {3: "ID", 4: "VN"}.get(n, "GB")
    if 7 <= n <= 12:
        return "ID"
    if 13 <= n <= 17:
        return "VN"
    return "GB"


async def _ensure_logistics(session: AsyncSession, summary: DemoSummary) -> None:
    """Addresses for buyers 1-15 and the creators; each shop's past deliveries at home."""
    people = [
        p
        for p in DEMO_PEOPLE
        if p.email.startswith("creator")
        or (p.email.startswith("buyer") and int(p.email[5:].split("@")[0]) <= 15)
    ]
    buyers = [
        logistics_demo.Buyer(summary.user_ids[p.email], demo_market(p.email), p.display_name)
        for p in people
    ]
    summary.created_addresses = await logistics_demo.ensure_addresses(session, buyers)
    provider = SandboxProvider(get_settings().webhook_secret(), delay_s=0)
    for demo_shop in DEMO_SHOPS:
        market = demo_shop.home_market
        local = [b for b in buyers if b.market == market]
        sku_code = demo_shop.products[-1].variants[0].code
        summary.created_deliveries += await logistics_demo.ensure_deliveries(
            session,
            provider,
            shop_slug=demo_shop.slug,
            market=market,
            sku_id=summary.sku_ids[sku_code],
            buyers=local,
        )


async def _ensure_user(session: AsyncSession, person: DemoUser, summary: DemoSummary) -> User:
    user = await accounts.find_user_by_email(session, person.email)
    if user is None:
        user = await accounts.create_user(
            session,
            email=person.email,
            password=get_settings().demo_password,
            display_name=person.display_name,
            roles=person.roles,
        )
        summary.created_users += 1
    elif not set(person.roles) <= user.role_names:
        user = await accounts.set_roles(session, user.id, user.role_names | set(person.roles))
    summary.users += 1
    summary.user_ids[person.email] = user.id
    return user


async def _ensure_shop(session: AsyncSession, demo: DemoShop, summary: DemoSummary) -> Shop:
    shop = await catalog.find_shop_by_slug(session, demo.slug)
    if shop is None:
        owner = await accounts.find_user_by_email(session, demo.owner_email)
        assert owner is not None, "demo sellers are created before their shops"
        data = ShopIn(
            name=demo.name,
            slug=demo.slug,
            description=demo.description,
            home_market=demo.home_market,
            logo_url=f"/static/demo/{demo.slug}.svg",
        )
        shop = await catalog.create_shop(session, owner_id=owner.id, data=data)
        summary.created_shops += 1
    summary.shops += 1
    summary.shop_ids[demo.slug] = shop.id
    return shop


def _sku_in(product: DemoProduct, variant: DemoVariant) -> SkuIn:
    return SkuIn(
        code=variant.code,
        attributes=variant.attributes,
        prices=demo_prices(variant.price or product.price),
    )


async def _ensure_product(
    session: AsyncSession, shop: Shop, demo: DemoProduct, summary: DemoSummary
) -> None:
    """A demo product is known by its SKU codes: any one found means the product exists."""
    found = {
        v.code: await catalog_products.find_sku_by_code(session, shop.id, v.code)
        for v in demo.variants
    }
    existing = next((s for s in found.values() if s is not None), None)
    if existing is None:
        product = await catalog_products.create_product(
            session,
            shop,
            ProductIn(
                title=demo.title,
                description=demo.description,
                category=demo.category,
                images=[f"/static/demo/{demo.slug}.svg"],
                status="published",
                skus=[_sku_in(demo, v) for v in demo.variants],
            ),
        )
        summary.created_products += 1
        summary.created_skus += len(demo.variants)
        skus = {s.code: s.id for s in product.skus}
    else:
        product = await catalog_products.get_product(session, existing.product_id)
        skus = {code: sku.id for code, sku in found.items() if sku is not None}
        for variant in demo.variants:
            if variant.code not in skus:  # the demo grew a variant since the last load
                sku = await catalog_products.add_sku(session, product, _sku_in(demo, variant))
                skus[variant.code] = sku.id
                summary.created_skus += 1
    summary.products += 1
    summary.skus += len(skus)
    summary.product_ids[demo.slug] = product.id
    summary.sku_ids.update(skus)


async def _ensure_stock(
    session: AsyncSession, code: str, sku_id: int, summary: DemoSummary
) -> None:
    """Receive the SKU's demo stock once: a SKU that ever had stock is left alone."""
    if (await inventory.stock_summary(session, sku_id)).received > 0:
        return
    await inventory.receive(
        session, sku_id=sku_id, quantity=demo_stock(code), reason="demo stock", actor_id=None
    )
    summary.stocked_skus += 1


async def _ensure_plan(session: AsyncSession, demo: DemoShop, summary: DemoSummary) -> None:
    """An open affiliate plan on every category the shop sells (creators show products only
    under a plan); a later load adds one only for categories no open plan covers now."""
    shop_id = summary.shop_ids[demo.slug]
    now = utcnow()
    covered = {
        item.category
        for plan in await plans.list_plans(session, shop_id)
        if plan.kind == PlanKind.OPEN
        and plan.valid_from <= now
        and (plan.valid_until is None or plan.valid_until > now)
        for item in plan.items
    }
    missing = sorted({str(p.category) for p in demo.products} - covered)
    if not missing:
        return
    await plans.create_plan(
        session,
        shop_id=shop_id,
        kind=PlanKind.OPEN,
        name=f"{demo.name}: open to every creator",
        items=[plans.PlanItemSpec(rate_bp=demo.affiliate_rate_bp, category=c) for c in missing],
        valid_from=now,
    )
    summary.created_plans += 1


async def _find_show(session: AsyncSession, show: DemoShow, creator_id: int) -> LiveSession | None:
    rows, _ = await live.list_sessions(session, status=show.status, market_code="GB", limit=200)
    return next((s for s in rows if s.creator_id == creator_id and s.title == show.title), None)


async def _ensure_shows(session: AsyncSession, summary: DemoSummary) -> None:
    """One live show (pinned product, running flash deal), one upcoming, one replay in GB."""
    for show in DEMO_SHOWS:
        creator_id = summary.user_ids[show.creator_email]
        found = await _find_show(session, show, creator_id)
        if found is None:
            found = await live.create_session(
                session,
                creator_id=creator_id,
                title=show.title,
                market_code="GB",
                planned_start=utcnow() + show.starts_in,
                planned_duration_minutes=show.minutes,
                product_ids=[summary.product_ids[slug] for slug in show.products],
            )
            if show.status is not SessionStatus.SCHEDULED:
                found = await live.transition(session, found, SessionStatus.LIVE)
            if show.status is SessionStatus.ENDED:
                found = await live.transition(session, found, SessionStatus.ENDED)
            summary.created_shows += 1
        summary.show_ids[show.key] = found.id
        if show.key == "live":
            if found.pinned_product_id is None:
                await live.pin_product(session, found, summary.product_ids[show.products[0]])
            await _ensure_deal(session, found, creator_id, summary)


async def _ensure_deal(
    session: AsyncSession, show: LiveSession, creator_id: int, summary: DemoSummary
) -> None:
    running = await deals.active_deal(session, show.id)
    if running is not None and running.deal.ends_at <= utcnow():
        await deals.end_deal(session, running.deal.id, reason=DealEndReason.EXPIRED)
        running = None
    if running is None:
        running = await deals.start_deal(
            session,
            show,
            sku_id=summary.sku_ids[DEMO_DEAL.sku_code],
            price_minor=DEMO_DEAL.price_minor,
            units=DEMO_DEAL.units,
            duration=DEMO_DEAL.duration,
            actor_id=creator_id,
        )
        summary.started_deal = True
    summary.deal_id = running.deal.id


DEMO_AGENCY = "Starlight Talent"
DEMO_AGENCY_SHARE_BP = 2000
# Creators the agency manages (their contract: a base fee per show, the agency's share) and
# the one it has invited; creator1's fee is cut in two weeks (an announced, upcoming change).
DEMO_MANAGED = (f"creator1@{DEMO_DOMAIN}", f"creator2@{DEMO_DOMAIN}")
DEMO_INVITED = f"creator5@{DEMO_DOMAIN}"
DEMO_BASE_FEE_MINOR = 15_000  # £150.00 per show of at least 30 minutes
DEMO_CUT_FEE_MINOR = 12_000
DEMO_CUT_IN = timedelta(days=14)


async def _ensure_agency(session: AsyncSession, summary: DemoSummary) -> None:
    """The agency, its creators (through accepted invitations: a contract version each), a
    pending invitation, an announced fee cut, and a targeted plan offered to creator1."""
    owner_id = summary.user_ids[f"agency@{DEMO_DOMAIN}"]
    agency = await agencies.agency_owned_by(session, owner_id)
    if agency is None:
        agency = await agencies.create_agency(session, name=DEMO_AGENCY, owner_id=owner_id)
    for email in DEMO_MANAGED:
        creator_id = summary.user_ids[email]
        if await agencies.agency_of(session, creator_id) is not None:
            continue
        if not await contracts.contract_history(session, creator_id):
            await contracts.create_contract(
                session,
                creator_id=creator_id,
                currency="GBP",
                base_fee_minor=DEMO_BASE_FEE_MINOR,
                min_live_minutes=30,
            )
        sent = await invitations.invite(
            session,
            agency,
            email=email,
            agency_share_bp=DEMO_AGENCY_SHARE_BP,
            currency="GBP",
            message="We book brands for you and take care of the paperwork.",
        )
        await invitations.accept(session, sent, creator_id=creator_id)
        if email == DEMO_MANAGED[0]:
            await contracts.create_contract(
                session,
                creator_id=creator_id,
                currency="GBP",
                base_fee_minor=DEMO_CUT_FEE_MINOR,
                min_live_minutes=30,
                agency_id=agency.id,
                agency_share_bp=DEMO_AGENCY_SHARE_BP,
                effective_from=utcnow() + DEMO_CUT_IN,
            )
    invited_id = summary.user_ids[DEMO_INVITED]
    if not await invitations.for_creator(session, invited_id):
        await invitations.invite(
            session, agency, email=DEMO_INVITED, agency_share_bp=1500, currency="GBP"
        )
    await _ensure_targeted_plan(session, summary)


async def _ensure_targeted_plan(session: AsyncSession, summary: DemoSummary) -> None:
    """A better rate on the first shop's first product, offered to creator1 only."""
    demo = DEMO_SHOPS[0]
    shop_id = summary.shop_ids[demo.slug]
    creator_id = summary.user_ids[DEMO_MANAGED[0]]
    if any(p.kind == PlanKind.TARGETED for p in await plans.list_plans(session, shop_id)):
        return
    await plans.create_plan(
        session,
        shop_id=shop_id,
        kind=PlanKind.TARGETED,
        name=f"{demo.name}: for {DEMO_MANAGED[0].split('@')[0]}",
        items=[
            plans.PlanItemSpec(
                rate_bp=demo.affiliate_rate_bp + 500,
                product_id=summary.product_ids[demo.products[0].slug],
            )
        ],
        creator_ids=[creator_id],
    )


@contextmanager
def _progress(console: Console | None) -> Iterator[Progress | None]:
    if console is None:
        yield None
        return
    with Progress(console=console, transient=True) as progress:
        yield progress


def _advance(progress: Progress | None, task: TaskID | None) -> None:
    if progress is not None and task is not None:
        progress.advance(task)


def _print_summary(console: Console, summary: DemoSummary) -> None:
    table = Table(title="liveshop demo", show_header=True)
    table.add_column("")
    table.add_column("in the demo", justify="right")
    table.add_column("created now", justify="right")
    for label, total, created in (
        ("users", summary.users, summary.created_users),
        ("shops", summary.shops, summary.created_shops),
        ("products", summary.products, summary.created_products),
        ("SKUs", summary.skus, summary.created_skus),
        ("SKUs with stock", summary.skus, summary.stocked_skus),
        ("shops with an open affiliate plan", summary.shops, summary.created_plans),
        ("live shows", len(summary.show_ids), summary.created_shows),
        ("flash deals running", int(summary.deal_id is not None), int(summary.started_deal)),
    ):
        table.add_row(label, str(total), str(created))
    console.print(table)
    if "live" in summary.show_ids:
        console.print(f"Live now: http://127.0.0.1:8000/live/{summary.show_ids['live']}")
    console.print(
        f"Sign in as admin@{DEMO_DOMAIN}, seller1@{DEMO_DOMAIN}, creator1@{DEMO_DOMAIN}, "
        f"agency@{DEMO_DOMAIN} or "
        f"buyer1@{DEMO_DOMAIN} with the password [bold]{get_settings().demo_password}[/bold]."
    )
