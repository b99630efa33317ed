"""Throughput: ours against PTB's floor, under the same load from the same driver, at the same time.

R raters (C at a time) each tap "Rate now", six answers and "Submit" through the sandbox over real
HTTP, against the real Application polling it and a real database. The *floor* — a bare PTB
Application whose only handler answers the callback and edits the message (the same two Bot API calls
per tap, no database, no domain code) — takes exactly the same load, so `ours / floor` is what our
code adds on top of the framework. Both Applications are built with the same PTB settings (the same
number of concurrent updates) and each runs in a process of its own, as a deployed bot does, polling
a sandbox of its own: the sandboxes and the simulated raters stay in this process, so their CPU and
their heap (which the garbage collector would otherwise walk) are not counted against either bot.
Each bot process measures its own event loop's stalls and CPU time.

**Interleaved by the kernel.** Both bots are pinned to one CPU and take their loads at the same time;
this process, the driver, runs on the other CPUs. Two CPU-bound processes on one CPU are interleaved
by the scheduler every few milliseconds, each given an equal share — ABAB at a grain no load on the
machine can fall between — and every window measures both sides over the same span of time. The run
is one steady load a side (C raters tapping at all times, each who submits replaced at once by the
next, so Rate now, the answers and Submit stay mixed as a round's raters mix them), warmed up once (a
quarter as many taps as a window, and at least C) and then cut into `pairs` windows, each closing
when the two sides together have made 2·R/P raters' worth of taps. A window's figures (taps/s, p99,
CPU per tap) give one pair's ratios; `bot.bench.pairs` takes their median and its interval.

Why, measured on this 2-CPU VM (SQLite, 28 pairs): alternating slices of ~1 s (ours, then the floor,
the order at random) gave medians of 0.944, 0.826 and 0.857 in three quiet runs, each pair's ratio
spread 0.55–1.08 — the VM's speed varies 23% from one second to the next, and a slice took whichever
speed its second had. Sharing one CPU: 0.881 and 0.879, the pairs within 0.80–0.96, and 0.88 with a
CPU hog started halfway. Not pinned, the two bots ran on different CPUs, whose speeds differ: 0.761,
pairs 0.50–1.26. The absolute taps/s and latencies are those of a bot with half a CPU; a tap's CPU
time is its own.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
from bot.bench.fixtures import bench_config, bench_database, seed_raters
from bot.bench.pairs import THROUGHPUT_PAIRS, ratios_of, spread, warnings_for
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from bot.sandbox import BotApiSandbox, SimUser
from storage.models import Ballot
from storage.statuses import BallotStatus

SIDES = ("ours", "floor")
# The warm-up, done before the first window opens: 1/4 as many taps as a window, and at least one tap
# per rater tapping at once (their first taps, all Rate now, come in one burst).
WARMUP_SHARE = 4
# How often the driver looks whether a window's taps are done: a window lasts ~1 s.
POLL_SECONDS = 0.005


def _summary(taps: int, seconds: float, latencies: list[float], status: dict[str, Any], errors: int
             ) -> dict[str, Any]:
    lat = latencies or [0.0]
    cpu = status["cpu_seconds"]
    return {
        "taps": taps, "errors": errors, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
        "cpu_ms_per_tap": round(cpu / taps * 1000, 3) if taps else 0.0,
        "taps_per_s": round(taps / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000, 2), "p95_ms": round(percentile(lat, 95) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2), "longest_loop_stall_ms": status["stall_ms"],
    }


def _side(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """One side over all its windows: totals, the median window's rates and latencies, the worst stall."""
    def median(key: str) -> float:
        return round(float(statistics.median(w[key] for w in windows)), 3)

    return {"taps": sum(w["taps"] for w in windows), "errors": sum(w["errors"] for w in windows),
            "seconds": round(sum(w["seconds"] for w in windows), 3),
            "cpu_seconds": round(sum(w["cpu_seconds"] for w in windows), 3),
            **{key: median(key) for key in ("taps_per_s", "cpu_ms_per_tap", "p50_ms", "p95_ms", "p99_ms")},
            "longest_loop_stall_ms": max(w["longest_loop_stall_ms"] for w in windows),
            "handler_errors": sum(w["handler_errors"] for w in windows)}


