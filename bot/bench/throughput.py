"""Throughput: ours against PTB's floor, under the same load from the same driver.

R raters (C at a time) each tap "Rate now", six answers and "Submit" through the sandbox over real
HTTP, against the real Application polling it and a real database. The *floor* — a bare PTB
Application whose only handler answers the callback and edits the message (the same two Bot API calls
per tap, no database, no domain code) — takes exactly the same load, so `ours / floor` is what our
code adds on top of the framework. Both Applications are built with the same PTB settings (the same
number of concurrent updates) and each runs in a process of its own, as a deployed bot does, polling
a sandbox of its own: the sandboxes and the simulated raters stay in this process, so their CPU and
their heap (which the garbage collector would otherwise walk) are not counted against either bot.
Each bot process measures its own event loop's stalls and CPU time.

Both bots stay up for the whole run and take the load in alternating slices (`bot.bench.pairs`), the
order within each pair at random. A slice is a steady load: C raters tapping at all times, a rater
who submits replaced at once by the next, so Rate now, the answers and Submit stay mixed as a round's
raters mix them. It is measured over a window in its middle: the window opens once a warm-up's taps
are done (a quarter as many again as it measures, and at least C: the start's burst of C Rate nows,
caches and connections filling) and closes after R/P raters' worth of taps; then each rater stops after the tap
it is making. Taps/s, the latencies and the bot's CPU are the window's alone. Measured over the whole
slice instead, the tail in which the last raters finished one by one, ever fewer at a time, weighed
on taps/s by however long the slowest of them took: on a quiet machine the pairs' ratios spread
0.55–0.99. Taps are pushed without the sandbox's settle wait; a tap is done when the sandbox records
the edit it caused, and its latency runs from the push to that edit.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
import statistics
import time
from typing import Any

from sqlalchemy import func, select

from bot.bench.child import ChildBot
from bot.bench.driver import (
    TAPS_PER_RATER,
    Chooser,
    Load,
    Window,
    choose_ballot_button,
    choose_first_button,
    drive,
    invite_users,
    percentile,
)
from bot.bench.fixtures import bench_config, bench_database, chunks, seed_raters
from bot.bench.pairs import THROUGHPUT_PAIRS, pair_orders, ratios_of, spread, warnings_for
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from bot.sandbox import BotApiSandbox, SimUser
from storage.models import Ballot
from storage.statuses import BallotStatus

# A slice's warm-up, done before its window opens: 1/4 as many taps again as the window, and at least one
# tap per rater tapping at once (their first taps, all Rate now, come in one burst).
WARMUP_SHARE = 4


def _summary(load: Load) -> dict[str, Any]:
    lat = load.latencies or [0.0]
    return {
        "taps": load.taps, "errors": len(load.errors), "seconds": round(load.seconds, 3),
        "cpu_seconds": round(load.cpu_seconds, 3),
        "cpu_ms_per_tap": round(load.cpu_seconds / load.taps * 1000, 3) if load.taps else 0.0,
        "taps_per_s": round(load.taps / load.seconds, 1) if load.seconds else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000, 2), "p95_ms": round(percentile(lat, 95) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "longest_loop_stall_ms": round(load.longest_stall * 1000, 2),
    }


def _side(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One side over all its slices: totals, the median slice's rates and latencies, the worst stall."""
    def median(key: str) -> float:
        return round(float(statistics.median(s[key] for s in slices)), 3)

    return {"taps": sum(s["taps"] for s in slices), "errors": sum(s["errors"] for s in slices),
            "seconds": round(sum(s["seconds"] for s in slices), 3),
            "cpu_seconds": round(sum(s["cpu_seconds"] for s in slices), 3),
            **{key: median(key) for key in ("taps_per_s", "cpu_ms_per_tap", "p50_ms", "p95_ms", "p99_ms")},
            "longest_loop_stall_ms": max(s["longest_loop_stall_ms"] for s in slices),
            "handler_errors": sum(s["handler_errors"] for s in slices)}


