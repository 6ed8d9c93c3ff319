"""Working days of a market: Monday to Friday, less its public holidays (``holidays``)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(found.keys())


def is_working_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_working_days(start: date, n: int, country: str) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself not counted; n=0: the
    first working day from ``start`` on)."""
    day = start
    if n <= 0:
        while not is_working_day(day, country):
            day += timedelta(days=1)
        return day
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day, country):
            n -= 1
    return day


def working_days_between(start: date, end: date, country: str) -> int:
    """Working days ``d`` with ``start < d <= end`` (0 when ``end <= start``)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, country):
            count += 1
    return count
