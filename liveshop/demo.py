"""Demo data: people, four shops and their products, written through the domain services.

Safe to run again: everything is found by its natural key first (users by e-mail, shops by
slug, SKUs by (shop, code)) and only what is missing is created, so a second run adds no
rows. Every demo account's password is ``settings.demo_password``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role, User
from liveshop.catalog import products as catalog_products
from liveshop.catalog import service as catalog
from liveshop.catalog.demo_data import DEMO_SHOPS, DemoProduct, DemoShop, DemoVariant, demo_prices
from liveshop.catalog.models import Shop
from liveshop.catalog.schemas import ProductIn, ShopIn, SkuIn
from liveshop.core.db import Database
from liveshop.core.settings import get_settings

DEMO_DOMAIN = "liveshop.demo"


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

            # HOOK(lead): stock. Inventory owns stock levels; give every demo SKU stock here
            # through inventory's service (e.g. receive into the shop's default warehouse up
            # to a target level, so a second run adds nothing). summary.sku_ids has the SKUs.
            #
            # HOOK(lead): live demo session. Create a live session for a demo creator
            # (summary.user_ids["creator1@liveshop.demo"]) showcasing one shop's products
            # (summary.product_ids), through live's service, found by a natural key too.
    if console is not None:
        _print_summary(console, summary)
    return summary


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
    ):
        table.add_row(label, str(total), str(created))
    console.print(table)
    console.print(
        f"Sign in as admin@{DEMO_DOMAIN}, seller1@{DEMO_DOMAIN}, creator1@{DEMO_DOMAIN} or "
        f"buyer1@{DEMO_DOMAIN} with the password [bold]{get_settings().demo_password}[/bold]."
    )
