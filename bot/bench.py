"""`redheart bench`: the command, and its invitation part — the campaign measured against the
sandbox's flood limits. The other parts (throughput against PTB's floor, scoring, memory, event-loop
health) live in `bot.perf`.

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
import importlib.util
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bot.app import build_application
from bot.config import BotConfig, Config, IdentityConfig, RoundsConfig, TelegramConfig
from bot.domain import rounds
from bot.domain.clock import Clock, SystemClock
from bot.domain.outbox import STALE_CLAIM
from bot.domain.runtime import Runtime
from bot.jobs import campaign_of
from bot.runner import running
from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import AccountLink, Category, Customer, Factor, Invitation, Product, Purchase

SKU = "BENCH-001"
FIRST_USER_ID = 5_000_000
FACTORS = ("cleanliness", "aroma", "dandruff_control", "conditioning", "moisturizing", "anti_hair_loss")


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


async def seed_buyers(db: Database, count: int, now: datetime, *, first_user_id: int = FIRST_USER_ID,
                      sku: str = SKU) -> list[int]:
    """Writes a product and `count` linked, active buyers who paid for it 30 days ago; returns their user ids."""
    user_ids = [first_user_id + i for i in range(count)]
    async with db.session() as s:
        await s.execute(insert(Category), [{"key": "bench", "name_en": "Shampoo", "name_zh": "洗发水"}])
        await s.execute(insert(Factor), [
            {"category_key": "bench", "position": i, "key": key, "label_en": key.replace("_", " "),
             "label_zh": key, "question_en": f"How is its {key.replace('_', ' ')}?", "question_zh": f"{key}？"}
            for i, key in enumerate(FACTORS)
        ])
        await s.execute(insert(Product), [{"sku": sku, "name": "Bench shampoo", "category_key": "bench",
                                           "popularity": 10_000, "sales_volume": 10_000}])
        customers = [f"B{i:07d}" for i in range(count)]
        await s.execute(insert(Customer), [
            {"customer_id": c, "phone_hash": None, "last_active_at": now - timedelta(days=1),
             "opted_out": False, "excluded_by_admin": False, "forgotten_at": None} for c in customers
        ])
        await s.execute(insert(Purchase), [
            {"order_id": f"O{c}", "customer_id": c, "sku": sku, "status": "paid",
             "purchased_at": now - timedelta(days=30 + i % 300)} for i, c in enumerate(customers)
        ])
        await s.execute(insert(AccountLink), [
            {"telegram_user_id": u, "customer_id": c, "method": "token", "linked_at": now - timedelta(days=2)}
            for u, c in zip(user_ids, customers, strict=True)
        ])
    return user_ids


def bench_config(token: str, base_url: str, rate: float, quota: int) -> Config:
    return Config(
        telegram=TelegramConfig(token=token, base_url=base_url, send_rate=rate),
        bot=BotConfig(admins=(), publish_chat_id="", default_language="en"),
        identity=IdentityConfig(secret="bench"),
        rounds=RoundsConfig(invitation_quota=quota, tick=timedelta(seconds=1)),
    )


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
                config = bench_config(sandbox.token, sandbox.base_url, limit, invitations)
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
                    sent_before = await _run_bot(rt, restart_at, started + timeout)
                restarts = 0
                if sent_before is not None:
                    restarts = 1
                    await _run_bot(rt, None, started + timeout)
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


async def _kill_bot_process(url: str, sandbox: BotApiSandbox, buyers: set[int], config: Config, kill_at: int,
                            deadline: float) -> int:
    """Runs the bot as a process of its own and SIGKILLs it once `kill_at` invitations are delivered;
    returns how many had been delivered when it died."""
    spec = {"database_url": url, "token": config.telegram.token, "base_url": config.telegram.base_url,
            "rate": config.telegram.send_rate, "quota": config.rounds.invitation_quota}
    proc = subprocess.Popen([sys.executable, "-m", "bot.bench", json.dumps(spec)])
    delivered = 0
    reached = asyncio.Event()

    def on_call(call: Any) -> None:
        nonlocal delivered
        if call.method == "sendMessage" and call.status == 200 and call.chat_id in buyers:
            delivered += 1
            if delivered >= kill_at and not reached.is_set():
                proc.kill()  # SIGKILL, at once, from inside the sandbox's handling of that very call
                reached.set()

    sandbox.on_call.append(on_call)
    try:
        while not reached.is_set() and proc.poll() is None and time.monotonic() < deadline:
            with suppress(TimeoutError):
                await asyncio.wait_for(reached.wait(), 0.25)
    finally:
        sandbox.on_call.remove(on_call)
        proc.kill()
        await asyncio.get_running_loop().run_in_executor(None, proc.wait)
    if not reached.is_set():
        raise RuntimeError(f"the bot process delivered {delivered} invitations and stopped before {kill_at}")
    return delivered


async def _bot_process(spec: dict[str, Any]) -> None:
    """The bot process `--kill-at` kills: the real bot on the bench database, running until it dies."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    db = await Database.open(spec["database_url"], migrate=False)
    try:
        config = bench_config(spec["token"], spec["base_url"], spec["rate"], spec["quota"])
        async with running(build_application(Runtime(db, config, SystemClock())), poll_timeout=1):
            await asyncio.Event().wait()
    finally:
        await db.close()


