"""Durations as operators write them: "45s", "15m", "2h", "7d"."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class DurationError(ValueError):
    """A duration that is not a positive whole number followed by s, m, h or d."""

    def __init__(self, text: str) -> None:
        super().__init__(f"{text!r} is not a duration; write e.g. 45s, 15m, 2h or 7d")
        self.text = text


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise DurationError(str(text))
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
