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

# Updates being handled at once. Two Bot API round trips per tap (~0.2 s against the real Telegram)
# make 16 about 80 taps a second, more than a round's buyers produce; more only adds contention.
MAX_CONCURRENT_UPDATES = 16
# PTB's own semaphore is taken before `do_process_update`, so an update waiting for its user's earlier
# ones would hold one of its slots: a user sending a burst would fill them all and stall everyone.
# PTB's bound is therefore only a backstop; ours (`MAX_CONCURRENT_UPDATES`) counts updates actually
# running, taken after the user's lock.
_WAITING_BOUND = 4096


class PerUserOrder(BaseUpdateProcessor):
    """Processes updates concurrently, except that updates of the same user (or, without a user, the
    same chat) wait for each other and run in arrival order."""

    __slots__ = ("_queues", "_running")

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(_WAITING_BOUND)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        # key -> (lock, [updates holding or waiting for it]); dropped when the last one leaves, so the
        # table holds only users with an update in flight.
        self._queues: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock, holders = self._queues.setdefault(key, (asyncio.Lock(), [0]))
        holders[0] += 1
        try:
            async with lock, self._running:  # both are fair: waiters go in arrival order
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
