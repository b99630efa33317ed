"""`redheart bench` parts beyond the invitation campaign: rating throughput against PTB's own floor,
scoring at scale, memory with many open ballots, and event-loop health.

Throughput: R raters (C at a time) each tap "Rate now", six answers and "Submit" through the sandbox
over real HTTP, against the real Application polling it and a real database. In the same run the
*floor* — a bare PTB Application whose only handler answers the callback and edits the message (the
same two Bot API calls per tap, no database, no domain code) — takes exactly the same load from the
same driver, so `ours / floor` is what our code adds on top of the framework. Both Applications are
built with the same PTB settings (the same number of concurrent updates) and each runs in a process of
its own, as a deployed bot does: the sandbox and the simulated raters stay in this process, so their
CPU and their heap (which the garbage collector would otherwise walk) are not counted against either
bot. Each bot process measures its own event loop's stalls and CPU time. Taps are pushed without the
sandbox's settle wait; a tap is done when the sandbox records the edit it caused, and its latency runs
from the push to that edit.

Memory runs the same bot process and reads its /proc status.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

from bot.app import App, build_application
from bot.callbacks import BallotButton, InviteButton, decode
from bot.config import BotConfig, Config, IdentityConfig, RoundsConfig, TelegramConfig
from bot.domain import rounds, scorecards
from bot.domain.ballots import rater_pseudonym
from bot.domain.clock import SystemClock
from bot.domain.imports import import_files
from bot.domain.runtime import Runtime
from bot.heap import freeze_startup_heap
from bot.runner import running
from bot.sampledata import ANCHOR, write_sample_files
from bot.sandbox import BotApiSandbox, SimUser, StoredMessage
from bot.updates import MAX_CONCURRENT_UPDATES
from storage.db import Database
from storage.models import AccountLink, Ballot, Customer, Invitation, Product, Purchase, Round, RoundFactor

SKU = "BENCH-SHAMPOO"
CATEGORY = "shampoo"
FIRST_RATER_ID = 7_000_000
SECRET = "bench"
TAPS_PER_RATER = 8  # Rate now, six answers, Submit
PG_ENV = "REDHEART_TEST_DATABASE_URL"


# --- shared pieces ------------------------------------------------------------------------------


class LoopMonitor:
    """Sleeps `interval` over and over and records how late each wake-up was: the loop's stalls."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.longest = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.longest = max(self.longest, time.perf_counter() - before - self.interval)
            self.samples += 1

    def __enter__(self) -> LoopMonitor:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def backends() -> list[tuple[str, str | None]]:
    """SQLite always (a temp file), PostgreSQL too when the test database URL is set."""
    found: list[tuple[str, str | None]] = [("sqlite", None)]
    if os.environ.get(PG_ENV):
        found.append(("postgresql", os.environ[PG_ENV]))
    return found


