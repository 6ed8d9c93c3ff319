"""Carriers behind one interface: ``book`` a parcel (a tracking number back, and the events
the carrier will report). *manual*: the seller hands the parcel over and types the carrier's
tracking number. *simulated*: behaves like a real carrier — it books the parcel, then sends
signed tracking webhooks over time (picked up → in transit → out for delivery → delivered)
with per-market transit times and, now and then, a delay, a failed attempt or a lost parcel.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from liveshop.logistics.models import TrackingStatus

T = TrackingStatus


@dataclass(frozen=True, slots=True)
class Parcel:
    market_code: str
    service: str  # "standard" | "express"
    weight_grams: int
    city: str  # where it goes (for event locations)


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    status: TrackingStatus
    after: timedelta  # carrier time after booking
    description: str
    location: str


@dataclass(frozen=True, slots=True)
class Booking:
    tracking_number: str
    events: tuple[PlannedEvent, ...]  # what the carrier will report (none for manual)


class Carrier(Protocol):
    code: str
    name: str

    def book(self, parcel: Parcel, *, tracking_number: str | None) -> Booking: ...


class ManualCarrier:
    """The seller ships with any carrier and types its tracking number."""

    code = "manual"
    name = "Manual"

    def book(self, parcel: Parcel, *, tracking_number: str | None) -> Booking:
        number = (tracking_number or "").strip()
        if not number:
            raise ValueError("a manual shipment needs the carrier's tracking number")
        return Booking(tracking_number=number, events=())


# Working days in transit after pickup, per market: (fastest, slowest) for standard service.
TRANSIT_DAYS: dict[str, tuple[int, int]] = {
    "GB": (1, 2),
    "DE": (1, 3),
    "FR": (1, 3),
    "IT": (2, 4),
    "ES": (2, 4),
    "US": (2, 5),
    "ID": (2, 5),
    "TH": (1, 3),
    "MY": (2, 4),
    "VN": (2, 4),
}
HUBS: dict[str, str] = {
    "GB": "Birmingham hub",
    "DE": "Leipzig hub",
    "FR": "Paris-Roissy hub",
    "IT": "Bologna hub",
    "ES": "Madrid hub",
    "US": "Louisville hub",
    "ID": "Jakarta hub",
    "TH": "Bangkok hub",
    "MY": "Shah Alam hub",
    "VN": "Ho Chi Minh City hub",
}

Scenario = str  # "normal" | "delayed" | "failed_attempt" | "lost"


def scenario_of(rng: random.Random) -> Scenario:
    roll = rng.random()
    if roll < 0.02:
        return "lost"
    if roll < 0.10:
        return "failed_attempt"
    if roll < 0.20:
        return "delayed"
    return "normal"


class SimulatedCarrier:
    """Liveshop Express (simulated): a carrier in test mode. Its plan is drawn from the
    tracking number (reproducible); ``scenario`` forces one outcome (tests, demos)."""

    code = "simulated"
    name = "Liveshop Express (simulated)"

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.scenario = scenario

    def book(self, parcel: Parcel, *, tracking_number: str | None = None) -> Booking:
        number = tracking_number or "LSX" + secrets.token_hex(5).upper()
        rng = random.Random(int(hashlib.sha256(number.encode()).hexdigest()[:16], 16))
        scenario = self.scenario or scenario_of(rng)
        return Booking(number, plan(parcel, rng, scenario))


def plan(parcel: Parcel, rng: random.Random, scenario: Scenario) -> tuple[PlannedEvent, ...]:
    """The events of one parcel, in carrier time after booking (hours)."""
    fast, slow = TRANSIT_DAYS.get(parcel.market_code, (2, 5))
    if parcel.service == "express":
        fast, slow = 1, max(1, fast)
    hub = HUBS.get(parcel.market_code, "sorting hub")
    town = parcel.city or "the delivery depot"
    h = rng.randint(3, 20)
    events = [PlannedEvent(T.PICKED_UP, timedelta(hours=h), "Collected from the seller", "")]
    h += rng.randint(2, 6)
    events.append(PlannedEvent(T.IN_TRANSIT, timedelta(hours=h), "At the sorting hub", hub))
    days = rng.randint(fast, slow)
    if scenario == "delayed":
        h += 20
        events.append(
            PlannedEvent(T.DELAYED, timedelta(hours=h), "Delayed at the hub: a day late", hub)
        )
        days += 1
    if scenario == "lost":
        h += 24 * days + 30
        events.append(PlannedEvent(T.LOST, timedelta(hours=h), "The parcel is lost", hub))
        return tuple(events)
    h = 24 * days + rng.randint(6, 9)  # the morning of the last day
    events.append(PlannedEvent(T.OUT_FOR_DELIVERY, timedelta(hours=h), "Out for delivery", town))
    if scenario == "failed_attempt":
        h += rng.randint(3, 8)
        events.append(
            PlannedEvent(T.FAILED_ATTEMPT, timedelta(hours=h), "Nobody in: tried again", town)
        )
        h = h - h % 24 + 24 + 8
        events.append(
            PlannedEvent(T.OUT_FOR_DELIVERY, timedelta(hours=h), "Out for delivery again", town)
        )
    h += rng.randint(2, 6)
    events.append(PlannedEvent(T.DELIVERED, timedelta(hours=h), "Delivered", town))
    return tuple(events)


CARRIERS: dict[str, Carrier] = {
    ManualCarrier.code: ManualCarrier(),
    SimulatedCarrier.code: SimulatedCarrier(),
}


def scheduled_at(booked_at: datetime, after: timedelta, speedup: float) -> datetime:
    """When (real time) a planned event is sent: carrier time compressed by ``speedup``."""
    return booked_at + after / max(speedup, 1.0)
