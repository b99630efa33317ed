"""`redheart bench --invitations N`: the campaign measured against the sandbox's flood limits.

N linked, eligible buyers are written straight into a fresh SQLite database, a round is opened for
them, and the real bot (Application, scheduler, outbox, pacer) sends every invitation to the sandbox,
which enforces `--limit` messages/s overall and 1/s per chat and answers 429 past them. The sandbox is
the ground truth: it counts what each simulated buyer actually received.

`--restart-at K` stops the bot once K invitations are out and starts a new Application on the same
database. The restart is in-process (a new Application, scheduler, HTTP client and pacer; nothing is
carried over but the database): it exercises the clean-stop path, where the sender settles what it
sent and hands back what it claimed but never sent, so nothing is lost or repeated.

`--kill-at K` runs the first bot as a process of its own and SIGKILLs it once the sandbox has
delivered K invitations: no clean-up runs, the claims it held stay `sending`. The next bot starts
`STALE_CLAIM` later (its clock is moved on, so the bench need not wait five minutes), marks those
claims `unknown` and sends the rest. What that must show (`bot.domain.outbox`): no buyer invited
twice, and every buyer who got nothing counted as in doubt — nothing lost silently.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.app import build_application
from bot.bench.child import spawn
from bot.bench.fixtures import SKU, bench_config, seed_buyers
from bot.config import Config
from bot.domain import rounds
from bot.domain.clock import Clock, SystemClock
from bot.domain.outbox import STALE_CLAIM
from bot.domain.runtime import Runtime
from bot.runner import running
from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import Invitation

# The campaign's bots tick every second: a bench of a few hundred invitations is over in seconds.
TICK = timedelta(seconds=1)


@dataclass(frozen=True)
class BenchResult:
    invitations: int
    limit: float
    sent: int
    lost: int
    duplicates: int
    flood_429s: int
    seconds: float
    rate: float
    ratio: float
    restarts: int
    sent_before_restart: int | None
    outbox: dict[str, int]
    killed: bool = False

    @property
    def in_doubt(self) -> int:
        return self.outbox.get("unknown", 0)

    @property
    def ok(self) -> bool:
        """Nobody invited twice, and nobody missed unless counted as in doubt (only a kill leaves any)."""
        return self.duplicates == 0 and self.lost <= (self.in_doubt if self.killed else 0)

    def text(self) -> str:
        lines = [
            f"invitations: {self.invitations} at limit {self.limit:g}/s"
            + (f", {'killed (SIGKILL)' if self.killed else 'restarted'} after {self.sent_before_restart}"
               if self.sent_before_restart is not None else ""),
            f"sent:        {self.sent}",
            f"lost:        {self.lost}",
            f"duplicates:  {self.duplicates}",
            *([f"in doubt:    {self.in_doubt} (claimed by the killed process; never resent)"] if self.killed else []),
            f"429s:        {self.flood_429s}",
            f"time:        {self.seconds:.1f} s",
            f"rate:        {self.rate:.2f}/s (ratio to limit {self.ratio:.3f})",
            f"outbox:      {', '.join(f'{k} {v}' for k, v in sorted(self.outbox.items()))}",
        ]
        return "\n".join(lines)


async def outbox_counts(db: Database) -> dict[str, int]:
    async with db.session() as s:
        rows = await s.execute(select(Invitation.status, func.count()).group_by(Invitation.status))
        return {status: n for status, n in rows}


async def run_invitation_bench(
    invitations: int, limit: float = 30.0, *, restart_at: int | None = None, kill_at: int | None = None,
    workdir: Path | None = None, clock: Clock | None = None, timeout: float | None = None,
) -> BenchResult:
    """Runs the campaign and measures it; see the module docstring."""
    clock = clock or SystemClock()
    timeout = timeout or 60 + 3 * invitations / limit
    with tempfile.TemporaryDirectory(prefix="redheart-bench-") as tmp:
        folder = workdir or Path(tmp)
        url = f"sqlite:///{folder}/bench.db"
        db = await Database.open(url)
        try:
            async with BotApiSandbox(global_limit=limit, per_chat_limit=1) as sandbox:
                user_ids = await seed_buyers(db, invitations, clock.now())
                for uid in user_ids:
                    sandbox.user(first_name=f"Buyer{uid}", user_id=uid, started=True)
                config = bench_config(url, sandbox.token, sandbox.base_url, tick=TICK, send_rate=limit,
                                      quota=invitations)
                rt = Runtime(db, config, clock)
                await rounds.schedule_round(rt, SKU, actor="bench", quota=invitations)
                started = time.monotonic()
                sent_before: int | None
                if kill_at is not None:
                    sent_before = await _kill_bot_process(url, sandbox, set(user_ids), config, kill_at,
                                                          started + timeout)
                    # Whoever starts next starts after the killed process's claims have gone stale.
                    rt = Runtime(db, config, _Later(clock, STALE_CLAIM + timedelta(minutes=1)))
                else:
                    sent_before = await _run_bot(rt, sandbox, set(user_ids), restart_at, started + timeout)
                restarts = 0
                if sent_before is not None:
                    restarts = 1
                    await _run_bot(rt, sandbox, set(user_ids), None, started + timeout)
                seconds = time.monotonic() - started
                return _measure(sandbox, user_ids, limit, seconds, restarts, sent_before, await outbox_counts(db),
                                killed=kill_at is not None)
        finally:
            await db.close()


@dataclass(frozen=True)
class _Later:
    """A clock running `by` ahead of `clock`."""

    clock: Clock
    by: timedelta

    def now(self) -> datetime:
        return self.clock.now() + self.by


def _deliveries(sandbox: BotApiSandbox, buyers: set[int], enough: int,
                then: Callable[[], None]) -> Callable[[Any], None]:
    """A sandbox hook counting invitations delivered to `buyers`; calls `then` once `enough` arrived."""
    delivered = 0

    def on_call(call: Any) -> None:
        nonlocal delivered
        if call.method == "sendMessage" and call.status == 200 and call.chat_id in buyers:
            delivered += 1
            if delivered == enough:
                then()

    return on_call


async def _kill_bot_process(url: str, sandbox: BotApiSandbox, buyers: set[int], config: Config, kill_at: int,
                            deadline: float) -> int:
    """Runs the bot as a process of its own and SIGKILLs it once `kill_at` invitations are delivered;
    returns how many had been delivered when it died."""
    proc = spawn({"kind": "campaign", "database_url": url, "token": config.telegram.token,
                  "base_url": config.telegram.base_url, "send_rate": config.telegram.send_rate,
                  "quota": config.rounds.invitation_quota, "tick": TICK.total_seconds()}, talk=False)
    reached = asyncio.Event()

    def kill() -> None:
        proc.kill()  # SIGKILL, at once, from inside the sandbox's handling of that very call
        reached.set()

    on_call = _deliveries(sandbox, buyers, kill_at, kill)
    sandbox.on_call.append(on_call)
    try:
        while not reached.is_set() and proc.poll() is None and time.monotonic() < deadline:
            with suppress(TimeoutError):
                await asyncio.wait_for(reached.wait(), 0.25)
    finally:
        sandbox.on_call.remove(on_call)
        proc.kill()
        await asyncio.get_running_loop().run_in_executor(None, proc.wait)
    delivered = _delivered(sandbox, buyers)
    if not reached.is_set():
        raise RuntimeError(f"the bot process delivered {delivered} invitations and stopped before {kill_at}")
    return delivered


async def _run_bot(rt: Runtime[Config], sandbox: BotApiSandbox, buyers: set[int], stop_after: int | None,
                   deadline: float) -> int | None:
    """Runs one bot until the outbox is drained, or until the sandbox has delivered `stop_after`
    invitations; then returns how many it had delivered (None when it ran to the end)."""
    app = build_application(rt)
    reached = asyncio.Event()
    on_call = _deliveries(sandbox, buyers, stop_after or 0, reached.set)
    sandbox.on_call.append(on_call)
    try:
        async with running(app, poll_timeout=1):
            while time.monotonic() < deadline and not reached.is_set():
                counts = await outbox_counts(rt.db)
                if counts and not counts.get("pending") and not counts.get("sending"):
                    break
                with suppress(TimeoutError):
                    await asyncio.wait_for(reached.wait(), 0.25)
            if reached.is_set():
                # Stop sending first, so the Application stops with every claim settled or handed back.
                app.bot_data.campaign.halt.set()
                return _delivered(sandbox, buyers)
        return None
    finally:
        sandbox.on_call.remove(on_call)


def _delivered(sandbox: BotApiSandbox, buyers: set[int]) -> int:
    return sum(1 for c in sandbox.calls if c.method == "sendMessage" and c.status == 200 and c.chat_id in buyers)


def _measure(sandbox: BotApiSandbox, user_ids: list[int], limit: float, seconds: float, restarts: int,
             sent_before: int | None, outbox: dict[str, int], *, killed: bool = False) -> BenchResult:
    wanted = set(user_ids)
    delivered = [c for c in sandbox.calls
                 if c.method == "sendMessage" and c.status == 200 and c.chat_id in wanted]
    per_user = Counter(c.chat_id for c in delivered)
    times = sorted(c.at for c in delivered)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    return BenchResult(
        invitations=len(user_ids), limit=limit, sent=len(per_user), lost=len(wanted - set(per_user)),
        duplicates=sum(n - 1 for n in per_user.values()), flood_429s=sandbox.stats.statuses.get(429, 0),
        seconds=round(seconds, 2), rate=round(rate, 3), ratio=round(rate / limit, 4), restarts=restarts,
        sent_before_restart=sent_before, outbox=outbox, killed=killed,
    )
