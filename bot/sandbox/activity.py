"""Which bot API calls are in flight, and when the last one happened, overall and per chat.

This is how the sandbox decides that the bot has finished reacting: nothing in flight and nothing
new for a settle window. Per-chat tracking lets many simulated users act concurrently (load tests,
the demo) without each waiting for the whole sandbox to fall silent.
"""

from __future__ import annotations

import time
from collections import Counter

NO_CHAT = None


class Activity:
    """Counters of in-flight calls keyed by chat id (None: calls not aimed at a chat)."""

    def __init__(self) -> None:
        self._inflight: Counter[int | None] = Counter()
        self._last: dict[int | None, float] = {}
        self._total_inflight = 0
        self._last_any = time.monotonic()

    def begin(self, chat_id: int | None) -> None:
        self._inflight[chat_id] += 1
        self._total_inflight += 1
        self.touch(chat_id)

    def end(self, chat_id: int | None) -> None:
        self._inflight[chat_id] -= 1
        self._total_inflight -= 1
        self.touch(chat_id)

    def touch(self, chat_id: int | None) -> None:
        """Note activity without a call in flight, e.g. an update just handed to the bot."""
        self._last[chat_id] = self._last_any = time.monotonic()

    def quiet(self, settle: float) -> bool:
        """Nothing in flight anywhere and nothing for `settle` seconds."""
        return self._total_inflight == 0 and time.monotonic() - self._last_any >= settle

    def busy(self, chat_id: int | None, *, everywhere: bool) -> bool:
        """A call in flight anywhere, or (not `everywhere`) in one chat or aimed at no chat."""
        if everywhere:
            return self._total_inflight > 0
        return self._inflight[chat_id] > 0 or self._inflight[NO_CHAT] > 0

    def last(self, chat_id: int | None, *, everywhere: bool) -> float:
        """When the last call started or ended or update arrived, anywhere or in one chat (plus NO_CHAT)."""
        if everywhere:
            return self._last_any
        return max(self._last.get(chat_id, 0.0), self._last.get(NO_CHAT, 0.0))

    def chat_quiet(self, chat_id: int | None, settle: float) -> bool:
        """Like `quiet`, restricted to one chat plus the calls aimed at no chat."""
        now = time.monotonic()
        return all(self._inflight[key] == 0 and now - self._last.get(key, 0.0) >= settle for key in {chat_id, NO_CHAT})
