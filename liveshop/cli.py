"""The ``liveshop`` command: serve, db, demo, user, bench.

Each command imports what it runs when it runs: ``liveshop --help`` starts in 0.3 s instead of
2 s with every domain loaded. None of these imports breaks a cycle (the package has none:
``tests/test_architecture.py``); this module is the top of the house and nothing imports it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from liveshop.core.settings import InsecureSettings, get_settings

if TYPE_CHECKING:
    from liveshop.bench.simulate import SimResult
    from liveshop.core.backup import Progress

app = typer.Typer(help="liveshop — live-shopping platform", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (see BENCHMARKS.md)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(bench_app, name="bench")

console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the API and pages."""
    import os

    import uvicorn

    if port is not None:  # the app tells its media server where to call back
        os.environ["LIVESHOP_PORT"] = str(port)
        get_settings.cache_clear()
    s = get_settings()
    try:
        s.refuse_insecure_production()
    except InsecureSettings as exc:
        console.print(f"[red]Refusing to start: {exc}[/red]")
        raise typer.Exit(2) from None
    if workers > 1:
        if s.broker_url.startswith("memory"):
            console.print(
                "[red]--workers > 1 needs LIVESHOP_BROKER_URL=redis://…: with the in-process "
                "broker, live-room events would not cross the workers[/red]"
            )
            raise typer.Exit(2)
        os.environ.setdefault("LIVESHOP_LIVE_WORKERS", str(workers))  # shared frame budget
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics sums every worker's figures (prometheus-client's multiprocess mode):
            # set before any worker imports prometheus_client, emptied at each start.
            import tempfile

            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="liveshop-metrics-")
    uvicorn.run(
        "liveshop.app:create_app",
        factory=True,
        host=host or s.host,
        port=port or s.port,
        reload=reload,
        workers=None if reload else workers,
        ws_per_message_deflate=False,
        log_level=s.log_level.lower(),
        # On SIGTERM, requests still running after this long are cancelled (their
        # transactions roll back) so a deploy never hangs on one stuck request.
        timeout_graceful_shutdown=s.graceful_shutdown_seconds,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database (LIVESHOP_DATABASE_URL) to the latest schema."""
    from liveshop.core.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    console.print(f"[green]database at {revision}[/green] ({url.split('@')[-1]})")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION ('base' empties it)."""
    from liveshop.core.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    console.print(f"[yellow]database at {revision}[/yellow]")


def _table_count() -> int:
    import liveshop.models  # noqa: F401  (every table)
    from liveshop.core.db import Base

    return len(Base.metadata.tables) + 1  # and alembic_version


def _with_progress(what: str, work: Callable[[Progress], None]) -> None:
    """Run ``work(progress)`` under a rich progress bar; a BackupError is a clear exit 1."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from liveshop.core.backup import BackupError

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            work(advance)
        except BackupError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None


@db_app.command("backup")
def db_backup(path: Annotated[Path, typer.Argument(help="The backup file to write")]) -> None:
    """Back the database up to PATH while it runs: SQLite's online backup API, or
    pg_dump's custom format for PostgreSQL (restore with `liveshop db restore PATH`)."""
    from liveshop.core import backup

    url = get_settings().database_url
    tables = _table_count()
    _with_progress("Backing up", lambda progress: backup.backup(url, path, progress, tables=tables))
    size = path.stat().st_size
    console.print(f"[green]backed up[/green] {_where(url)} to {path} ({size:,} bytes)")


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file made by `liveshop db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before replacing")] = False,
) -> None:
    """Replace the database (LIVESHOP_DATABASE_URL) with the backup at PATH. Stop the app
    first: its node caches would not know the data changed under them."""
    from liveshop.core import backup

    url = get_settings().database_url
    if not yes:
        typer.confirm(f"Replace everything in {_where(url)} with {path}?", abort=True)
    tables = _table_count()
    _with_progress("Restoring", lambda progress: backup.restore(url, path, progress, tables=tables))
    console.print(f"[green]restored[/green] {path} into {_where(url)}")


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo shops, products, creators and buyers (safe to run again)."""
    from liveshop.core.db import Database
    from liveshop.demo import load_demo
    from liveshop.wiring import install_domain_events

    install_domain_events()  # the demo's orders and shows run the same subscriptions as the app

    async def _run() -> None:
        db = Database(get_settings().database_url)
        try:
            await load_demo(db, console=console)
        finally:
            await db.dispose()

    asyncio.run(_run())


@app.command()
def simulate(
    market: Annotated[str, typer.Option(help="the market to simulate (ISO code)")] = "GB",
    weeks: Annotated[int, typer.Option(min=1, max=52, help="weeks of history, ending now")] = 4,
    seed: Annotated[int, typer.Option(help="the same seed makes the same market")] = 1,
    creators: Annotated[int, typer.Option(min=1, max=100)] = 6,
    audience: Annotated[int, typer.Option(min=1, max=10_000, help="viewers of a show")] = 18,
) -> None:
    """Generate a realistic market through the real services on a simulated clock: shows,
    audiences (heartbeats), orders, returning buyers, refunds, pins. Fills the analytics
    dashboards and the market-readiness page; doubles as a load generator."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from liveshop.bench.simulate import SimOptions
    from liveshop.bench.simulate import simulate as run_simulation
    from liveshop.core.db import Database
    from liveshop.core.money import format_minor
    from liveshop.wiring import install_domain_events

    install_domain_events()
    opts = SimOptions(
        market=market.upper(), weeks=weeks, seed=seed, creators=creators, audience=audience
    )
    settings = get_settings()
    console.print(
        f"Simulating {opts.market}, {weeks} weeks, seed {seed} in {_where(settings.database_url)}"
    )
    started = time.monotonic()

    async def _run() -> SimResult:
        db = Database(settings.database_url)
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("simulated minutes live", total=None)

                def advance(n: int) -> None:
                    progress.advance(task, n)

                def planned(total: int) -> None:
                    progress.update(task, total=total)

                return await run_simulation(db, opts, advance=advance, planned=planned)
        finally:
            await db.dispose()

    result = asyncio.run(_run())
    table = Table(title=f"Simulated market {opts.market} (seed {seed})")
    table.add_column("what")
    table.add_column("how many", justify="right")
    r = result
    for label, value in (
        ("shows", r.sessions),
        ("hours live", f"{r.minutes_live / 60:.0f}"),
        ("heartbeats", r.heartbeats),
        ("orders paid", r.orders),
        ("refunds", r.refunds),
        ("GMV", format_minor(r.gmv_minor, r.currency, "en_GB")),
        ("took", f"{time.monotonic() - started:.1f} s"),
    ):
        table.add_row(label, str(value))
    console.print(table)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login e-mail")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="Password")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    role: Annotated[list[str] | None, typer.Option(help="Role; repeat for several")] = None,
) -> None:
    """Create a user with the given roles (buyer if none)."""
    from liveshop.accounts import service
    from liveshop.accounts.models import Role
    from liveshop.core.db import Database
    from liveshop.core.errors import Problem

    try:
        roles = [Role(r) for r in (role or ["buyer"])]
    except ValueError as exc:
        console.print(f"[red]{exc}; roles are: {', '.join(Role)}[/red]")
        raise typer.Exit(2) from exc

    async def _run() -> None:
        db = Database(get_settings().database_url)
        try:
            async with db.session() as session:
                user = await service.create_user(
                    session,
                    email=email,
                    password=password,
                    display_name=name or email.split("@")[0],
                    roles=roles,
                    audited=True,
                )
                console.print(f"[green]created user {user.id} {user.email}[/green] roles={roles}")
        finally:
            await db.dispose()

    try:
        asyncio.run(_run())
    except Problem as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc


@bench_app.command("flash-sale")
def bench_flash_sale(
    db: Annotated[str, typer.Option("--db", help="sqlite or postgres")] = "sqlite",
    buyers: Annotated[int, typer.Option(min=1, help="Concurrent buyers")] = 1000,
    stock: Annotated[int, typer.Option(min=0, help="Units of the one SKU on sale")] = 100,
    concurrency: Annotated[int, typer.Option(min=1, help="Checkouts in flight at once")] = 64,
    runs: Annotated[int, typer.Option(min=1, help="Repeat and report medians")] = 1,
    naive: Annotated[bool, typer.Option(help="Only the read-then-write baseline")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
    pg_url: Annotated[
        str | None, typer.Option(help="PostgreSQL admin URL (a temporary database is made)")
    ] = None,
) -> None:
    """N buyers race through the real checkout for S units (see BENCHMARKS.md)."""
    import json

    from rich.table import Table

    from liveshop.bench.flash_sale import median_of, run_flash_sale

    if db not in ("sqlite", "postgres"):
        console.print("[red]--db must be sqlite or postgres[/red]")
        raise typer.Exit(2)

    def measure(naive_mode: bool) -> dict[str, object]:
        results = [
            asyncio.run(
                run_flash_sale(
                    db_kind=db,
                    buyers=buyers,
                    stock=stock,
                    concurrency=concurrency,
                    naive=naive_mode,
                    pg_admin_url=pg_url,
                    console=console,
                )
            )
            for _ in range(runs)
        ]
        return median_of(results)

    if as_json:
        print(json.dumps(measure(naive)))
        return
    modes = (
        [("naive read-then-write", True)]
        if naive
        else [("liveshop checkout", False), ("naive read-then-write (baseline)", True)]
    )
    figures = {label: measure(mode) for label, mode in modes}
    table = Table(title=f"flash sale: {buyers} buyers, {stock} units, {db}, median of {runs}")
    table.add_column("variant")
    for key in (
        "orders",
        "oversold",
        "stock_left",
        "reservations_per_s",
        "p50_ms",
        "p99_ms",
        "ledger_balanced",
    ):
        table.add_column(key, justify="right")
    for label, fig in figures.items():
        table.add_row(label, *(str(v) for v in fig.values()))
    Console(width=160).print(table)
    if len(figures) == 2:
        real, base = figures.values()
        ratio = float(str(real["reservations_per_s"])) / max(
            float(str(base["reservations_per_s"])), 1e-9
        )
        Console().print(f"throughput ratio liveshop/naive: {ratio:.2f}")


@bench_app.command("fanout")
def bench_fanout(
    viewers: Annotated[int, typer.Option(min=1, help="WebSocket viewers in the room")] = 1000,
    chat_rate: Annotated[float, typer.Option(min=0, help="Comments per second")] = 100.0,
    seconds: Annotated[float, typer.Option(min=1, help="Measured window")] = 10.0,
    nodes: Annotated[int, typer.Option(min=1, help="Server nodes, one port each")] = 1,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Server processes per node, sharing its port (0: as many as the open-files "
            "limit needs)",
        ),
    ] = 0,
    stock_rate: Annotated[float, typer.Option(min=0, help="Stock updates per second")] = 10.0,
    naive: Annotated[bool, typer.Option(help="Baseline: one send per event per viewer")] = False,
    comment_cap: Annotated[
        float | None, typer.Option(help="Chat lines/s shown in big rooms (server default 30)")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Repeat and report medians")] = 1,
    redis_url: Annotated[str, typer.Option(help="Redis when more than one process")] = (
        "redis://127.0.0.1:6379/15"
    ),
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server for a fresh database (default: fresh SQLite)"),
    ] = None,
    placement: Annotated[
        str,
        typer.Option(
            help="pinned: server on CPU 0, clients on the others; shared: the server may use "
            "every CPU, the counting viewers run at the lowest priority; spread: as shared, "
            "server process i on CPU i"
        ),
    ] = "spread",
    capture: Annotated[
        bool, typer.Option(help="Keep the players' heartbeats (analytics capture)")
    ] = True,
    heartbeat_s: Annotated[
        float, typer.Option(min=0, help="Each viewer's player beats this often (0: never)")
    ] = 15.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """N real WebSocket viewers in one live room; latency from publish to receipt."""
    import json

    from rich.table import Table

    from liveshop.bench.fanout import RESULT_KEYS, FanoutOptions
    from liveshop.bench.fanout.run import median_of, run_fanout

    opts = FanoutOptions(
        viewers=viewers,
        chat_rate=chat_rate,
        seconds=seconds,
        nodes=nodes,
        workers=workers,
        database_url=database_url,
        stock_rate=stock_rate,
        naive=naive,
        comment_cap=comment_cap,
        redis_url=redis_url,
        placement=placement,
        capture=capture,
        heartbeat_s=heartbeat_s,
    )
    if placement not in ("pinned", "shared", "spread"):
        raise typer.BadParameter("--placement must be pinned, shared or spread")
    result = median_of([run_fanout(opts, console=console) for _ in range(runs)])
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"fan-out: {viewers} viewers, {chat_rate}/s chat, median of {runs}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key != "options":
            table.add_row(key, str(value), style="bold" if key in RESULT_KEYS else None)
    Console(width=160).print(table)


@bench_app.command("drop")
def bench_drop(
    db: Annotated[str, typer.Option("--db", help="postgres or sqlite (a fresh database)")] = (
        "postgres"
    ),
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server for the fresh database (default: the test one)"),
    ] = None,
    tappers: Annotated[int, typer.Option(min=1, help="Signed-in buyers tapping the deal")] = 2000,
    stock: Annotated[int, typer.Option(min=1, help="Units of the deal")] = 500,
    policy: Annotated[
        str, typer.Option(help="hold_then_pay, first_paid_wins, queue or lottery")
    ] = "hold_then_pay",
    hold_seconds: Annotated[int, typer.Option(help="How long a claim holds (60-1800)")] = 300,
    on: Annotated[
        str,
        typer.Option(help="deal (a flash deal) or shelf (the product on show, no deal)"),
    ] = "deal",
    via: Annotated[
        str, typer.Option(help="ws (the room's socket, as viewers in the room tap) or http")
    ] = "ws",
    workers: Annotated[int, typer.Option(min=1, help="Server processes (one port)")] = 2,
    runs: Annotated[int, typer.Option(min=1, help="Repeat and report medians")] = 1,
    seed: Annotated[int, typer.Option(help="The tap schedule (who taps where, in what order)")] = 1,
    sold_out_window: Annotated[
        float, typer.Option(min=0.1, help="Seconds refused buyers keep tapping after sell-out")
    ] = 2.0,
    spread_ms: Annotated[
        float, typer.Option(min=0, help="First taps spread over this many ms (reaction times)")
    ] = 0.0,
    retap_ms: Annotated[
        float, typer.Option(min=0, help="A refused buyer waits this long before tapping again")
    ] = 0.0,
    pay_new_connections: Annotated[
        bool,
        typer.Option(help="Winners pay on new connections (spread over the server processes)"),
    ] = False,
    pay_via: Annotated[
        str | None,
        typer.Option(help="Winners pay over http (card typed in) or ws (one tap, saved card)"),
    ] = None,
    baselines: Annotated[
        bool, typer.Option(help="Also the floor, checkout and naive baselines")
    ] = True,
    redis_url: Annotated[str, typer.Option(help="Broker of the server processes")] = (
        "redis://127.0.0.1:6379/13"
    ),
    profile: Annotated[
        str | None,
        typer.Option(help="Sample the servers with py-spy during this phase (claim, pay, …)"),
    ] = None,
    profile_to: Annotated[
        str, typer.Option(help="py-spy's raw stacks go to PREFIX.<pid>.txt")
    ] = "drop-profile",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """The drop: N buyers tap a deal of S units over HTTP or the room's WebSocket, then pay
    (issue 14's acceptance benchmark; see BENCHMARKS.md)."""
    import json

    from rich.table import Table

    from liveshop.bench.drop import RESULT_KEYS, DropOptions
    from liveshop.bench.drop.run import median_of, run_drop

    opts = DropOptions(
        db=db,
        database_url=database_url,
        tappers=tappers,
        stock=stock,
        policy=policy,
        hold_seconds=hold_seconds,
        on=on,
        via=via,
        workers=workers,
        seed=seed,
        sold_out_window_s=sold_out_window,
        spread_ms=spread_ms,
        retap_ms=retap_ms,
        pay_new_connections=pay_new_connections,
        pay_via=pay_via,
        floor=baselines,
        checkout=baselines,
        naive=baselines,
        redis_url=redis_url,
        profile_phase=profile,
        profile_to=profile_to,
    )
    try:
        opts.check()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    result = median_of([run_drop(opts, console=console) for _ in range(runs)])
    if as_json:
        print(json.dumps(result))
        return
    what = policy if on == "deal" else "on show, no deal"
    table = Table(title=f"drop: {tappers} tappers, {stock} units, {what}, {via}, {db}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key not in ("options", "phases"):
            table.add_row(key, str(value), style="bold" if key in RESULT_KEYS else None)
    Console(width=160).print(table)


@bench_app.command("video-latency")
def bench_video_latency(
    seconds: Annotated[
        float, typer.Option(min=1, help="How long the viewers watch (after startup)")
    ] = 30.0,
    keyframe_s: Annotated[
        float, typer.Option(min=0.1, help="The encoder's keyframe interval (OBS setting)")
    ] = 1.0,
    fps: Annotated[int, typer.Option(min=5, max=60, help="Frames per second pushed")] = 30,
    baseline: Annotated[
        bool, typer.Option(help="Also watch with the player as it was before (same stream)")
    ] = True,
    runs: Annotated[int, typer.Option(min=1, help="Repeat and report medians")] = 1,
    baseline_tuning: Annotated[
        str,
        typer.Option(
            help="The baseline viewer's player: 'baseline' (before issue 17) or 'h17' "
            "(the first issue-17 tuning, no blocking reload)"
        ),
    ] = "baseline",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Glass-to-glass latency of the room's live video: ffmpeg pushes frames that carry
    their wall-clock time, headless Chromium plays the room and reads it back (issue 17)."""
    import json

    from rich.table import Table

    from liveshop.bench.video_latency import (
        RESULT_KEYS,
        VideoLatencyOptions,
        median_of,
        run_video_latency,
    )

    opts = VideoLatencyOptions(
        seconds=seconds,
        fps=fps,
        keyframe_s=keyframe_s,
        baseline=baseline,
        baseline_tuning=baseline_tuning,
    )
    shown = None if as_json else console
    result = median_of([run_video_latency(opts, console=shown) for _ in range(runs)])
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"video latency: {seconds:g} s, keyframe every {keyframe_s:g} s")
    table.add_column("measure")
    table.add_column("tuned", justify="right")
    table.add_column("baseline", justify="right")
    base = result.get("baseline") or {}
    for key, value in result.items():
        if key != "baseline":
            style = "bold" if key in RESULT_KEYS else None
            table.add_row(key, str(value), str(base.get(key, "")), style=style)
    Console(width=160).print(table)


if __name__ == "__main__":
    app()