async def _run_bot(rt: Runtime, stop_after: int | None, deadline: float) -> int | None:
    """Runs one bot process until the outbox is drained, or until `stop_after` invitations are out."""
    app = build_application(rt)
    campaign = campaign_of(app.bot_data, rt)
    reached = asyncio.Event()
    if stop_after is not None:
        campaign.on_sent = lambda n: reached.set() if n >= stop_after else None
    async with running(app, poll_timeout=1):
        while time.monotonic() < deadline and not reached.is_set():
            counts = await outbox_counts(rt.db)
            if counts and not counts.get("pending") and not counts.get("sending"):
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(reached.wait(), 0.25)
        if reached.is_set():
            # Stop sending first, so the Application stops with every claim settled or handed back.
            campaign.halt.set()
            return campaign.invitations_sent
    return None


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


async def bench(args: Any) -> int:
    """The `redheart bench` command; returns the exit code."""
    parts = tuple(args.part or ())
    if args.invitations is not None or parts == ("invitations",):
        return await _invitations(args)
    if "invitations" in parts:
        print("redheart: the invitation campaign runs alone: `redheart bench --invitations N`", file=sys.stderr)
        return 2
    try:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    except ValueError:
        sizes = ()
    if args.raters < 1 or args.concurrency < 1 or args.open_ballots < 1 or not sizes or min(sizes) < 1:
        print("redheart: --raters, --concurrency, --open-ballots and --sizes must be positive", file=sys.stderr)
        return 2
    if args.profile and not args.profile.endswith(".pstats") and importlib.util.find_spec("pyinstrument") is None:
        print("redheart: --profile FILE needs pyinstrument (pip install 'redheart[dev]'), "
              "or name the file *.pstats for cProfile", file=sys.stderr)
        return 2
    from bot.perf import PARTS, render, run_parts

    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    results = await run_parts(parts or PARTS, raters=args.raters, concurrency=args.concurrency, sizes=sizes,
                              open_ballots=args.open_ballots, profile=args.profile)
    print(json.dumps(results) if args.json else render(results))
    failed = [p for backend in results.values() for p in (backend.get("throughput"), backend.get("memory"))
              if p is not None and (p.get("errors") or p.get("ours", {}).get("errors"))]
    return 1 if failed else 0


async def _invitations(args: Any) -> int:
    """`redheart bench --invitations N`: the campaign against the sandbox's flood limits."""
    if args.invitations is None:
        print("redheart: the invitation benchmark needs --invitations N", file=sys.stderr)
        return 2
    if args.invitations < 1 or args.limit <= 0 or any(k is not None and k < 1 for k in (args.restart_at, args.kill_at)):
        print("redheart: --invitations, --limit, --restart-at and --kill-at must be positive", file=sys.stderr)
        return 2
    if args.restart_at is not None and args.kill_at is not None:
        print("redheart: --restart-at (a clean stop) and --kill-at (SIGKILL) are two different runs; "
              "choose one", file=sys.stderr)
        return 2
    if any(k is not None and k >= args.invitations for k in (args.restart_at, args.kill_at)):
        print("redheart: --restart-at and --kill-at must be fewer than --invitations", file=sys.stderr)
        return 2
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    result = await run_invitation_bench(args.invitations, args.limit, restart_at=args.restart_at,
                                        kill_at=args.kill_at)
    print(json.dumps(asdict(result) | {"in_doubt": result.in_doubt, "ok": result.ok}) if args.json
          else result.text())
    return 0 if result.ok else 1


if __name__ == "__main__":
    asyncio.run(_bot_process(json.loads(sys.argv[1])))