@asynccontextmanager
async def bench_database(pg_url: str | None = None) -> AsyncIterator[tuple[Database, str]]:
    """A fresh, migrated database: a temp SQLite file, or a throwaway database on the PostgreSQL server."""
    if pg_url is None:
        with tempfile.TemporaryDirectory(prefix="redheart-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            db = await Database.open(url)
            try:
                yield db, url
            finally:
                await db.close()
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    name = f"rh_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(user=base.username, password=base.password, host=base.host,
                                  port=base.port or 5432, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        db = await Database.open(url)
        try:
            yield db, url
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def bench_config(sandbox: BotApiSandbox | None, database_url: str) -> Config:
    return Config(
        telegram=TelegramConfig(token=sandbox.token if sandbox else "1:X",
                                base_url=sandbox.base_url if sandbox else ""),
        database_url=database_url,
        # Simulated raters tap far faster than people do; flood protection is measured elsewhere.
        bot=BotConfig(admins=(), publish_chat_id="", default_language="en", flood_limit=0),
        identity=IdentityConfig(secret=SECRET),
        # Nothing is due while the bench runs; a slow tick keeps the scheduler's own work out of it.
        rounds=RoundsConfig(tick=timedelta(minutes=10)),
    )


async def seed_raters(rt: Runtime, count: int, *, first_user_id: int = FIRST_RATER_ID) -> tuple[int, list[int]]:
    """The sample shampoo factors, a product, `count` linked buyers, and an open round inviting all of
    them (the invitations marked sent, as if the campaign had delivered them); returns (round, users)."""
    now = rt.clock.now()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_sample_files(Path(tmp), anchor=ANCHOR)
        await import_files(rt.db, [p for p in files if p.name == "categories.toml"], secret=SECRET)
    user_ids = [first_user_id + i for i in range(count)]
    customers = [f"R{i:07d}" for i in range(count)]
    async with rt.db.session() as s:
        await s.execute(insert(Product), [{"sku": SKU, "name": "Bench shampoo 400ml", "category_key": CATEGORY,
                                           "popularity": 10_000, "sales_volume": 10_000}])
        for chunk in _chunks(list(zip(user_ids, customers, strict=True)), 5_000):
            await s.execute(insert(Customer), [
                {"customer_id": c, "phone_hash": None, "last_active_at": now - timedelta(days=1),
                 "opted_out": False, "excluded_by_admin": False, "forgotten_at": None} for _, c in chunk])
            await s.execute(insert(Purchase), [
                {"order_id": f"O{c}", "customer_id": c, "sku": SKU, "status": "paid",
                 "purchased_at": now - timedelta(days=30 + int(c[1:]) % 300)} for _, c in chunk])
            await s.execute(insert(AccountLink), [
                {"telegram_user_id": u, "customer_id": c, "method": "token", "linked_at": now - timedelta(days=2)}
                for u, c in chunk])
    round_id = await rounds.schedule_round(rt, SKU, actor="bench", quota=count)
    assert await rounds.open_round(rt, round_id)
    async with rt.db.session() as s:
        await s.execute(update(Invitation).where(Invitation.round_id == round_id).values(status="sent", sent_at=now))
    return round_id, user_ids


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def invite_users(sandbox: BotApiSandbox, user_ids: list[int], round_id: int) -> list[SimUser]:
    """Puts the invitation message, with its Rate now button, in each rater's chat."""
    markup = {"inline_keyboard": [[{"text": "Rate now", "callback_data": InviteButton(round_id, "r").encode()}]]}
    users = []
    for uid in user_ids:
        user = sandbox.user(first_name=f"Rater{uid}", user_id=uid, started=True, language_code="en")
        sandbox.state.add_message(sandbox.state.chats[uid], from_bot=True, text="Rate this shampoo",
                                  reply_markup=markup)
        users.append(user)
    return users


# --- the load driver ------------------------------------------------------------------------------

Chooser = Callable[[StoredMessage, int, random.Random], str]


@dataclass
class Load:
    taps: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    # Both measured inside the bot's own process (see `_measured`), not here beside the sandbox.
    cpu_seconds: float = 0.0
    longest_stall: float = 0.0


async def drive(sandbox: BotApiSandbox, users: list[SimUser], choose: Chooser, *, taps_per_user: int,
                concurrency: int, timeout: float = 30.0) -> Load:
    """Each user taps `taps_per_user` times, `concurrency` users at a time, each tap once the previous
    one's edit arrived. No settle wait: completion is the sandbox recording the edit."""
    load = Load()
    edited: dict[int, asyncio.Event] = {}

    def on_call(call: Any) -> None:
        if call.method == "editMessageText" and call.chat_id in edited:
            edited[call.chat_id].set()

    sandbox.on_call.append(on_call)
    gate = asyncio.Semaphore(concurrency)

    async def rater(user: SimUser, rng: random.Random) -> None:
        async with gate:
            for i in range(taps_per_user):
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
        if isinstance(b, InviteButton) and b.action == "r":
            return d
    actions = {b.action: d for d, b in buttons if isinstance(b, BallotButton)}
    if "s" in actions:
        return actions["s"]
    return actions[str(rng.choice((2, 3, 4, 4, 5, 5)))]


def choose_first_button(message: StoredMessage, _i: int, _rng: random.Random) -> str:
    return str(message.buttons[0][0].callback_data)


# --- the floor ------------------------------------------------------------------------------------


def floor_application(token: str, base_url: str) -> App:
    """Bare PTB: one handler answering the callback and editing the message to a screen of the same
    shape as ours (HTML text, a keyboard of score buttons), as many updates at once as ours takes."""
    app = (ApplicationBuilder().token(token).base_url(base_url)
           .base_file_url(base_url.replace("/bot", "/file/bot", 1))
           .concurrent_updates(MAX_CONCURRENT_UPDATES)).build()

    async def tap(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers and edits: the two Bot API calls every rating tap makes."""
        query = update.callback_query
        assert query is not None
        step = int((query.data or "f:0").split(":")[1]) + 1
        rows = [[InlineKeyboardButton(f"{n} ❤️", callback_data=f"f:{step}") for n in range(1, 6)],
                [InlineKeyboardButton("Not sure", callback_data=f"f:{step}"),
                 InlineKeyboardButton("Back", callback_data=f"f:{step}")]]
        await query.answer()
        await query.edit_message_text(
            f"<b>Bench shampoo 400ml</b> · {step}/6\n<b>Scent</b>\nHow much do you like its scent?",
            parse_mode="HTML", reply_markup=InlineKeyboardMarkup(rows))

    app.add_handler(CallbackQueryHandler(tap))
    return app


@asynccontextmanager
async def polling(app: App) -> AsyncIterator[App]:
    """The floor started exactly as `bot.runner.running` starts ours."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# --- part 1: throughput -------------------------------------------------------------------------


def _summary(load: Load) -> dict[str, Any]:
    lat = load.latencies or [0.0]
    return {
        "taps": load.taps, "errors": len(load.errors), "seconds": round(load.seconds, 3),
        "cpu_seconds": round(load.cpu_seconds, 3),
        "taps_per_s": round(load.taps / load.seconds, 1) if load.seconds else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000, 2), "p95_ms": round(percentile(lat, 95) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "longest_loop_stall_ms": round(load.longest_stall * 1000, 2),
    }


async def run_throughput(raters: int = 500, concurrency: int = 50, pg_url: str | None = None,
                         *, profile: str | None = None) -> dict[str, Any]:
    """Part 1 (and 4): ours and the floor under the same load; `profile` writes a profile of ours."""
    async with bench_database(pg_url) as (db, url), BotApiSandbox(settle=0.0) as sandbox:
        rt = Runtime(db, bench_config(sandbox, url), SystemClock())
        round_id, user_ids = await seed_raters(rt, raters)
        spec = {"database_url": url, "token": sandbox.token, "base_url": sandbox.base_url}
        # The floor first, under the same load, in its own sandbox chats.
        floor_users = invite_users(sandbox, [u + 50_000_000 for u in user_ids], round_id)
        for u in floor_users:
            u.last_message.reply_markup = {"inline_keyboard": [[{"text": "go", "callback_data": "f:0"}]]}
        floor, floor_bot = await _measured(spec | {"kind": "floor"}, sandbox, floor_users, choose_first_button,
                                           concurrency)
        users = invite_users(sandbox, user_ids, round_id)
        ours, our_bot = await _measured(spec | {"kind": "ours", "profile": profile}, sandbox, users,
                                        choose_ballot_button, concurrency)
        async with db.session() as s:
            submitted = len(list(await s.scalars(
                select(Ballot.id).where(Ballot.round_id == round_id, Ballot.status == "submitted"))))
    result_ours, result_floor = _summary(ours), _summary(floor)
    return {
        "raters": raters, "concurrency": concurrency, "taps_per_rater": TAPS_PER_RATER,
        "ours": result_ours | {"ballots_submitted": submitted, "handler_errors": our_bot["errors"]},
        "floor": result_floor | {"handler_errors": floor_bot["errors"]},
        "throughput_ratio": round(result_ours["taps_per_s"] / result_floor["taps_per_s"], 3)
        if result_floor["taps_per_s"] else None,
        "p99_ratio": round(result_ours["p99_ms"] / result_floor["p99_ms"], 3) if result_floor["p99_ms"] else None,
        "error_samples": (ours.errors + floor.errors + our_bot["error_samples"] + floor_bot["error_samples"])[:5],
    }


async def _measured(spec: dict[str, Any], sandbox: BotApiSandbox, users: list[SimUser], choose: Chooser,
                    concurrency: int) -> tuple[Load, dict[str, Any]]:
    """`drive` against a bot process of `spec["kind"]`; the load, with the bot's own loop stall and CPU."""
    child = _ChildBot(spec)
    try:
        await child.status(None)  # the bot is up
        await child.status("reset")
        load = await drive(sandbox, users, choose, taps_per_user=TAPS_PER_RATER, concurrency=concurrency)
        bot = await child.status()
    finally:
        await child.stop()
    load.longest_stall, load.cpu_seconds = bot["stall_ms"] / 1000, bot["cpu_seconds"]
    return load, bot


def _profiler(path: str | None) -> Any:
    if not path:
        return None
    if path.endswith(".pstats"):
        import cProfile

        deterministic = cProfile.Profile()
        deterministic.enable()
        return deterministic
    from pyinstrument import Profiler

    sampling = Profiler(interval=0.0005, async_mode="disabled")
    sampling.start()
    return sampling


def _finish_profile(profiler: Any, path: str | None) -> None:
    if profiler is None or path is None:
        return
    if path.endswith(".pstats"):
        profiler.disable()
        profiler.dump_stats(path)
        return
    profiler.stop()
    Path(path).write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")


# --- part 2: scoring --------------------------------------------------------------------------------


async def run_scoring(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), pg_url: str | None = None) -> dict[str, Any]:
    """Part 2: a round of N submitted ballots bulk-inserted, then loaded from the database, screened and
    scored by `bot.domain.scorecards.compute`, exactly as closing a round does; with the longest stall
    of the event loop meanwhile (a bot closing a round keeps answering the taps of the others)."""
    rows = []
    async with bench_database(pg_url) as (db, url):
        rt = Runtime(db, bench_config(None, url), SystemClock())
        round_id, _ = await seed_raters(rt, 1)
        async with db.session() as s:
            factors = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == round_id)))
        for n in sizes:
            rid = await _synthetic_round(rt, round_id, n, factors)
            gc.collect()  # the earlier parts' and sizes' garbage is not this size's to pay for
            with LoopMonitor() as monitor:
                await asyncio.sleep(monitor.interval * 2)  # the monitor is running before the clock starts
                started = time.perf_counter()
                async with db.session() as s:
                    report = await scorecards.compute(s, rt, await s.get_one(Round, rid),
                                                      status_if_scored="published")
                seconds = time.perf_counter() - started
                await asyncio.sleep(monitor.interval * 2)  # and sees the loop after the last step
            row = {"ballots": n, "seconds": round(seconds, 3), "us_per_ballot": round(seconds / n * 1e6, 2),
                   "accepted": report["ballots"]["accepted"],
                   "longest_loop_stall_ms": round(monitor.longest * 1000, 1)}
            rows.append(row)
    return {"sizes": rows}


