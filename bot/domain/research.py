"""The research round lifecycle: schedule → open (freeze the candidates and the design, find the
category's eligible buyers, queue invitations in the shared outbox) → close (screen and fit) →
publish → adopt, or cancel.

Each transition is a compare-and-set on `status` inside one transaction, as for rating rounds, so the
reconcile job can run again after a crash, or in a second process, and repeat nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import factorsets
from bot.domain.durations import check_schedule
from bot.domain.eligibility import eligible_purchasers
from bot.domain.errors import AdoptRefused, BadInput, RoundStateError, UnknownCategory, UnknownResearch
from bot.domain.lifecycle import (
    claim,
    claim_close,
    counts,
    current_report,
    invite_sample,
    latest_ids,
    must_get,
)
from bot.domain.lifecycle import due as _due
from bot.domain.numbers import check_whole
from bot.domain.research_rows import research_report
from bot.domain.runtime import Runtime
from bot.domain.settings import Scope
from scoring.maxdiff import MaxDiffMethod
from storage.models import Category, Factor, Invitation, Product, ResearchResponse, ResearchRound
from storage.statuses import BallotStatus, FactorSetSource, InvitationStatus, RoundStatus

MIN_CANDIDATES = factorsets.MIN_FACTORS  # an adoption picks 5 to 10 of them
MIN_TOP, MAX_TOP, DEFAULT_TOP = factorsets.MIN_FACTORS, factorsets.MAX_FACTORS, 5


@dataclass(frozen=True)
class ResearchInfo:
    id: int
    category: str
    status: RoundStatus
    opens_at: datetime
    closes_at: datetime
    quota: int
    factor_set: int | None
    candidates: int
    eligible: int
    invited: int
    delivered: int
    started: int
    submitted: int
    adopted_version: int | None


async def schedule(rt: Runtime, category: str, *, actor: str, duration: timedelta | None = None,
                   quota: int | None = None) -> int:
    """Schedules a research round of the category opening now; returns its id."""
    now = rt.clock.now()
    quota = check_whole(rt.config.rounds.invitation_quota if quota is None else quota, what="quota")
    duration = duration or rt.config.rounds.default_duration
    check_schedule(now, now, duration)  # the bounds rating rounds keep
    async with rt.db.session() as s:
        if await s.get(Category, category) is None:
            raise UnknownCategory(category=category)
        pool = await s.scalar(select(func.count()).select_from(Factor).where(Factor.category_key == category))
        if (pool or 0) < MIN_CANDIDATES:
            raise BadInput(detail=f"category {category} has {pool} factors and candidates; research needs "
                                  f"at least {MIN_CANDIDATES}")
        row = ResearchRound(category_key=category, status=RoundStatus.SCHEDULED, opens_at=now,
                            closes_at=now + duration, quota=quota,
                            min_responses=rt.config.rounds.min_ballots, created_by=actor, created_at=now)
        s.add(row)
        await s.flush()
        return row.id


async def due(rt: Runtime, status: RoundStatus) -> list[int]:
    """Research rounds due to open (`scheduled`) or to close (`open`)."""
    return await _due(rt, ResearchRound, status)


async def open_research(rt: Runtime, research_id: int) -> bool:
    """Opens a scheduled research round; False when another run already did."""
    now = rt.clock.now()
    method = MaxDiffMethod()
    async with rt.db.session() as s:
        if not await claim(s, ResearchRound, research_id, RoundStatus.SCHEDULED, status=RoundStatus.OPEN,
                           opened_at=now):
            return False
        rnd = await s.get_one(ResearchRound, research_id)
        candidates = list(await s.scalars(
            select(Factor).where(Factor.category_key == rnd.category_key).order_by(Factor.position)
        ))
        rnd.factor_set = (await factorsets.current(s, rnd.category_key)).version
        category = await s.get_one(Category, rnd.category_key)
        rnd.design = {
            "seed": random.SystemRandom().randrange(2**31), "sets": method.sets, "set_size": method.set_size,
            "category_en": category.name_en, "category_zh": category.name_zh,
            "candidates": [{"key": f.key, "label_en": f.label_en, "label_zh": f.label_zh} for f in candidates],
        }
        # Buyers of any product of the category, under the rating rounds' purchase rules and sampling.
        rules = replace(rt.config.eligibility, scope=Scope.CATEGORY)
        found = await eligible_purchasers(s, Product(sku="", category_key=rnd.category_key), rnd.opens_at, rules)
        rnd.eligibility = invite_sample(s, found, rnd.quota, Scope.CATEGORY, research_round_id=research_id)
    return True


async def close_research(rt: Runtime, research_id: int, *, early: bool = False) -> bool:
    """Closes an open research round and stores its result; False if it was not open.

    The result is computed after the closing transaction commits, not inside it: its bootstrap (200
    refits, ~1 s at 150 respondents on a loaded two-core machine) would hold SQLite's write lock, and
    every tap meanwhile waited for it. A crash before the result is stored leaves the round closed
    without one; `store_missing_results` computes it on the next tick."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        if not await claim_close(s, ResearchRound, ResearchResponse, research_id, now, early=early):
            return False
    await _store_result(rt, research_id)
    return True


