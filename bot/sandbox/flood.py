"""Telegram's flood limits as sliding windows over an injected clock.

Sliding windows (rather than fixed buckets) stop a burst straddling a bucket edge from doubling the
rate, and they yield an honest `retry_after`: the time until the oldest counted send leaves the
window. Only message-producing sends are counted (sendMessage, sendPhoto, sendDocument); edits are
not, because Telegram does not publish an edit limit.
"""

from __future__ import annotations

import math
from collections import deque

PAID_BROADCAST_LIMIT = 1000.0


class SlidingWindow:
    """Timestamps of admitted events in the last `period` seconds."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._events: deque[float] = deque()

    def retry_after(self, now: float, limit: float) -> int | None:
        """Seconds to wait before one more event fits under `limit`, or None if it fits now."""
        while self._events and self._events[0] <= now - self.period:
            self._events.popleft()
        capacity = max(1, int(limit))
        if len(self._events) < capacity:
            return None
        oldest_counted = self._events[len(self._events) - capacity]
        return max(1, math.ceil(oldest_counted + self.period - now))

    def record(self, now: float) -> None:
        self._events.append(now)


class FloodControl:
    """The three limits bots hit: global per second, per private chat per second, per group per minute.

    A limit of None switches it off. Fractional limits are floored (at least one send per window).
    """

    def __init__(
        self,
        global_limit: float | None = None,
        per_chat_limit: float | None = None,
        group_limit_per_minute: float | None = None,
    ) -> None:
        self.global_limit = global_limit
        self.per_chat_limit = per_chat_limit
        self.group_limit_per_minute = group_limit_per_minute
        self._global = SlidingWindow(1.0)
        self._chats: dict[int, SlidingWindow] = {}

    def admit(self, chat_id: int, *, private: bool, paid: bool, now: float) -> int | None:
        """Count one send to `chat_id`, or return the retry_after that refuses it (nothing counted)."""
        checks = self._applicable(chat_id, private=private, paid=paid)
        waits = [wait for window, limit in checks if (wait := window.retry_after(now, limit)) is not None]
        if waits:
            return max(waits)
        for window, _ in checks:
            window.record(now)
        return None

    def _applicable(self, chat_id: int, *, private: bool, paid: bool) -> list[tuple[SlidingWindow, float]]:
        checks: list[tuple[SlidingWindow, float]] = []
        if self.global_limit is not None:
            checks.append((self._global, PAID_BROADCAST_LIMIT if paid else self.global_limit))
        chat_limit = self.per_chat_limit if private else self.group_limit_per_minute
        if chat_limit is not None:
            period = 1.0 if private else 60.0
            checks.append((self._chats.setdefault(chat_id, SlidingWindow(period)), chat_limit))
        return checks