async def _synthetic_round(rt: Runtime, like_round: int, n: int, factors: list[str]) -> int:
    """A copy of `like_round` (same frozen factors) holding `n` submitted ballots shaped like ours."""
    now = rt.clock.now()
    rng = random.Random(n)
    async with rt.db.session() as s:
        like = await s.get_one(Round, like_round)
        rid = (await s.execute(insert(Round).returning(Round.id), [{
            "sku": like.sku, "category_key": like.category_key, "status": "open", "opens_at": now - timedelta(days=7),
            "closes_at": now, "quota": n, "min_ballots": 30, "forced": True, "created_by": "bench",
            "created_at": now - timedelta(days=7), "opened_at": now - timedelta(days=7)}])).scalar_one()
        like_factors = list(await s.scalars(select(RoundFactor).where(RoundFactor.round_id == like_round)))
        await s.execute(insert(RoundFactor), [
            {"round_id": rid, "position": f.position, "key": f.key, "label_en": f.label_en, "label_zh": f.label_zh,
             "question_en": f.question_en, "question_zh": f.question_zh} for f in like_factors])
    for chunk in _chunks(list(range(n)), 10_000):
        async with rt.db.session() as s:
            values = []
            for i in chunk:
                answers = {k: rng.choice((0, 2, 3, 3, 4, 4, 4, 5, 5)) for k in factors}
                started = now - timedelta(days=3, seconds=rng.randint(0, 86_400))
                values.append({
                    "round_id": rid, "customer_id": None, "rater": rater_pseudonym(SECRET, rid, f"S{i}"),
                    "telegram_user_id": None, "chat_id": None, "step": len(factors) + 1, "rev": 9,
                    "answers": answers, "submitted": answers, "status": "submitted", "owned_days": rng.randint(1, 300),
                    "started_at": started, "updated_at": started,
                    "submitted_at": started + timedelta(seconds=rng.choice((4, 20, 40, 60, 90, 180))),
                    "revisions": 0})
            await s.execute(insert(Ballot), values)
    return int(rid)


