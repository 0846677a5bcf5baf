"""When a statutory deadline ends (DOMAIN.md §5).

A deadline of n days from an event ends on event + n; a rule that follows art. 801 CPP
(``DeadlineRule.extends_to_working_day``, on by default) runs on to the next working day
when that day is a Saturday, a Sunday or a public holiday of the service (Alsace-Moselle
and the overseas services have their own calendars: ``Service.holiday_subdivision``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

SATURDAY = 5


@lru_cache(maxsize=256)
def _calendar(subdivision: str, year: int):
    return holidays.France(subdiv=subdivision or None, years=[year])


def is_working_day(day: date, subdivision: str = "") -> bool:
    return day.weekday() < SATURDAY and day not in _calendar(subdivision, day.year)


def next_working_day(day: date, subdivision: str = "") -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, subdivision):
        day += timedelta(days=1)
    return day


def last_day(rule, start: date, subdivision: str = "") -> date:
    """The last day of ``rule`` (in days) counted from ``start``."""
    day = start + timedelta(days=rule.amount)
    if rule.extends_to_working_day:
        day = next_working_day(day, subdivision)
    return day


def latest_start_expired(rule, today: date, subdivision: str = "") -> date:
    """The latest start whose deadline ended before ``today``: a deadline counted from any
    start on or before it has passed. Without extension that is today − amount − 1; an
    extension only moves the end later, so the answer is found by stepping back from there
    (a few steps at most: the longest run of non-working days)."""
    start = today - timedelta(days=rule.amount + 1)
    while last_day(rule, start, subdivision) >= today:
        start -= timedelta(days=1)
    return start
