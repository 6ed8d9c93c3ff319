"""Real-browser tests: Debian's Chromium driven by Playwright against a real uvicorn.

One server per test file (a subprocess on a free port) over a fresh copy of a migrated SQLite
database holding the demo data (stock for every SKU, a live show with a pinned product and a
flash deal, an upcoming show and a replay) and some paid orders; the database is built once
per test process and copied (``DemoTemplates``). Chromium must be at
/usr/bin/chromium (``make system-deps`` installs it); without it these tests skip, or fail
when LIVESHOP_REQUIRE_SERVICES=1. ``playwright install`` is never needed.

Use ``open_page`` (or ``browser``) from here, not pytest-playwright's ``page``/``context``
fixtures: see ``browser`` for why.
"""

from __future__ import annotations

import asyncio
import copy
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.support import Watch, login
from tests.conftest import service_missing

# An assertion waits for what a user would see up to 10 s (Playwright's default is 5): with
# four test workers on two cores a room event can take longer than 5 s to be drawn. Passing
# assertions return as soon as they hold.
expect.set_options(timeout=10_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
STARTUP_TIMEOUT_S = 30.0


@dataclass
class Demo:
    """What the tests need to know about the server's data."""

    base_url: str
    password: str
    product_ids: dict[str, int] = field(default_factory=dict)
    sku_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    live_session_id: int | None = None  # the demo's live show (creator1, GB)
    deal_id: int | None = None  # its running flash deal


def _listening_socket() -> socket.socket:
    """A bound, listening socket on a free port for the server process to inherit (no race
    for the port, and connections queue until the server accepts them)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def _prepare(url: str) -> Demo:
    from liveshop.core.db import Database
    from liveshop.core.settings import get_settings
    from liveshop.demo import load_demo

    db = Database(url)
    try:
        summary = await load_demo(db)  # stock, a live show with a pin and a flash deal, …
        on_air = summary.show_ids["live"]
        await _sales_history(db, summary, on_air, summary.user_ids["creator1@liveshop.demo"])
    finally:
        await db.dispose()
    return Demo(
        base_url="",
        password=get_settings().demo_password,
        product_ids=dict(summary.product_ids),
        sku_ids=dict(summary.sku_ids),
        user_ids=dict(summary.user_ids),
        live_session_id=on_air,
        deal_id=summary.deal_id,
    )


# (days ago, buyer number, SKU code, quantity, market, through the live show)
HISTORY = [
    (9, 2, "BB-RHS-30", 1, "GB", False),
    (8, 3, "BB-VCM-50", 2, "GB", False),
    (7, 4, "BB-TLB-ROSEWOOD", 3, "GB", True),
    (6, 5, "BB-DST-03", 1, "GB", False),
    (5, 6, "BB-OCB-100", 1, "GB", True),
    (5, 7, "BB-RHS-15", 2, "GB", False),
    (4, 8, "BB-GCM-75", 1, "GB", False),
    (3, 13, "BB-CEC-15", 1, "VN", False),
    (2, 9, "BB-AHO-100", 2, "GB", True),
    (1, 10, "BB-HSM-5", 4, "GB", False),
    (1, 14, "BB-RHS-30", 1, "VN", False),
    (0, 11, "BB-TLB-BERRY", 2, "GB", True),
]


async def _sales_history(db: Any, summary: Any, live_session_id: int, creator_id: int) -> None:
    """Paid orders for Bloom & Botanic through the real checkout and sandbox payment, then
    back-dated (test data only) so the seller center's per-day charts have a history."""
    from sqlalchemy import update

    from liveshop.core.clock import utcnow
    from liveshop.core.settings import get_settings
    from liveshop.orders import payment_flow
    from liveshop.orders.checkout import place_order
    from liveshop.orders.lines import Attribution, CheckoutLine
    from liveshop.orders.models import Order
    from liveshop.orders.payments.provider import CardDetails
    from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider

    provider = SandboxProvider(get_settings().webhook_secret(), delay_s=0)
    now = utcnow()
    async with db.session() as s:
        for n, (days, buyer, sku, qty, market, live) in enumerate(HISTORY):
            buyer_id = summary.user_ids[f"buyer{buyer}@liveshop.demo"]
            placed = await place_order(
                s,
                buyer_id=buyer_id,
                market_code=market,
                lines=[CheckoutLine(sku_id=summary.sku_ids[sku], quantity=qty)],
                idempotency_key=f"history-{n}",
                attribution=Attribution(live_session_id=live_session_id, creator_id=creator_id)
                if live
                else None,
            )
            await payment_flow.pay_order(
                s,
                provider,
                order_id=placed.order.id,
                buyer_id=buyer_id,
                card=CardDetails(CARD_SUCCEEDS, 12, now.year + 2, "123"),
            )
            when = now - timedelta(days=days, hours=n % 5)
            await s.execute(
                update(Order)
                .where(Order.id == placed.order.id)
                .values(created_at=when, paid_at=when + timedelta(minutes=2))
            )
            await s.commit()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """One request that the server answers once it is up: its listening socket existed
    before it started (the kernel queues the connection), and only the server holds it now,
    so a server that dies closes it and the request fails at once."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=STARTUP_TIMEOUT_S) as resp:
            if resp.status == 200:
                return
    except OSError as exc:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}") from exc
        raise RuntimeError(f"the server did not come up ({exc}):\n{log.read_text()}") from exc
    raise RuntimeError(f"the server answered /healthz with {resp.status}:\n{log.read_text()}")


@dataclass
class _Template:
    path: Path
    demo: Demo
    made_at: float  # time.monotonic()
    day: date  # the UTC day its sales history counts from


class DemoTemplates:
    """The migrated demo database with its sales history, built once per test process and
    copied for each browser test file: building it takes seconds (every migration, the demo,
    twelve paid orders), copying it a few milliseconds. Every file still gets a database of
    its own, fresh from the demo. A template is rebuilt when it is older than ``MAX_AGE_S``
    or was built on another UTC day (its shows, deals and back-dated sales are relative to
    when it was made)."""

    MAX_AGE_S = 45 * 60  # the demo deal runs 2 h; a full run on a slow machine takes ~30 min

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: _Template | None = None
        self._built = 0

    def _fresh(self) -> _Template:
        made = self._made
        if (
            made is not None
            and time.monotonic() - made.made_at < self.MAX_AGE_S
            and made.day == datetime.now(UTC).date()
        ):
            return made
        self._built += 1
        path = self.folder / f"template-{self._built}.db"
        url = f"sqlite+aiosqlite:///{path}"

        def prepare() -> Demo:
            from liveshop.core.migrate import upgrade

            upgrade(url)
            return asyncio.run(_prepare(url))

        day = datetime.now(UTC).date()
        # In a thread of its own: Playwright's sync API may already run an event loop here.
        with ThreadPoolExecutor(max_workers=1) as pool:
            info = pool.submit(prepare).result()
        self._made = _Template(path, info, time.monotonic(), day)
        return self._made

    def copy_to(self, target: Path) -> Demo:
        """A copy of a fresh template at ``target`` (SQLite's backup: whole and consistent
        whatever the journal holds), and what the tests need to know about it."""
        made = self._fresh()
        with closing(sqlite3.connect(made.path)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
        return copy.deepcopy(made.demo)


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> DemoTemplates:
    return DemoTemplates(tmp_path_factory.mktemp("browser-templates"))


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_templates: DemoTemplates) -> Iterator[Demo]:
    """A real server over a fresh copy of the demo database, for the package's tests (with
    xdist's ``--dist loadfile``: for each file)."""
    work = tmp_path_factory.mktemp("browser")
    url = f"sqlite+aiosqlite:///{work / 'liveshop.db'}"
    info = demo_templates.copy_to(work / "liveshop.db")
    listener = _listening_socket()
    port = int(listener.getsockname()[1])
    env = {
        **os.environ,
        "LIVESHOP_DATABASE_URL": url,
        "LIVESHOP_LOG_LEVEL": "WARNING",
        "LIVESHOP_SANDBOX_WEBHOOK_DELAY_S": "0.2",
        # The simulated carrier: a week of carrier time in about two seconds, always a delay.
        "LIVESHOP_SIMULATED_CARRIER_SPEEDUP": "300000",
        "LIVESHOP_SIMULATED_CARRIER_SECONDS": "0.3",
        "LIVESHOP_SIMULATED_CARRIER_SCENARIO": "delayed",
        "LIVESHOP_MEDIA_DIR": str(work / "media"),  # uploaded product images
    }
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "liveshop.app:create_app",
                "--factory",
                "--fd",
                str(listener.fileno()),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )
    listener.close()  # the server's now: if it dies, connecting fails instead of waiting
    info.base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(info.base_url, proc, log)
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for this package's tests only.

    Launched here rather than through pytest-playwright's session-wide ``playwright``
    fixture: Playwright's sync API keeps an event loop running in the main thread while it is
    alive, and pytest-asyncio cannot run the async tests that come after it. A package-scoped
    Playwright is stopped before pytest leaves ``tests/browser``.
    """
    if not CHROMIUM.exists():
        service_missing("Chromium", f"{CHROMIUM} is missing (run `make system-deps` as root)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package")
def signed_in_states() -> dict[str, Any]:
    """Browser storage (the session cookies) per e-mail: each user logs in through the form
    once per test session; later pages start signed in."""
    return {}


@pytest.fixture
def open_page(
    browser: Browser, demo: Demo, signed_in_states: dict[str, Any]
) -> Iterator[Callable[..., Page]]:
    """``open_page(email=None, viewport=DESKTOP)``: a page in a fresh browser context, signed
    in as ``email`` when given. Every page opened this way must end the test without console
    errors or uncaught exceptions (checked at teardown)."""
    contexts: list[BrowserContext] = []
    watches: list[Watch] = []

    def _open(email: str | None = None, viewport: dict[str, int] = DESKTOP) -> Page:
        state = signed_in_states.get(email) if email else None
        ctx = browser.new_context(base_url=demo.base_url, viewport=viewport, storage_state=state)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        watches.append(Watch(page))
        if email is not None and state is None:
            login(page, email, demo.password)
            signed_in_states[email] = ctx.storage_state()
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    errors = [e for w in watches for e in w.errors]
    assert errors == [], "pages logged errors:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests leave their screenshots: a temporary folder, so a test run never
    changes the work tree. ``make screenshots`` sets LIVESHOP_SCREENSHOTS_DIR=docs/screenshots
    to refresh the committed ones on purpose."""
    chosen = os.environ.get("LIVESHOP_SCREENSHOTS_DIR")
    folder = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
