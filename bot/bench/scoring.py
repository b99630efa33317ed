"""Scoring at scale: a round of N submitted ballots bulk-inserted, then loaded from the database,
screened and scored by `bot.domain.scorecards.compute`, exactly as closing a round does; with the
longest stall of the event loop meanwhile (a bot closing a round keeps answering the taps of the
others)."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.bench.driver import LoopMonitor
from bot.bench.fixtures import SECRET, bench_config, bench_database, chunks, seed_raters
from bot.domain import scorecards
from bot.domain.ballots import rater_pseudonym
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from storage.models import Ballot, Round, RoundFactor
from storage.statuses import BallotStatus, RoundStatus


async def run_scoring(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), pg_url: str | None = None) -> dict[str, Any]:
    """Each size's time to load, screen and score, per ballot, and the loop's longest stall."""
    rows = []
    async with bench_database(pg_url) as (db, url):
        rt = Runtime(db, bench_config(url), SystemClock())
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
                                                      status_if_scored=RoundStatus.PUBLISHED)
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
