"""Sending many messages as fast as Telegram allows, and no faster.

`Pacer` keeps the limits on our side, so the 429s Telegram would answer never happen in the first
place: at most `rate` sends in any one-second sliding window overall, counted so that network
jitter cannot squeeze two windows' worth into one (see `Pacer`), on an even schedule, and at most one
send per private chat per `chat_interval`. A 429 that still arrives pauses every sender for its
`retry_after`, since Telegram's flood wait applies to the whole bot.

`send_paced` sends one message through the pacer and says how it went, without deciding what that
means for the outbox: 429 → wait and retry the same message; 403 → unreachable (never retried); a
network error where the request surely never reached Telegram → retry with backoff; a timeout or a
dropped connection after the request left → delivery unknown, never retried (see `bot.domain.outbox`).
The request layer's own retries (`bot.retry`) stay out of it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from telegram import Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.retry import never_left, own_failures

# Telegram's documented ceilings: ~30 messages/s overall, 1000/s with paid broadcasts, ~1/s per chat.
FREE_RATE = 30.0
PAID_RATE = 1000.0
# Telegram's one-second window, and a hair for float rounding (see `Pacer`).
WINDOW = 1.005
CATCH_UP = 0.1  # seconds of schedule a late sender may make up
NETWORK_RETRIES = 4
BACKOFF = 0.25  # seconds, doubled after each network failure

Outcome = Literal["sent", "unreachable", "failed", "unknown"]


class _Send:
    """One admitted send: in flight until `end` is set, when its answer came back."""

    __slots__ = ("end",)

    def __init__(self) -> None:
        self.end = math.inf


class Pacer:
    """Admits sends under an overall sliding-window rate and a per-chat minimum interval.

    The window counts a send until one `WINDOW` after its *answer* arrived. Telegram counted it at some
    moment between our request and its answer, so a send we admit now can never meet more than
    `capacity` others in Telegram's window, however the network delays them: exact, with no margin
    to give away.
    """

    def __init__(self, rate: float, chat_interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.capacity = max(1, int(rate))
        self.chat_interval = chat_interval
        self._clock = clock
        self._sends: deque[_Send] = deque()
        self._last_to_chat: dict[int, _Send] = {}
        # A new process does not know what a previous one sent in the last window; if that earns a
        # 429 right after a restart, it is honoured like any other.
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        # Sends follow an even schedule (so a window's worth never leaves in one burst); the schedule
        # advances from when a send was due, not when it happened, so sleep overshoot does not add up.
        self._spacing = WINDOW / self.capacity
        self._next_at: float | None = None

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Waits until one more send to `chat_id` fits under every limit; the block is that send."""
        send = await self._admit(chat_id)
        try:
            yield
        finally:
            send.end = self._clock()

    async def _admit(self, chat_id: int) -> _Send:
        async with self._lock:
            while True:
                now = self._clock()
                while self._sends and self._sends[0].end <= now - WINDOW:
                    self._sends.popleft()
                waits = [self._paused_until - now, (self._next_at or now) - now]
                if len(self._sends) >= self.capacity:
                    oldest = self._sends[len(self._sends) - self.capacity].end
                    # Still in flight: look again shortly; else wait for it to leave the window.
                    waits.append(oldest + WINDOW - now if oldest != math.inf else self._spacing / 4)
                last = self._last_to_chat.get(chat_id)
                if last is not None:
                    waits.append(last.end + self.chat_interval - now if last.end != math.inf else self._spacing / 4)
                wait = max(waits)
                if wait <= 0:
                    send = _Send()
                    self._sends.append(send)
                    # Sends delayed by a pause of ours (a database round trip between batches) may catch
                    # up for a moment; the window above still caps every second.
                    self._next_at = max(self._next_at or now, now - CATCH_UP) + self._spacing
                    self._last_to_chat[chat_id] = send
                    if len(self._last_to_chat) > 10 * self.capacity + 1000:
                        self._forget_old_chats(now)
                    return send
                await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Telegram said to wait: nobody sends until `seconds` from now."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _forget_old_chats(self, now: float) -> None:
        self._last_to_chat = {c: s for c, s in self._last_to_chat.items() if s.end > now - self.chat_interval}


def pacer_for(paid_broadcast: bool, rate: float | None = None) -> Pacer:
    """The pacer the config asks for: `rate` if given, else Telegram's free or paid ceiling."""
    return Pacer(rate or (PAID_RATE if paid_broadcast else FREE_RATE))


@dataclass
class SendStats:
    sent: int = 0
    flood_waits: int = 0
    network_retries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass
class Campaign:
    """What one process shares across reconcile runs: the pacer's memory, counters, and a halt switch."""

    pacer: Pacer
    stats: SendStats = field(default_factory=SendStats)
    halt: asyncio.Event = field(default_factory=asyncio.Event)
    # Held by the one reconcile run that is sending; see `bot.jobs.run_once`.
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Held by the one reconcile run opening, closing and publishing rounds; see `bot.jobs.run_once`.
    bookkeeping: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    message_id: int | None = None
    error: str | None = None


async def send_paced(
    pacer: Pacer,
    chat_id: int,
    send: Callable[[], Awaitable[Message]],
    stats: SendStats | None = None,
) -> Delivery:
    """Sends one message when the pacer allows; retries 429s and safe network errors."""
    stats = stats or SendStats()
    network_failures = 0
    while True:
        try:
            with own_failures():  # this loop's own account of 429s and network errors, not the request layer's
                async with pacer.slot(chat_id):
                    message = await send()
        except RetryAfter as flood:
            stats.flood_waits += 1
            wait = flood.retry_after
            pacer.pause(wait if isinstance(wait, int | float) else wait.total_seconds())
            continue
        except Forbidden as exc:
            return _done(stats, Delivery("unreachable", error=exc.message))
        except BadRequest as exc:
            return _done(stats, Delivery("failed", error=exc.message))
        except NetworkError as exc:
            if not never_left(exc):
                return _done(stats, Delivery("unknown", error=f"delivery unknown: {exc.message}"[:300]))
            network_failures += 1
            if network_failures > NETWORK_RETRIES:
                return _done(stats, Delivery("failed", error=f"gave up after retries: {exc.message}"[:300]))
            stats.network_retries += 1
            await asyncio.sleep(BACKOFF * 2 ** (network_failures - 1))
            continue
        stats.sent += 1
        return _done(stats, Delivery("sent", message_id=message.message_id))


def _done(stats: SendStats, delivery: Delivery) -> Delivery:
    stats.count(delivery.outcome)
    return delivery
