"""Throughput: ours against PTB's floor, under the same load from the same driver.

R raters (C at a time) each tap "Rate now", six answers and "Submit" through the sandbox over real
HTTP, against the real Application polling it and a real database. In the same run the *floor* — a
bare PTB Application whose only handler answers the callback and edits the message (the same two Bot
API calls per tap, no database, no domain code) — takes exactly the same load, so `ours / floor` is
what our code adds on top of the framework. Both Applications are built with the same PTB settings
(the same number of concurrent updates) and each runs in a process of its own, as a deployed bot does:
the sandbox and the simulated raters stay in this process, so their CPU and their heap (which the
garbage collector would otherwise walk) are not counted against either bot. Each bot process measures
its own event loop's stalls and CPU time. Taps are pushed without the sandbox's settle wait; a tap is
done when the sandbox records the edit it caused, and its latency runs from the push to that edit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.bench.child import ChildBot
from bot.bench.driver import (
    TAPS_PER_RATER,
    Chooser,
    Load,
    choose_ballot_button,
    choose_first_button,
    drive,
    invite_users,
    percentile,
)
from bot.bench.fixtures import bench_config, bench_database, seed_raters
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from bot.sandbox import BotApiSandbox, SimUser
from storage.models import Ballot
from storage.statuses import BallotStatus

FLOOR_USERS = 50_000_000  # the floor's raters are ours with this added to their ids: chats of their own


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
    """Ours and the floor under the same load; `profile` writes a profile of ours."""
    async with bench_database(pg_url) as (db, url), BotApiSandbox(settle=0.0) as sandbox:
        rt = Runtime(db, bench_config(url, sandbox.token, sandbox.base_url), SystemClock())
        round_id, user_ids = await seed_raters(rt, raters)
        spec = {"database_url": url, "token": sandbox.token, "base_url": sandbox.base_url}
        # The floor first, under the same load, in its own sandbox chats.
        floor_users = invite_users(sandbox, [u + FLOOR_USERS for u in user_ids], round_id)
        for u in floor_users:
            u.last_message.reply_markup = {"inline_keyboard": [[{"text": "go", "callback_data": "f:0"}]]}
        floor, floor_bot = await _measured(spec | {"kind": "floor"}, sandbox, floor_users, choose_first_button,
                                           concurrency)
        users = invite_users(sandbox, user_ids, round_id)
        ours, our_bot = await _measured(spec | {"kind": "ours", "profile": profile}, sandbox, users,
                                        choose_ballot_button, concurrency)
        async with db.session() as s:
            submitted = await s.scalar(select(func.count()).select_from(Ballot).where(
                Ballot.round_id == round_id, Ballot.status == BallotStatus.SUBMITTED))
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
    child = ChildBot(spec)
    try:
        await child.status(None)  # the bot is up
        await child.status("reset")
        load = await drive(sandbox, users, choose, taps_per_user=TAPS_PER_RATER, concurrency=concurrency)
        bot = await child.status()
    finally:
        await child.stop()
    load.longest_stall, load.cpu_seconds = bot["stall_ms"] / 1000, bot["cpu_seconds"]
    return load, bot
