"""Flood protection: a user who sends too many updates in a short time is ignored for a while.

Runs first (group -1) on every update and costs a dict lookup and a deque append, so a flooding user
cannot slow anyone else down: their updates are dropped before any handler or database work. The
counts live in memory, per process: behind a load balancer each process protects itself, which is
enough to keep one chat from hogging a worker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.handlers.common import Context, is_admin, language, runtime
from bot.texts import t


@dataclass
class FloodGuard:
    """A sliding window per user: more than `limit` updates within `window` seconds pauses them."""

    limit: int = 20
    window: float = 10.0
    pause: float = 60.0
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


async def guard(update: object, context: Context) -> None:
    """Drops updates of a flooding user (ApplicationHandlerStop), telling them once."""
    if not isinstance(update, Update) or update.effective_user is None or is_admin(update, context):
        return
    config = runtime(context).config.bot
    if config.flood_limit <= 0:
        return
    flood = context.bot_data.get("flood")
    if flood is None:
        flood = context.bot_data["flood"] = FloodGuard(config.flood_limit, config.flood_window.total_seconds(),
                                                       config.flood_pause.total_seconds())
    verdict = flood.check(update.effective_user.id)
    if verdict == "ok":
        return
    if verdict == "paused" and update.effective_chat is not None:
        text = t(await language(update, context), "flood.paused", seconds=round(flood.pause))
        await context.bot.send_message(update.effective_chat.id, text)
    raise ApplicationHandlerStop
