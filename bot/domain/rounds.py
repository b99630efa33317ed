"""The round lifecycle: schedule → open (freeze factors, find eligible buyers, queue invitations)
→ close (screen and score) → publish, or cancel.

Every transition is a compare-and-set on `status` inside one transaction, so the reconcile job can
run again after a crash, or in a second process, and repeat nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import factorsets, scorecards
from bot.domain.durations import check_schedule
from bot.domain.eligibility import Shortfall, eligible_purchasers, product_problems
from bot.domain.errors import BadInput, ProductNotEligible, RoundStateError, UnknownProduct, UnknownRound
from bot.domain.lifecycle import (
    claim,
    claim_close,
    counts,
    current_report,
    due,
    invite_sample,
    latest_ids,
    must_get,
)
from bot.domain.numbers import check_whole
from bot.domain.roundchecks import refuse_overlap
from bot.domain.runtime import Runtime
from storage.models import Ballot, Factor, Invitation, Product, Round, RoundFactor
from storage.statuses import BallotStatus, InvitationStatus, RoundStatus


@dataclass(frozen=True)
class RoundStats:
    eligible: int
    sampled: int
    invited: int
    delivered: int
    unreachable: int
    started: int
    submitted: int
    # Accepted after screening: known once the round is closed and its scorecard stored.
    accepted: int | None = None
    # Sent but possibly not delivered: claimed by a sender that stopped mid-call (see bot.domain.outbox).
    in_doubt: int = 0

    @property
    def response_rate(self) -> float | None:
        """Submitted ballots per delivered invitation; None before anything was delivered."""
        return self.submitted / self.delivered if self.delivered else None


@dataclass(frozen=True)
class RoundInfo:
    id: int
    sku: str
    product: str
    status: RoundStatus
    opens_at: datetime
    closes_at: datetime
    quota: int
    forced: bool
    stats: RoundStats
    excluded_by_rule: dict[str, int]


def eligibility_problems(rt: Runtime, product: Product) -> list[Shortfall]:
    return list(product_problems(product, rt.config.eligibility))


async def schedule_round(
    rt: Runtime,
    sku: str,
    *,
    actor: str,
    duration: timedelta | None = None,
    quota: int | None = None,
    opens_at: datetime | None = None,
    force: bool = False,
) -> int:
    """Schedules a round for an eligible product (or any product, forced); returns its id. A round that
    overlaps a live round of the product is refused unless forced."""
    now = rt.clock.now()
    duration = duration or rt.config.rounds.default_duration
    quota = rt.config.rounds.invitation_quota if quota is None else quota
    check_whole(quota, what="quota")
    opens_at = opens_at or now
    check_schedule(now, opens_at, duration)
    async with rt.db.session() as s:
        product = await s.get(Product, sku)
        if product is None:
            raise UnknownProduct(sku=sku)
        problems = eligibility_problems(rt, product)
        if problems and not force:
            raise ProductNotEligible(sku=sku, shortfalls=tuple(problems))
        factors = await s.scalar(
            select(func.count()).select_from(Factor).where(Factor.category_key == product.category_key)
        )
        if not factors:
            raise BadInput(detail=f"category {product.category_key} of {sku} has no factors; import categories.toml")
        if not force:
            await refuse_overlap(s, sku, opens_at, opens_at + duration)
        row = Round(
            sku=sku, category_key=product.category_key, status=RoundStatus.SCHEDULED, opens_at=opens_at,
            closes_at=opens_at + duration, quota=quota, min_ballots=rt.config.rounds.min_ballots,
            forced=force and bool(problems), created_by=actor, created_at=now,
        )
        s.add(row)
        await s.flush()
        return row.id


async def due_to_open(rt: Runtime) -> list[int]:
    return await due(rt, Round, RoundStatus.SCHEDULED)


async def open_round(rt: Runtime, round_id: int) -> bool:
    """Opens a scheduled round: freezes its factors, samples eligible buyers, queues invitations.

    Returns False when another run already opened it.
    """
    now = rt.clock.now()
    async with rt.db.session() as s:
        if not await claim(s, Round, round_id, RoundStatus.SCHEDULED, status=RoundStatus.OPEN, opened_at=now):
            return False
        rnd = await s.get_one(Round, round_id)
        product = await s.get_one(Product, rnd.sku)
        factor_set = await factorsets.current(s, rnd.category_key)
        rnd.factor_set = factor_set.version
        for position, f in enumerate(factor_set.factors):
            s.add(RoundFactor(round_id=round_id, position=position, key=f.key, label_en=f.label_en,
                              label_zh=f.label_zh, question_en=f.question_en, question_zh=f.question_zh))
        found = await eligible_purchasers(s, product, rnd.opens_at, rt.config.eligibility)
        rnd.eligibility = invite_sample(s, found, rnd.quota, rt.config.eligibility.scope, round_id=round_id)
    return True


async def due_to_close(rt: Runtime) -> list[int]:
    return await due(rt, Round, RoundStatus.OPEN)


async def close_round(rt: Runtime, round_id: int, *, early: bool = False) -> bool:
    """Closes an open round and stores its scorecard; False if it was not open (already closed).

    `early` (an admin's close) moves `closes_at` to now, so the deadline shown stays true.
    """
    now = rt.clock.now()
    async with rt.db.session() as s:
        if not await claim_close(s, Round, Ballot, round_id, now, early=early):
            return False
        rnd = await s.get_one(Round, round_id)
        report = await scorecards.compute(s, rt, rnd, status_if_scored=RoundStatus.PUBLISHED)
        rnd.report = await scorecards.encoded(report)  # type: ignore[assignment]  # JSON text, written as is
    return True


async def admin_close(rt: Runtime, round_id: int) -> None:
    """An admin closes a round now; a scheduled round that never opened is opened first."""
    rnd = await get_round(rt, round_id)
    if rnd.status == RoundStatus.SCHEDULED:
        await open_round(rt, round_id)
    elif rnd.status != RoundStatus.OPEN:
        raise RoundStateError(round_id=round_id, status=rnd.status, action="closed")
    if not await close_round(rt, round_id, early=True):
        raise RoundStateError(round_id=round_id, status=RoundStatus.CLOSED, action="closed")


async def cancel_round(rt: Runtime, round_id: int) -> None:
    async with rt.db.session() as s:
        rnd = await must_get(s, Round, round_id, UnknownRound(round_id=round_id))
        if not await claim(s, Round, round_id, (RoundStatus.SCHEDULED, RoundStatus.OPEN),
                           status=RoundStatus.CANCELLED, closed_at=rt.clock.now()):
            raise RoundStateError(round_id=round_id, status=rnd.status, action="cancelled")
        # Invitations not yet sent must never go out for a cancelled round.
        await s.execute(
            update(Invitation).where(Invitation.round_id == round_id, Invitation.status == InvitationStatus.PENDING)
            .values(status=InvitationStatus.CANCELLED)
        )


async def get_round(rt: Runtime, round_id: int) -> Round:
    async with rt.db.session() as s:
        return await must_get(s, Round, round_id, UnknownRound(round_id=round_id))


async def _stats(s: AsyncSession, rnd: Round) -> RoundStats:
    inv = await counts(s, Invitation.status, Invitation.round_id == rnd.id)
    ballots = await counts(s, Ballot.status, Ballot.round_id == rnd.id)
    elig = rnd.eligibility or {}
    return RoundStats(
        eligible=int(elig.get("eligible", 0)),
        sampled=int(elig.get("sampled", 0)),
        invited=sum(n for st, n in inv.items() if st != InvitationStatus.CANCELLED),
        delivered=inv.get(InvitationStatus.SENT, 0),
        unreachable=inv.get(InvitationStatus.UNREACHABLE, 0),
        started=sum(ballots.values()),
        submitted=ballots.get(BallotStatus.SUBMITTED, 0),
        accepted=((rnd.report or {}).get("ballots") or {}).get("accepted") if rnd.report else None,
        in_doubt=inv.get(InvitationStatus.UNKNOWN, 0),
    )


async def round_info(rt: Runtime, round_id: int) -> RoundInfo:
    async with rt.db.session() as s:
        rnd = await must_get(s, Round, round_id, UnknownRound(round_id=round_id))
        product = await s.get_one(Product, rnd.sku)
        return RoundInfo(
            id=rnd.id, sku=rnd.sku, product=product.name, status=rnd.status, opens_at=rnd.opens_at,
            closes_at=rnd.closes_at, quota=rnd.quota, forced=rnd.forced, stats=await _stats(s, rnd),
            excluded_by_rule=dict((rnd.eligibility or {}).get("excluded", {})),
        )


async def list_rounds(rt: Runtime, limit: int = 20) -> list[RoundInfo]:
    return [await round_info(rt, i) for i in await latest_ids(rt, Round, limit)]


async def report(rt: Runtime, round_id: int) -> dict[str, object]:
    """The round's scorecard: the stored one once closed, else computed live from current ballots."""

    async def live(s: AsyncSession, rnd: Round) -> dict[str, Any]:
        if rnd.status == RoundStatus.SCHEDULED:
            raise RoundStateError(round_id=round_id, status=RoundStatus.SCHEDULED, action="reported")
        return await scorecards.compute(s, rt, rnd, status_if_scored=rnd.status)

    return await current_report(rt, Round, round_id, UnknownRound(round_id=round_id), live)
