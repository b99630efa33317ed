"""Following each pushed update until the bot has finished with it.

A simulated user's action returns once the update was delivered, the bot reacted (answered the
query, or called the API toward the chat) and the bot went quiet for a settle window. This module
keeps that bookkeeping so the server only serves HTTP.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.sandbox.activity import Activity
from bot.sandbox.models import ApiCall, JsonDict, UpdateRecord
from bot.sandbox.state import SandboxState

_POLL_INTERVAL = 0.005
# The most one poll may add to the quiet time, however long the loop took to come back to it.
_MAX_QUIET_STEP = 2 * _POLL_INTERVAL
# Updates answered by one method call rather than by any call toward a chat.
_QUERY_KINDS = {"callback_query": "callback query", "inline_query": "inline query"}


class HandlingTracker:
    """Update records from push to settle, and the in-flight calls that decide "settled"."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.activity = Activity()
        self._awaiting_reaction: list[UpdateRecord] = []
        self._waiting = 0

    def track(self, update_id: int, payload: JsonDict, clock_at: float) -> UpdateRecord:
        kind = next((key for key in payload if key != "update_id"), "unknown")
        chat_id, query_id, message_id = update_target(kind, payload.get(kind))
        record = UpdateRecord(update_id, kind, payload, time.monotonic(), clock_at, chat_id, None, message_id)
        self.state.updates[update_id] = record
        if kind == "callback_query":
            record.callback_query_id = query_id
            self.state.track_callback(record)
        elif kind == "inline_query":
            record.inline_query_id = query_id
            self.state.track_inline_query(record)
        elif chat_id is not None and kind != "chosen_inline_result":
            self._awaiting_reaction.append(record)
        return record

    def mark_delivered(self, update_id: int) -> None:
        record = self.state.updates.get(update_id)
        if record is not None and record.delivered_at is None:
            record.delivered_at = time.monotonic()
            self.activity.touch(record.chat_id)

    def note_reaction(self, call: ApiCall) -> None:
        """Any call toward a chat is the bot reacting to what that chat's user did before it."""
        if call.chat_id is None:
            return
        for record in self._awaiting_reaction:
            if record.chat_id == call.chat_id and record.delivered_at is not None and call.at >= record.delivered_at:
                record.reacted_at = call.at
        self._awaiting_reaction = [r for r in self._awaiting_reaction if r.reacted_at is None]

    def quiet(self, settle: float) -> bool:
        return self.activity.quiet(settle)

    async def wait(self, record: UpdateRecord, *, expect_reply: bool, settle: float, limit: float) -> str | None:
        """Wait until `record` is handled; on timeout, return the stage it is stuck at.

        Settling counts only time the event loop was turning: after a stall (a GC pause of 20-60 ms
        was measured between a bot's answerCallbackQuery and its edit) the bot had no chance to
        make its next call, so the stall must not pass for silence.
        """
        deadline = time.monotonic() + limit
        self._waiting += 1
        quiet_for, previous = 0.0, time.monotonic()
        try:
            while True:
                now = time.monotonic()
                stage = self._unfinished_stage(record, expect_reply)
                if stage is None:
                    if self._active_since(record, previous):
                        quiet_for = 0.0
                    else:
                        quiet_for += min(now - previous, _MAX_QUIET_STEP)
                    if quiet_for >= settle:
                        return None
                    stage = "the bot kept calling the API"
                if now >= deadline:
                    return stage
                previous = now
                await asyncio.sleep(_POLL_INTERVAL)
        finally:
            self._waiting -= 1

    def _active_since(self, record: UpdateRecord, since: float) -> bool:
        """A call in flight or activity after `since`: sandbox-wide for one waiting user, else in their chat.

        Waiting for global silence while other simulated users keep the bot busy could starve.
        """
        everywhere = self._waiting <= 1
        busy = self.activity.busy(record.chat_id, everywhere=everywhere)
        return busy or self.activity.last(record.chat_id, everywhere=everywhere) >= since

    def _unfinished_stage(self, record: UpdateRecord, expect_reply: bool) -> str | None:
        if record.delivered_at is None:
            return "the bot never received it (is it polling getUpdates, or is a webhook set?)"
        if expect_reply and record.reacted_at is None:
            if record.kind in _QUERY_KINDS:
                return f"the bot never answered the {_QUERY_KINDS[record.kind]}"
            return "the bot made no API call toward that chat"
        return None


def update_target(kind: str, body: Any) -> tuple[int | None, str | None, int | None]:
    """(chat id, query id, tapped message id) of an update, as far as it has them.

    Inline queries and chosen results have no chat; they count as the user's private chat with
    the bot, so concurrent users settle independently.
    """
    if not isinstance(body, dict):
        return None, None, None
    if kind == "callback_query":
        message = body.get("message") or {}
        return (message.get("chat") or {}).get("id"), body.get("id"), message.get("message_id")
    if kind in ("inline_query", "chosen_inline_result"):
        return (body.get("from") or {}).get("id"), body.get("id"), None
    return (body.get("chat") or {}).get("id"), None, None
