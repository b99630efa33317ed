"""Durations as operators write them ("45s", "15m", "2h", "7d"), and how far a round may reach in time.

Every duration and every round's dates are bounded here, before any arithmetic: `timedelta` overflows
past 999,999,999 days and `datetime` past the year 9999, so `999999999d` or `--opens-at 9999-12-31`
used to end in an OverflowError, and `99999d` scheduled a round closing in the year 2300.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.domain.errors import DurationError, DurationTooLong, OpensTooFar
from bot.domain.numbers import shown

__all__ = ["MAX_DURATION", "MAX_LEAD", "MAX_ROUND_LENGTH", "DurationError", "check_schedule", "format_duration",
           "parse_duration"]

_DURATION = re.compile(r"\s*([0-9]{1,12})\s*([smhd])\s*")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Any duration in the config (ticks, reminders, link lifetimes, flood windows): a year is more than any
# of them needs.
MAX_DURATION = timedelta(days=365)
# A round is a snapshot of how buyers rate a product now; the eligibility window itself is a year
# (purchase_window_days = 365), so a round longer than a quarter would rate purchases it never invited.
MAX_ROUND_LENGTH = timedelta(days=90)
# How far from now a round may be scheduled to open, either way: far enough for planning a season ahead.
MAX_LEAD = timedelta(days=365)


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """`text` as a positive duration of at most `maximum`; else DurationError (or DurationTooLong)."""
    written = str(text)
    match = _DURATION.fullmatch(written)
    if not match or int(match.group(1)) == 0:
        raise DurationError(text=shown(written))
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if seconds > maximum.total_seconds():
        raise DurationTooLong(text=shown(written), maximum=format_duration(maximum))
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_schedule(now: datetime, opens_at: datetime, duration: timedelta) -> None:
    """A round opening at `opens_at` for `duration` is within bounds (see MAX_ROUND_LENGTH, MAX_LEAD)."""
    if not timedelta(0) < duration <= MAX_ROUND_LENGTH:
        raise DurationTooLong(text=format_duration(duration), maximum=format_duration(MAX_ROUND_LENGTH))
    if abs(opens_at - now) > MAX_LEAD:
        raise OpensTooFar(opens_at=opens_at.date().isoformat(), maximum=MAX_LEAD.days)
