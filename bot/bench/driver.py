"""The load the bench puts on a bot: simulated raters tapping through the sandbox, and what it measures
of them (latency per tap, errors) and of an event loop (its longest stall)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.callbacks import BallotButton, InviteButton, InviteChoice, decode
from bot.domain.ballot_rule import Action
from bot.sandbox import BotApiSandbox, SimUser, StoredMessage

TAPS_PER_RATER = 8  # Rate now, six answers, Submit


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def invite_users(sandbox: BotApiSandbox, user_ids: list[int], round_id: int) -> list[SimUser]:
    """Puts the invitation message, with its Rate now button, in each rater's chat."""
    rate_now = InviteButton(round_id, InviteChoice.RATE_NOW).encode()
    markup = {"inline_keyboard": [[{"text": "Rate now", "callback_data": rate_now}]]}
    users = []
    for uid in user_ids:
        user = sandbox.user(first_name=f"Rater{uid}", user_id=uid, started=True, language_code="en")
        sandbox.state.add_message(sandbox.state.chats[uid], from_bot=True, text="Rate this shampoo",
                                  reply_markup=markup)
        users.append(user)
    return users


Chooser = Callable[[StoredMessage, int, random.Random], str]


@dataclass
class Window:
    """The measured part of a steady load (`drive(..., window=)`): it opens once `after` taps are done
    and closes `taps` taps later; then each rater stops after the tap it is making, so the load never
    runs down through a tail of ever fewer raters (its rate was the tail's, not the bot's)."""

    after: int
    taps: int
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Load:
    taps: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # when each tap's edit arrived (perf_counter)
    seconds: float = 0.0
    # Both measured inside the bot's own process (see `bot.bench.child`), not here beside the sandbox.
    cpu_seconds: float = 0.0
    longest_stall: float = 0.0


async def drive(sandbox: BotApiSandbox, users: list[SimUser], choose: Chooser, *, taps_per_user: int,
                concurrency: int, timeout: float = 30.0, window: Window | None = None, load: Load | None = None
                ) -> Load:
    """Each user taps `taps_per_user` times, `concurrency` users at a time, each tap once the previous
    one's edit arrived. No settle wait: completion is the sandbox recording the edit. With a `window`,
    users stop (after the tap they are making) once it has closed: pass more than it needs. The `load`
    given (a new one if none) fills as the taps are done, for a caller watching it."""
    load = load or Load()
    edited: dict[int, asyncio.Event] = {}

    def on_call(call: Any) -> None:
        if call.method == "editMessageText" and call.chat_id in edited:
            edited[call.chat_id].set()

    sandbox.on_call.append(on_call)
    gate = asyncio.Semaphore(concurrency)

    async def rater(user: SimUser, rng: random.Random) -> None:
        async with gate:
            for i in range(taps_per_user):
                if window is not None and window.closed.is_set():
                    break
                message = user.last_message
                event = edited[user.id] = asyncio.Event()
                record = await user.tap_data(choose(message, i, rng), message, wait=False)
                deadline = time.monotonic() + timeout
                while record.edited_at is None:
                    event.clear()
                    try:
                        await asyncio.wait_for(event.wait(), max(0.0, deadline - time.monotonic()))
                    except TimeoutError:
                        load.errors.append(f"user {user.id} tap {i}: no edit within {timeout:g}s")
                        return
                while record.answered_at is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.001)  # the bot answers the query right after its edit
                if record.answered_at is None:
                    load.errors.append(f"user {user.id} tap {i}: callback not answered")
                if user.alerts and user.alerts[-1].text:
                    load.errors.append(f"user {user.id} tap {i}: alert {user.alerts[-1].text!r}")
                load.taps += 1
                load.latencies.append(record.edited_at - record.pushed_at)
                load.done_at.append(time.perf_counter())
                if window is not None:
                    if load.taps == window.after:
                        window.opened.set()
                    elif load.taps == window.after + window.taps:
                        window.closed.set()
            edited.pop(user.id, None)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(rater(u, random.Random(u.id)) for u in users))
        load.seconds = time.perf_counter() - started
    finally:
        sandbox.on_call.remove(on_call)
    return load


def choose_ballot_button(message: StoredMessage, _i: int, rng: random.Random) -> str:
    """A rater's choice on our screens: Rate now, a score on each factor, Submit on the summary."""
    data = [b.callback_data for row in message.buttons for b in row if b.callback_data]
    buttons = [(d, decode(d)) for d in data]
    for d, b in buttons:
        if isinstance(b, InviteButton) and b.choice is InviteChoice.RATE_NOW:
            return d
    moves = {(b.move.action, b.move.number): d for d, b in buttons if isinstance(b, BallotButton)}
    if (Action.SUBMIT, 0) in moves:
        return moves[Action.SUBMIT, 0]
    return moves[Action.SCORE, rng.choice((2, 3, 4, 4, 5, 5))]


def choose_first_button(message: StoredMessage, _i: int, _rng: random.Random) -> str:
    return str(message.buttons[0][0].callback_data)
