"""Small in-process caches in front of the database, for what a tap reads on every update.

The database stays the source of truth: every entry can be rebuilt from it, and every entry is
dropped after `ttl` seconds, which bounds how stale another process's change can look here (this
process drops its own entries at once when it makes the change). Caches are per `Database`, so two
databases in one process (tests, benchmarks) never see each other's rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A bounded dict with a time-to-live per entry; a full memo starts over rather than tracking LRU.

    Safe to use from the database thread of `Database.run` as well as from the event loop: every
    method is a few single dict operations, each atomic under the GIL, and none assumes the entry it
    looked at is still there."""

    def __init__(self, ttl: float, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) on a live hit, else (False, None)."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= self._clock():
            self._entries.pop(key, None)
            return False, None
        return True, entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (self._clock() + self.ttl, value)

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


_memos: WeakKeyDictionary[object, dict[str, Memo[object, object]]] = WeakKeyDictionary()


def memo_for(owner: object, name: str, ttl: float, max_entries: int = 100_000) -> Memo[object, object]:
    """The memo called `name` belonging to `owner` (a Database), created on first use."""
    per_owner = _memos.setdefault(owner, {})
    memo = per_owner.get(name)
    if memo is None:
        memo = per_owner[name] = Memo(ttl, max_entries)
    return memo
