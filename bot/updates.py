"""How updates are scheduled: one user's in order, different users' at the same time.

PTB's default handles every update after the previous one has finished. A tap costs two Bot API
round trips (edit, answer) — about 100 ms against the real Telegram — so one at a time caps the
whole bot near ten taps a second however fast our code is. Running updates concurrently removes that
cap, but a person's own taps and messages must still be handled in the order they were sent (their
/language choice before the /rate that follows it). So: concurrency across users, order within one.
Correctness never depended on the order — every ballot change is a compare-and-set on its rev — but
what a user sees should.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in progress at once (PTB's semaphore). Enough to keep two Bot API round trips per tap in
# flight for a busy round; small enough that a burst cannot open unbounded database work.
MAX_CONCURRENT_UPDATES = 16


class PerUserOrder(BaseUpdateProcessor):
    """Processes updates concurrently, except that updates of the same user (or, without a user, the
    same chat) wait for each other and run in arrival order."""

    __slots__ = ("_queues",)

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # key -> [lock, updates holding or waiting for it]; dropped when the last one leaves, so the
        # table holds only users with an update in flight.
        self._queues: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            await coroutine
            return
        lock, holders = self._queues.setdefault(key, (asyncio.Lock(), [0]))
        holders[0] += 1
        try:
            async with lock:  # asyncio.Lock is fair: waiters acquire it in arrival order
                await coroutine
        finally:
            holders[0] -= 1
            if holders[0] == 0:
                del self._queues[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: the locks die with their last update."""

    @property
    def users_in_flight(self) -> int:
        return len(self._queues)


def _order_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None
