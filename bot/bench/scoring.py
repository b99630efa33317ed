"""Scoring at scale: a round of N submitted ballots bulk-inserted, then loaded from the database,
screened, weighted and scored by `bot.domain.scorecards.compute`, and the report encoded for its
column (`scorecards.encoded`), exactly as closing a round does;
with the longest stall of the event loop meanwhile (a bot closing a round keeps answering the taps of
the others).

Against a floor measured in the same run on the same rows: the bare fetch of them from the same
database into memory (the same query, one buffered `execute(...).all()`, every row decoded) — what
any method must pay to see the ballots at all. The two alternate in pairs (`bot.bench.pairs`), each
warmed up once per size, and the ratio is ours / floor per pair.
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import insert, select

from bot.bench.fixtures import SECRET, bench_config, bench_database, chunks, seed_raters
from bot.bench.loop import LoopMonitor
from bot.bench.pairs import MIN_PAIRS, pair_orders, ratios_of, spread, warnings_for
from bot.domain import scorecards
from bot.domain.ballot_rows import submitted_select
from bot.domain.ballots import rater_pseudonym
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from storage.db import Database
from storage.models import Ballot, Round, RoundFactor
from storage.statuses import BallotStatus, RoundStatus


async def run_scoring(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), pg_url: str | None = None, *,
                      pairs: int = MIN_PAIRS, seed: int | None = None) -> dict[str, Any]:
    """For each size: our close and the floor's fetch in `pairs` interleaved pairs; the medians, the
    ratio's spread, and the longest loop stall of any of our closes."""
    rows = []
    rng = random.Random(seed)
    async with bench_database(pg_url) as (db, url):
        rt = Runtime(db, bench_config(url), SystemClock())
        round_id, _ = await seed_raters(rt, 1)
        async with db.session() as s:
            factors = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == round_id)))
        for n in sizes:
            rid = await _synthetic_round(rt, round_id, n, factors)
            sides: dict[str, Callable[[], Awaitable[int]]] = {
                "ours": partial(_close, rt, rid), "floor": partial(_fetch, db, rid)}
            for side in sides.values():  # warm-up: the database's and the OS's caches hold the rows
                await side()
            measured = []
            for order in pair_orders(pairs, rng):
                measured.append({side: await _timed(sides[side]) for side in order})
            rows.append(_size_row(n, measured) | {"idle_loop_stall_ms": await _idle_stall(IDLE_SECONDS)})
    return {"pairs": pairs, "sizes": rows,
            "warnings": warnings_for({f"scoring {r['ballots']} ballots, ratio": r["ratio"] for r in rows})}


def _size_row(n: int, measured: list[dict[str, dict[str, float]]]) -> dict[str, Any]:
    ours = statistics.median(p["ours"]["seconds"] for p in measured)
    floor = statistics.median(p["floor"]["seconds"] for p in measured)
    return {
        "ballots": n, "seconds": round(ours, 3), "floor_seconds": round(floor, 3),
        "us_per_ballot": round(ours / n * 1e6, 2), "ratio": spread(ratios_of(measured, "seconds")),
        "accepted": int(measured[0]["ours"]["count"]), "floor_rows": int(measured[0]["floor"]["count"]),
        # "never stalls more than": the worst of every close measured, not a median
        "longest_loop_stall_ms": round(max(p["ours"]["stall_ms"] for p in measured), 1),
        "floor_longest_loop_stall_ms": round(max(p["floor"]["stall_ms"] for p in measured), 1),
        "runs": measured,
    }


# The machine's own share of a stall: the loop doing nothing for a second still wakes late when other
# processes hold the CPUs (up to ~100 ms on the 2-CPU VM with ~8 agents at work).
IDLE_SECONDS = 1.0


async def _idle_stall(seconds: float) -> float:
    """The loop's longest stall while it has nothing to do but the monitor, in ms."""
    gc.collect()
    with LoopMonitor() as monitor:
        await asyncio.sleep(seconds)
    return round(monitor.longest * 1000, 1)


async def _timed(side: Callable[[], Awaitable[int]]) -> dict[str, float]:
    """One run of a side: its wall time, the loop's longest stall meanwhile, and its count."""
    gc.collect()  # the earlier runs' garbage is not this run's to pay for
    with LoopMonitor() as monitor:
        await asyncio.sleep(monitor.interval * 2)  # the monitor is running before the clock starts
        started = time.perf_counter()
        count = await side()
        seconds = time.perf_counter() - started
        await asyncio.sleep(monitor.interval * 2)  # and sees the loop after the last step
    return {"seconds": round(seconds, 4), "stall_ms": round(monitor.longest * 1000, 1), "count": count}


async def _close(rt: Runtime, rid: int) -> int:
    """What closing does: load, screen, weight, score and encode the report; the number of accepted
    ballots."""
    async with rt.db.session() as s:
        report = await scorecards.compute(s, rt, await s.get_one(Round, rid), status_if_scored=RoundStatus.PUBLISHED)
        await scorecards.encoded(report)  # for the round's report column (stored as closing stores it)
    return int(report["ballots"]["accepted"])


async def _fetch(db: Database, rid: int) -> int:
    """The floor: the same rows, from the same database, into memory, in one buffered fetch."""
    async with db.session() as s:
        rows = (await (await s.connection()).execute(submitted_select(rid))).all()
    return len(rows)


async def _synthetic_round(rt: Runtime, like_round: int, n: int, factors: list[str]) -> int:
    """A copy of `like_round` (same frozen factors) holding `n` submitted ballots shaped like ours."""
    now = rt.clock.now()
    rng = random.Random(n)
    async with rt.db.session() as s:
        like = await s.get_one(Round, like_round)
        rid = (await s.execute(insert(Round).returning(Round.id), [{
            "sku": like.sku, "category_key": like.category_key, "status": RoundStatus.OPEN,
            "opens_at": now - timedelta(days=7), "closes_at": now, "quota": n, "min_ballots": 30, "forced": True,
            "created_by": "bench", "created_at": now - timedelta(days=7), "opened_at": now - timedelta(days=7)}])
        ).scalar_one()
        like_factors = list(await s.scalars(select(RoundFactor).where(RoundFactor.round_id == like_round)))
        await s.execute(insert(RoundFactor), [
            {"round_id": rid, "position": f.position, "key": f.key, "label_en": f.label_en, "label_zh": f.label_zh,
             "question_en": f.question_en, "question_zh": f.question_zh} for f in like_factors])
    for chunk in chunks(list(range(n)), 10_000):
        async with rt.db.session() as s:
            values = []
            for i in chunk:
                answers = {k: rng.choice((0, 2, 3, 3, 4, 4, 4, 5, 5)) for k in factors}
                started = now - timedelta(days=3, seconds=rng.randint(0, 86_400))
                values.append({
                    "round_id": rid, "customer_id": None, "rater": rater_pseudonym(SECRET, rid, f"S{i}"),
                    "telegram_user_id": None, "chat_id": None, "step": len(factors) + 1, "rev": 9,
                    "answers": answers, "submitted": answers, "status": BallotStatus.SUBMITTED,
                    "owned_days": rng.randint(1, 300), "started_at": started, "updated_at": started,
                    "submitted_at": started + timedelta(seconds=rng.choice((4, 20, 40, 60, 90, 180))),
                    "revisions": 0})
            await s.execute(insert(Ballot), values)
    return int(rid)