def interleaved_report(pairs: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The per-pair ratios of the windows, their medians and spreads, and what they allow to conclude."""
    spreads = {"throughput": spread(ratios_of(pairs, "taps_per_s")), "p99": spread(ratios_of(pairs, "p99_ms")),
               "cpu_per_tap": spread(ratios_of(pairs, "cpu_ms_per_tap"))}
    return {
        "ours": _side([p["ours"] for p in pairs]), "floor": _side([p["floor"] for p in pairs]),
        "throughput_ratio": spreads["throughput"]["median"], "p99_ratio": spreads["p99"]["median"],
        "ratios": spreads, "warnings": warnings_for(spreads), "pairs": pairs,
    }


def shared_cpu() -> tuple[set[int], set[int]] | None:
    """(the CPU both bots share, the CPUs left to the driver — the same one on a one-CPU machine), or
    None where processes cannot be pinned (not Linux): the bots then share whatever CPUs they get."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return {allowed[0]}, set(allowed[1:]) or {allowed[0]}


@contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """This thread (the driver's loop) on `cpus` while the block runs (None: as it is)."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


async def run_throughput(raters: int = 700, concurrency: int = 50, pg_url: str | None = None, *,
                         pairs: int = THROUGHPUT_PAIRS, profile: str | None = None) -> dict[str, Any]:
    """Ours and the floor under the same load at the same time on one CPU, measured in `pairs` windows
    of R/P raters' worth of taps a side; `profile` writes a profile of ours."""
    per_window = max(1, math.ceil(raters / pairs))
    warmup = max(1, per_window // WARMUP_SHARE, math.ceil(concurrency / TAPS_PER_RATER))
    # A side's raters: its warm-up, the windows' taps were it to make all of them, and the C still tapping.
    side_raters = warmup + 2 * per_window * pairs + concurrency
    cpus = shared_cpu()
    bots_cpu, driver_cpus = cpus if cpus else (set(), None)
    async with bench_database(pg_url) as (db, url), BotApiSandbox(settle=0.0) as our_box, \
            BotApiSandbox(settle=0.0) as floor_box:
        rt = Runtime(db, bench_config(url, our_box.token, our_box.base_url), SystemClock())
        round_id, user_ids = await seed_raters(rt, side_raters)
        boxes = {"ours": our_box, "floor": floor_box}
        bots = {side: ChildBot({"kind": side, "database_url": url, "token": box.token, "base_url": box.base_url}
                               | ({"cpus": sorted(bots_cpu)} if bots_cpu else {})
                               | ({"profile": profile} if side == "ours" else {}))
                for side, box in boxes.items()}
        try:
            for bot in bots.values():
                await bot.status(None)  # the bot is up
            with pinned(driver_cpus):
                measured, samples = await _windows(bots, boxes, {side: _invited(side, boxes[side], user_ids, round_id)
                                                                 for side in SIDES},
                                                   warmup=warmup, per_window=per_window, pairs=pairs,
                                                   concurrency=concurrency)
        finally:
            for bot in bots.values():
                await bot.stop()
        async with db.session() as s:
            submitted = await s.scalar(select(func.count()).select_from(Ballot).where(
                Ballot.round_id == round_id, Ballot.status == BallotStatus.SUBMITTED))
    report = interleaved_report(measured)
    report["ours"]["ballots_submitted"] = submitted
    return {"raters": per_window * pairs, "concurrency": concurrency, "taps_per_rater": TAPS_PER_RATER,
            "raters_per_window": per_window, "warmup_raters": warmup, "bots_cpu": sorted(bots_cpu)} | report | {
            "error_samples": samples[:5]}


async def _windows(bots: dict[str, ChildBot], boxes: dict[str, BotApiSandbox], users: dict[str, list[SimUser]], *,
                   warmup: int, per_window: int, pairs: int, concurrency: int
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    """Both steady loads at once, warmed up, then cut into `pairs` windows: each side's taps, latencies,
    CPU and stall in each; and samples of the errors."""
    windows = {side: Window(warmup * TAPS_PER_RATER, 10**9) for side in SIDES}  # closed by hand, below
    loads = {side: Load() for side in SIDES}
    tasks = {side: asyncio.create_task(drive(boxes[side], users[side], CHOOSERS[side], taps_per_user=TAPS_PER_RATER,
                                             concurrency=concurrency, window=windows[side], load=loads[side]))
             for side in SIDES}

    def running() -> bool:
        return not any(task.done() for task in tasks.values())  # a load ended early: it failed

    async def statuses() -> dict[str, dict[str, Any]]:
        got = await asyncio.gather(*(bots[side].status("lap") for side in SIDES))
        return dict(zip(SIDES, got, strict=True))

    def errors() -> dict[str, int]:
        return {side: len(load.errors) for side, load in loads.items()}

    while running() and not all(w.opened.is_set() for w in windows.values()):
        await asyncio.sleep(POLL_SECONDS)
    marks, status, failed = [time.perf_counter()], [await statuses()], [errors()]
    while running() and len(marks) <= pairs:
        target = sum(load.taps for load in loads.values()) + 2 * per_window * TAPS_PER_RATER
        while running() and sum(load.taps for load in loads.values()) < target:
            await asyncio.sleep(POLL_SECONDS)
        if running():
            marks.append(time.perf_counter())
            status.append(await statuses())
            failed.append(errors())
    for window in windows.values():
        window.closed.set()
    whole = {side: await task for side, task in tasks.items()}
    measured = []
    for k in range(len(marks) - 1):
        pair = {}
        for side in SIDES:
            done = whole[side].done_at
            first, last = bisect.bisect_left(done, marks[k]), bisect.bisect_left(done, marks[k + 1])
            handler_errors = status[k + 1][side]["errors"] - status[k][side]["errors"]
            pair[side] = _summary(last - first, marks[k + 1] - marks[k], whole[side].latencies[first:last],
                                  status[k + 1][side], failed[k + 1][side] - failed[k][side]
                                  ) | {"handler_errors": handler_errors}
        measured.append(pair)
    samples = [e for side in SIDES for e in whole[side].errors]
    samples += [e for side in SIDES for e in status[-1][side]["error_samples"]]
    if len(measured) < pairs:
        raise RuntimeError(f"the load stopped after {len(measured)} of {pairs} windows: " + "; ".join(samples[:3]))
    return measured, samples


CHOOSERS: dict[str, Chooser] = {"ours": choose_ballot_button, "floor": choose_first_button}


def _invited(side: str, sandbox: BotApiSandbox, user_ids: list[int], round_id: int) -> list[SimUser]:
    """The raters of one side in `side`'s sandbox, each with the message their first tap presses."""
    users = invite_users(sandbox, user_ids, round_id)
    if side == "floor":
        for u in users:
            u.last_message.reply_markup = {"inline_keyboard": [[{"text": "go", "callback_data": "f:0"}]]}
    return users
