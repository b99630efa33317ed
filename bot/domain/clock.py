"""Injected time, so tests and the demo control it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when


def parse_time(text: str) -> datetime:
    """ISO-8601 to an aware UTC datetime; a time without zone is taken as UTC. Anything else, including a
    time that would leave the calendar once moved to UTC (9999-12-31T23:00-05:00), is a ValueError."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of the calendar's range") from None