# --- part 3: memory -----------------------------------------------------------------------------------


def _proc_status() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in KiB."""
    out: dict[str, int] = {}
    with suppress(OSError), open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    if "VmHWM" not in out:  # not Linux: ru_maxrss is the peak (KiB on Linux, bytes on macOS)
        out["VmHWM"] = out["VmRSS"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


async def _child_bot(spec: dict[str, Any]) -> None:
    """A bot process of the bench: ours (the real Application on the bench database) or the floor. It
    runs until told to quit on stdin and answers "status" (memory, and since the last "reset" its
    loop's longest stall and its CPU time) with one line of JSON; "reset" also starts the profiler."""
    db = await Database.open(spec["database_url"], migrate=False) if spec["kind"] == "ours" else None
    if db is not None:
        config = replace(bench_config(None, spec["database_url"]),
                         telegram=TelegramConfig(token=spec["token"], base_url=spec["base_url"]))
        app = build_application(Runtime(db, config, SystemClock()))
        started = running(app, poll_timeout=1)
    else:
        app = floor_application(spec["token"], spec["base_url"])
        started = polling(app)
    loop = asyncio.get_running_loop()
    profile, profiler, cpu = spec.get("profile"), None, time.process_time()

    def status(monitor: LoopMonitor) -> str:
        errors = list(app.bot_data.get("errors", []))
        return json.dumps(_proc_status() | {
            "stall_ms": round(monitor.longest * 1000, 2), "cpu_seconds": round(time.process_time() - cpu, 3),
            "errors": len(errors), "error_samples": [repr(e) for e in errors[:5]]})

    try:
        async with started:
            freeze_startup_heap()  # as `bot.runner.serve` does once the bot is up
            with LoopMonitor() as monitor:
                print(status(monitor), flush=True)
                while (command := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) not in ("", "quit"):
                    if command == "reset":
                        monitor.longest, cpu = 0.0, time.process_time()
                        profiler = profiler or _profiler(profile)
                    print(status(monitor), flush=True)
                _finish_profile(profiler, profile)
    finally:
        if db is not None:
            await db.close()


class _ChildBot:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.perf", json.dumps(spec)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    async def status(self, command: str | None = "status") -> dict[str, Any]:
        """Sends `command` (None: nothing, the line printed once the bot is up) and reads its answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = await asyncio.get_running_loop().run_in_executor(None, self.proc.stdout.readline)
        if not line:
            raise RuntimeError("the bench's bot process exited")
        status: dict[str, Any] = json.loads(line)
        return status

    async def stop(self) -> None:
        """Asks the bot to stop; waits off the loop, which must keep serving its last API calls."""
        with suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            await asyncio.get_running_loop().run_in_executor(None, lambda: self.proc.wait(timeout=60))
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def run_memory(open_ballots: int = 10_000, tapped: int = 1_000, concurrency: int = 50,
                     pg_url: str | None = None) -> dict[str, Any]:
    """Part 3: `open_ballots` raters with a ballot in progress — most written straight to the database,
    `tapped` of them opened through the bot (Rate now and two answers) — and the bot process's RSS."""
    tapped = min(tapped, open_ballots)
    async with bench_database(pg_url) as (db, url), BotApiSandbox(settle=0.0) as sandbox:
        rt = Runtime(db, bench_config(sandbox, url), SystemClock())
        round_id, user_ids = await seed_raters(rt, open_ballots)
        await _open_ballots_directly(rt, round_id, user_ids[tapped:])
        child = _ChildBot({"kind": "ours", "database_url": url, "token": sandbox.token, "base_url": sandbox.base_url})
        try:
            await child.status(None)
            users = invite_users(sandbox, user_ids[:tapped], round_id)
            warm, rest = users[:50], users[50:]
            await drive(sandbox, warm, choose_ballot_button, taps_per_user=3, concurrency=concurrency)
            before = await child.status()
            load = await drive(sandbox, rest, choose_ballot_button, taps_per_user=3, concurrency=concurrency)
            after = await child.status()
        finally:
            await child.stop()
        async with db.session() as s:
            in_progress = len(list(await s.scalars(
                select(Ballot.id).where(Ballot.round_id == round_id, Ballot.status == "in_progress"))))
    growth = (after["VmRSS"] - before["VmRSS"]) * 1024 / max(1, len(rest))
    return {
        "open_ballots": in_progress, "opened_through_bot": tapped, "taps": load.taps + 3 * len(warm),
        "errors": len(load.errors), "rss_mb_before": round(before["VmRSS"] / 1024, 1),
        "rss_mb_after": round(after["VmRSS"] / 1024, 1), "peak_rss_mb": round(after["VmHWM"] / 1024, 1),
        "growth_bytes_per_open_ballot": round(growth),
    }


async def _open_ballots_directly(rt: Runtime, round_id: int, user_ids: list[int]) -> None:
    """In-progress ballots as `ballots.begin` and two answers leave them, written in bulk."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        links = dict((await s.execute(select(AccountLink.telegram_user_id, AccountLink.customer_id))).all())
        keys = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == round_id)
                                    .order_by(RoundFactor.position)))
    for chunk in _chunks(user_ids, 5_000):
        async with rt.db.session() as s:
            await s.execute(insert(Ballot), [
                {"round_id": round_id, "customer_id": links[u], "telegram_user_id": u, "chat_id": u,
                 "rater": rater_pseudonym(SECRET, round_id, links[u]), "step": 2, "rev": 3,
                 "answers": {keys[0]: 4, keys[1]: 5}, "status": "in_progress", "started_at": now, "updated_at": now,
                 "revisions": 0} for u in chunk])


# --- the command ------------------------------------------------------------------------------------

PARTS = ("throughput", "scoring", "memory")

# The acceptance targets of the performance issue, checked on SQLite.
TARGETS = {
    "throughput_ratio_min": 0.7, "p99_ratio_max": 1.5, "loop_stall_ms_max": 50.0,
    "scoring_100k_seconds_max": 3.0, "peak_rss_mb_max": 200.0,
}


def check_targets(parts: dict[str, Any]) -> dict[str, bool]:
    """Which targets one backend's results meet (only for the parts that ran)."""
    met: dict[str, bool] = {}
    if "throughput" in parts:
        t = parts["throughput"]
        met["throughput_ratio"] = (t["throughput_ratio"] or 0) >= TARGETS["throughput_ratio_min"]
        met["p99_ratio"] = (t["p99_ratio"] or 1e9) <= TARGETS["p99_ratio_max"]
        met["loop_stall"] = t["ours"]["longest_loop_stall_ms"] < TARGETS["loop_stall_ms_max"]
    if "scoring" in parts:
        big = [r for r in parts["scoring"]["sizes"] if r["ballots"] >= 100_000]
        if big:
            met["scoring_100k"] = big[-1]["seconds"] < TARGETS["scoring_100k_seconds_max"]
    if "memory" in parts:
        met["peak_rss"] = parts["memory"]["peak_rss_mb"] < TARGETS["peak_rss_mb_max"]
    return met


async def run_parts(parts: tuple[str, ...], *, raters: int, concurrency: int,
                    sizes: tuple[int, ...] = (1_000, 10_000, 100_000), open_ballots: int = 10_000,
                    profile: str | None = None) -> dict[str, Any]:
    """The chosen parts on every backend; one dict keyed by backend, then part."""
    out: dict[str, Any] = {}
    for name, pg_url in backends():
        results: dict[str, Any] = {}
        if "throughput" in parts:
            results["throughput"] = await run_throughput(raters, concurrency, pg_url,
                                                         profile=profile if name == "sqlite" else None)
        if "scoring" in parts:
            results["scoring"] = await run_scoring(sizes, pg_url)
        if "memory" in parts:
            results["memory"] = await run_memory(open_ballots, min(1_000, open_ballots), concurrency, pg_url)
        results["targets_met"] = check_targets(results)
        out[name] = results
    return out


def render(results: dict[str, Any]) -> str:
    lines = []
    for backend, parts in results.items():
        lines.append(f"== {backend}")
        if "throughput" in parts:
            t = parts["throughput"]
            lines.append(f"throughput: {t['raters']} raters x {t['taps_per_rater']} taps, {t['concurrency']} at a time")
            for side in ("ours", "floor"):
                r = t[side]
                lines.append(f"  {side:5} {r['taps_per_s']:8.1f} taps/s  p50 {r['p50_ms']:.1f} ms  "
                             f"p95 {r['p95_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  "
                             f"stall {r['longest_loop_stall_ms']:.1f} ms  errors {r['errors']}")
            lines.append(f"  ours/floor: throughput {t['throughput_ratio']}, p99 {t['p99_ratio']}")
        if "scoring" in parts:
            lines.append("scoring (load from the database + screen + score, as closing does):")
            for row in parts["scoring"]["sizes"]:
                lines.append(f"  {row['ballots']:>7} ballots  {row['seconds']:.3f} s  "
                             f"{row['us_per_ballot']:.1f} µs/ballot  ({row['accepted']} accepted)  "
                             f"loop stall {row['longest_loop_stall_ms']:.0f} ms")
        if "memory" in parts:
            m = parts["memory"]
            lines.append(f"memory: {m['open_ballots']} open ballots, peak RSS {m['peak_rss_mb']} MB, "
                         f"growth {m['growth_bytes_per_open_ballot']} B per open ballot")
        missed = [k for k, ok in parts.get("targets_met", {}).items() if not ok]
        lines.append("targets: " + (f"missed {', '.join(missed)}" if missed else "all met"))
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(_child_bot(json.loads(sys.argv[1])))