def interleaved_report(pairs: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The per-pair ratios of the slices, their medians and spreads, and what they allow to conclude."""
    spreads = {"throughput": spread(ratios_of(pairs, "taps_per_s")), "p99": spread(ratios_of(pairs, "p99_ms")),
               "cpu_per_tap": spread(ratios_of(pairs, "cpu_ms_per_tap"))}
    return {
        "ours": _side([p["ours"] for p in pairs]), "floor": _side([p["floor"] for p in pairs]),
        "throughput_ratio": spreads["throughput"]["median"], "p99_ratio": spreads["p99"]["median"],
        "ratios": spreads, "warnings": warnings_for(spreads), "pairs": pairs,
    }


async def run_throughput(raters: int = 700, concurrency: int = 50, pg_url: str | None = None, *,
                         pairs: int = THROUGHPUT_PAIRS, profile: str | None = None, seed: int | None = None
                         ) -> dict[str, Any]:
    """Ours and the floor under the same load, in `pairs` interleaved pairs of slices; `profile` writes
    a profile of ours."""
    per_slice = max(1, math.ceil(raters / pairs))
    warmup = max(1, per_slice // WARMUP_SHARE, math.ceil(concurrency / TAPS_PER_RATER))
    async with bench_database(pg_url) as (db, url), BotApiSandbox(settle=0.0) as our_box, \
            BotApiSandbox(settle=0.0) as floor_box:
        rt = Runtime(db, bench_config(url, our_box.token, our_box.base_url), SystemClock())
        # Each slice's raters: enough for its warm-up and window, and the C still tapping when it closes.
        slice_raters = warmup + per_slice + concurrency
        round_id, user_ids = await seed_raters(rt, pairs * slice_raters)
        boxes = {"ours": our_box, "floor": floor_box}
        bots = {side: ChildBot({"kind": side, "database_url": url, "token": box.token, "base_url": box.base_url}
                               | ({"profile": profile} if side == "ours" else {}))
                for side, box in boxes.items()}
        measured: list[dict[str, Any]] = []
        samples: list[str] = []
        try:
            for bot in bots.values():
                await bot.status(None)  # the bot is up
            batches = chunks(user_ids, slice_raters)
            window = (warmup * TAPS_PER_RATER, per_slice * TAPS_PER_RATER)
            for order, batch in zip(pair_orders(pairs, random.Random(seed)), batches, strict=True):
                pair: dict[str, Any] = {"order": list(order)}
                for side in order:
                    users = _invited(side, boxes[side], batch, round_id)
                    pair[side], errors = await _slice(bots[side], boxes[side], users, Window(*window),
                                                      CHOOSERS[side], concurrency)
                    samples += errors
                measured.append(pair)
        finally:
            for bot in bots.values():
                await bot.stop()
        async with db.session() as s:
            submitted = await s.scalar(select(func.count()).select_from(Ballot).where(
                Ballot.round_id == round_id, Ballot.status == BallotStatus.SUBMITTED))
    report = interleaved_report(measured)
    report["ours"]["ballots_submitted"] = submitted
    return {"raters": per_slice * pairs, "concurrency": concurrency, "taps_per_rater": TAPS_PER_RATER,
            "raters_per_slice": per_slice, "warmup_raters_per_slice": warmup} | report | {
            "error_samples": samples[:5]}


CHOOSERS: dict[str, Chooser] = {"ours": choose_ballot_button, "floor": choose_first_button}


def _invited(side: str, sandbox: BotApiSandbox, user_ids: list[int], round_id: int) -> list[SimUser]:
    """The raters of one slice in `side`'s sandbox, each with the message their first tap presses."""
    users = invite_users(sandbox, user_ids, round_id)
    if side == "floor":
        for u in users:
            u.last_message.reply_markup = {"inline_keyboard": [[{"text": "go", "callback_data": "f:0"}]]}
    return users


async def _slice(bot: ChildBot, sandbox: BotApiSandbox, users: list[SimUser], window: Window, choose: Chooser,
                 concurrency: int) -> tuple[dict[str, Any], list[str]]:
    """One slice: the steady load, measured over its window — the taps done in it, their latencies, and
    the bot's own CPU time and loop stall meanwhile."""
    load = asyncio.create_task(drive(sandbox, users, choose, taps_per_user=TAPS_PER_RATER,
                                     concurrency=concurrency, window=window))
    await _until(window.opened, load)
    opened = time.perf_counter()
    before = await bot.status("reset")
    await _until(window.closed, load)
    closed = time.perf_counter()
    after = await bot.status()
    whole = await load
    first, last = bisect.bisect_left(whole.done_at, opened), bisect.bisect_left(whole.done_at, closed)
    measured = Load(taps=last - first, errors=whole.errors, latencies=whole.latencies[first:last],
                    seconds=closed - opened, cpu_seconds=after["cpu_seconds"], longest_stall=after["stall_ms"] / 1000)
    summary = _summary(measured) | {"handler_errors": after["errors"] - before["errors"]}
    return summary, whole.errors + (after["error_samples"] if summary["handler_errors"] else [])


async def _until(event: asyncio.Event, load: asyncio.Task[Load]) -> None:
    """Until `event`, or the load's end (it ran out of raters or failed: its errors tell)."""
    waiting = asyncio.ensure_future(event.wait())
    await asyncio.wait({waiting, load}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
