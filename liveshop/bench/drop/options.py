"""What a drop run is asked to do, and the figures it reports."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

RESULT_KEYS = (
    "taps",
    "taps_per_s",
    "claim_p50_ms",
    "claim_p99_ms",
    "sold_out_per_s",
    "sellout_s",
    "paid_orders",
    "paid_per_s",
    "oversold",
    "stock_identity_ok",
    "ledger_balanced",
    "baseline_floor_taps_per_s",
    "baseline_checkout_taps_per_s",
    "baseline_naive_taps_per_s",
)
POLICIES = ("hold_then_pay", "first_paid_wins", "queue", "lottery")
CARD = "4242424242424242"  # the sandbox card that pays
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class DropOptions:
    db: str = "postgres"  # "postgres" (a fresh database next to database_url) or "sqlite"
    database_url: str | None = None  # PostgreSQL server to make the fresh database on
    tappers: int = 2000
    stock: int = 500
    policy: str = "hold_then_pay"
    # What the buyers tap: "deal" (a flash deal of ``stock`` units under ``policy``) or
    # "shelf" (the product on show without a deal: its SKU's ``stock`` units, list price).
    on: str = "deal"
    hold_seconds: int = 300
    # How taps arrive: "ws" (the room's socket: how a viewer in the room taps — the page
    # sends its claim there, HTTP only when the socket is down) or "http" (the raw route).
    via: str = "ws"
    workers: int = 2  # server processes sharing one port (SO_REUSEPORT)
    seed: int = 1  # the tap schedule: who sits on which connection, and in which order
    # After the first sold-out answer, refused tappers keep tapping this long (the sold-out
    # throughput is measured over this window).
    sold_out_window_s: float = 2.0
    # The tap schedule. 0, 0: every buyer taps at the drop's instant and a refused buyer
    # taps again as soon as answered (closed loop: the server's capacity). spread_ms > 0:
    # each buyer's first tap comes after a reaction time drawn (from ``seed``) uniformly in
    # [0, spread_ms); retap_ms > 0: a refused buyer waits that long before tapping again.
    # Winners pay on new connections (spread over the servers by the kernel) instead of the
    # one they tapped on: a node's batch decides many winners at once, so on their own
    # connections the payments of a drop mostly land on one server process.
    pay_new_connections: bool = False
    # How winners pay: "http" (``POST …/claims/{id}/pay`` with the card typed in) or "ws"
    # (the room socket's ``pay`` frame: one tap with the saved card); None: as ``via``.
    pay_via: str | None = None
    spread_ms: float = 0.0
    retap_ms: float = 0.0
    phase_timeout_s: float = 120.0  # a phase that has not finished by then fails the run
    client_procs: int = 0  # load-generator processes (0: one per ~700 tappers, 2 to 4)
    # Baselines of the same run, on the same server processes.
    floor: bool = True
    checkout: bool = True
    naive: bool = True
    redis_url: str = "redis://127.0.0.1:6379/13"  # the broker when there are several workers
    # "spread": server process i pinned to CPU i, the load generator floating (as a node's
    # workers would run); "none": nothing pinned.
    placement: str = "spread"
    # A phase ("claim", "pay", "floor", …) to sample with py-spy in every server process,
    # from its drop to its last answer: raw stacks written to ``profile_to``.<pid>.txt.
    profile_phase: str | None = None
    profile_to: str = "drop-profile"

    def client_processes(self) -> int:
        if self.client_procs > 0:
            return self.client_procs
        ncpu = os.cpu_count() or 1
        return max(1, min(max(2, ncpu), math.ceil(self.tappers / 700)))

    def check(self) -> None:
        if self.db not in ("postgres", "sqlite"):
            raise ValueError("--db must be postgres or sqlite")
        if self.policy not in POLICIES:
            raise ValueError(f"--policy must be one of {', '.join(POLICIES)}")
        if self.on not in ("deal", "shelf"):
            raise ValueError("--on must be deal or shelf")
        if self.via not in ("http", "ws"):
            raise ValueError("--via must be http or ws")
        if self.pay_via not in (None, "http", "ws"):
            raise ValueError("--pay-via must be http or ws")
        if not 60 <= self.hold_seconds <= 1800:
            raise ValueError("--hold-seconds must be 60 to 1800")
        if self.tappers < 1 or self.stock < 1 or self.workers < 1:
            raise ValueError("--tappers, --stock and --workers must be at least 1")
        if self.placement not in ("spread", "none"):
            raise ValueError("--placement must be spread or none")


# The claim desk's counters each server process prints on ``STATS`` (``server.desk_stats``).
DESK_COUNTERS = ("held", "batches", "memory_answers")