async def _store_result(rt: Runtime, research_id: int) -> None:
    async with rt.db.session() as s:
        rnd = await s.get_one(ResearchRound, research_id)
        result = await research_report(s, rnd)  # reads only: the write lock is not held meanwhile
    async with rt.db.session() as s:
        # Two processes may both compute it; the same responses give the same result, stored once.
        await s.execute(update(ResearchRound).where(ResearchRound.id == research_id, ResearchRound.report.is_(None))
                        .values(report=result))


async def store_missing_results(rt: Runtime) -> None:
    """Closed research rounds whose result a stopped process never stored."""
    async with rt.db.session() as s:
        ids = list(await s.scalars(select(ResearchRound.id).where(ResearchRound.status == RoundStatus.CLOSED,
                                                                  ResearchRound.report.is_(None))))
    for research_id in ids:
        await _store_result(rt, research_id)


async def get(rt: Runtime, research_id: int) -> ResearchRound:
    async with rt.db.session() as s:
        return await must_get(s, ResearchRound, research_id, UnknownResearch(research_id=research_id))


async def info(rt: Runtime, research_id: int) -> ResearchInfo:
    async with rt.db.session() as s:
        rnd = await must_get(s, ResearchRound, research_id, UnknownResearch(research_id=research_id))
        inv = await counts(s, Invitation.status, Invitation.research_round_id == research_id)
        resp = await counts(s, ResearchResponse.status, ResearchResponse.round_id == research_id)
        return ResearchInfo(
            rnd.id, rnd.category_key, rnd.status, rnd.opens_at, rnd.closes_at, rnd.quota, rnd.factor_set,
            len((rnd.design or {}).get("candidates", [])), int((rnd.eligibility or {}).get("eligible", 0)),
            sum(n for st, n in inv.items() if st != InvitationStatus.CANCELLED), inv.get(InvitationStatus.SENT, 0),
            sum(resp.values()), resp.get(BallotStatus.SUBMITTED, 0), rnd.adopted_version,
        )


async def list_research(rt: Runtime, limit: int = 20) -> list[ResearchInfo]:
    return [await info(rt, i) for i in await latest_ids(rt, ResearchRound, limit)]


async def report(rt: Runtime, research_id: int) -> dict[str, Any]:
    """The result: stored once closed, else computed live from the responses submitted so far."""

    async def live(s: AsyncSession, rnd: ResearchRound) -> dict[str, Any]:
        if rnd.status != RoundStatus.OPEN:
            raise RoundStateError(round_id=research_id, status=rnd.status, action="reported")
        return await research_report(s, rnd, intervals=False)

    return await current_report(rt, ResearchRound, research_id, UnknownResearch(research_id=research_id), live)


async def adopt(rt: Runtime, research_id: int, *, actor: str, top: int | None = None,
                keys: list[str] | None = None) -> tuple[int, list[str]]:
    """Makes the result's top K candidates (or the given keys) the category's next factor set version;
    returns (version, keys). Rounds opened from now on rate them; rounds already open keep theirs."""
    async with rt.db.session() as s:
        rnd = await s.get(ResearchRound, research_id, with_for_update=True)
        if rnd is None:
            raise UnknownResearch(research_id=research_id)
        if rnd.status != RoundStatus.PUBLISHED or rnd.report is None:
            raise AdoptRefused("not_published", research_id=research_id, status=rnd.status)
        if rnd.adopted_version is not None:
            raise AdoptRefused("already", research_id=research_id, version=rnd.adopted_version)
        ranked = [c["key"] for c in rnd.report["candidates"]]
        if keys is not None:
            unknown = [k for k in keys if k not in ranked]
            if unknown:
                raise AdoptRefused("unknown_keys", keys=", ".join(unknown), known=", ".join(ranked))
            if len(set(keys)) != len(keys):
                raise AdoptRefused("duplicate_keys", keys=", ".join(keys))
            chosen = list(keys)
        else:
            chosen = ranked[: DEFAULT_TOP if top is None else top]
        if not MIN_TOP <= (len(chosen) if top is None else top) <= MAX_TOP or len(chosen) < MIN_TOP:
            raise AdoptRefused("count", n=len(chosen) if top is None else top, low=MIN_TOP,
                               high=min(MAX_TOP, len(ranked)))
        # Most important first: raters are asked in the order buyers said matters.
        chosen.sort(key=ranked.index)
        version = await factorsets.add_version(s, rnd.category_key, chosen, source=FactorSetSource.RESEARCH,
                                               at=rt.clock.now(), by=actor, research_round_id=research_id)
        rnd.adopted_version = version
        return version, chosen
