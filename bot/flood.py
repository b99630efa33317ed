"""Flood protection: a user who sends too many updates in a short time is ignored for a while.

Its handler (`bot.handlers.flood.guard`) runs first (group -1) on every update and costs a dict
lookup and a deque append, so a flooding user cannot slow anyone else down: their updates are dropped
before any handler or database work. The counts live in memory, per process: behind a load balancer
each process protects itself, which is enough to keep one chat from hogging a worker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FloodGuard:
    """A sliding window per user: more than `limit` updates within `window` seconds pauses them for
    `pause` seconds (the `bot.flood_*` settings)."""

    limit: int
    window: float
    pause: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _paused_until: dict[int, float] = field(default_factory=dict)

    def check(self, user_id: int) -> str:
        """"ok" to go on, "paused" just now (tell them), or "ignored" (drop silently)."""
        now = self.clock()
        if self._paused_until.get(user_id, 0.0) > now:
            return "ignored"
        self._paused_until.pop(user_id, None)
        seen = self._seen.setdefault(user_id, deque())
        seen.append(now)
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) <= self.limit:
            return "ok"
        seen.clear()
        self._paused_until[user_id] = now + self.pause
        self._forget_idle(now)
        return "paused"

    def _forget_idle(self, now: float) -> None:
        """Keeps memory bounded by the users active within the window."""
        for user_id in [u for u, s in self._seen.items() if not s or s[-1] <= now - self.window]:
            del self._seen[user_id]
