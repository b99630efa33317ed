"""The round lifecycle: schedule → open (freeze factors, find eligible buyers, queue invitations)
→ close (screen and score) → publish, or cancel.

Every transition is a compare-and-set on `status` inside one transaction, so the reconcile job can
run again after a crash, or in a second process, and repeat nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import factorsets, scorecards
from bot.domain.durations import check_schedule
from bot.domain.eligibility import Shortfall, eligible_purchasers, product_problems, stratified_sample
from bot.domain.errors import BadInput, ProductNotEligible, RoundStateError, UnknownProduct, UnknownRound
from bot.domain.numbers import check_whole
from bot.domain.roundchecks import refuse_overlap
from bot.domain.runtime import Runtime
from storage.models import Ballot, Customer, Factor, Invitation, Product, Round, RoundFactor
from storage.statuses import BallotStatus, InvitationStatus, RoundStatus

FINAL = (RoundStatus.PUBLISHED, RoundStatus.INSUFFICIENT, RoundStatus.CANCELLED)


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
    async with rt.db.session() as s:
        rows = await s.scalars(
            select(Round.id).where(Round.status == RoundStatus.SCHEDULED, Round.opens_at <= rt.clock.now())
        )
        return list(rows)


async def open_round(rt: Runtime, round_id: int) -> bool:
    """Opens a scheduled round: freezes its factors, samples eligible buyers, queues invitations.

    Returns False when another run already opened it.
    """
    now = rt.clock.now()
    async with rt.db.session() as s:
        claimed = await s.execute(
            update(Round).where(Round.id == round_id, Round.status == RoundStatus.SCHEDULED)
            .values(status=RoundStatus.OPEN, opened_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        rnd = await s.get_one(Round, round_id)
        product = await s.get_one(Product, rnd.sku)
        factor_set = await factorsets.current(s, rnd.category_key)
        rnd.factor_set = factor_set.version
        for position, f in enumerate(factor_set.factors):
            s.add(RoundFactor(round_id=round_id, position=position, key=f.key, label_en=f.label_en,
                              label_zh=f.label_zh, question_en=f.question_en, question_zh=f.question_zh))
        found = await eligible_purchasers(s, product, rnd.opens_at, rt.config.eligibility)
        seed = random.SystemRandom().randrange(2**31)
        sample = stratified_sample(found.eligible, rnd.quota, seed)
        rnd.eligibility = {
            "buyers": found.buyers, "eligible": len(found.eligible), "sampled": len(sample),
            "seed": seed, "excluded": found.excluded, "scope": rt.config.eligibility.scope,
        }
        s.add_all(
            Invitation(round_id=round_id, customer_id=c.customer_id, telegram_user_id=c.telegram_user_id,
                       purchased_at=c.purchased_at, status=InvitationStatus.PENDING)
            for c in sample
        )
    return True


async def due_to_close(rt: Runtime) -> list[int]:
    async with rt.db.session() as s:
        rows = await s.scalars(
            select(Round.id).where(Round.status == RoundStatus.OPEN, Round.closes_at <= rt.clock.now())
        )
        return list(rows)


async def close_round(rt: Runtime, round_id: int, *, early: bool = False) -> bool:
    """Closes an open round and stores its scorecard; False if it was not open (already closed).

    `early` (an admin's close) moves `closes_at` to now, so the deadline shown stays true.
    """
    now = rt.clock.now()
    async with rt.db.session() as s:
        values: dict[str, object] = {"status": RoundStatus.CLOSED, "closed_at": now}
        if early:
            values["closes_at"] = now
        claimed = await s.execute(
            update(Round).where(Round.id == round_id, Round.status == RoundStatus.OPEN).values(**values)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        # Freeze each rater's exclusion as it stands now: the published score must stay recomputable.
        await s.execute(
            update(Ballot).where(Ballot.round_id == round_id).values(
                excluded_by_admin=select(Customer.excluded_by_admin)
                .where(Customer.customer_id == Ballot.customer_id).scalar_subquery()
            )
        )
        rnd = await s.get_one(Round, round_id)
        rnd.report = await scorecards.compute(s, rt, rnd, status_if_scored=RoundStatus.PUBLISHED)
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
        rnd = await s.get(Round, round_id)
        if rnd is None:
            raise UnknownRound(round_id=round_id)
        done = await s.execute(
            update(Round).where(Round.id == round_id, Round.status.in_((RoundStatus.SCHEDULED, RoundStatus.OPEN)))
            .values(status=RoundStatus.CANCELLED, closed_at=rt.clock.now())
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise RoundStateError(round_id=round_id, status=rnd.status, action="cancelled")
        # Invitations not yet sent must never go out for a cancelled round.
        await s.execute(
            update(Invitation).where(Invitation.round_id == round_id, Invitation.status == InvitationStatus.PENDING)
            .values(status=InvitationStatus.CANCELLED)
        )


async def get_round(rt: Runtime, round_id: int) -> Round:
    async with rt.db.session() as s:
        rnd = await s.get(Round, round_id)
        if rnd is None:
            raise UnknownRound(round_id=round_id)
        return rnd


async def _stats(s: AsyncSession, rnd: Round) -> RoundStats:
    inv = dict(
        (await s.execute(
            select(Invitation.status, func.count()).where(Invitation.round_id == rnd.id)
            .group_by(Invitation.status)
        )).all()
    )
    ballots = dict(
        (await s.execute(
            select(Ballot.status, func.count()).where(Ballot.round_id == rnd.id).group_by(Ballot.status)
        )).all()
    )
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
        rnd = await s.get(Round, round_id)
        if rnd is None:
            raise UnknownRound(round_id=round_id)
        product = await s.get_one(Product, rnd.sku)
        return RoundInfo(
            id=rnd.id, sku=rnd.sku, product=product.name, status=rnd.status, opens_at=rnd.opens_at,
            closes_at=rnd.closes_at, quota=rnd.quota, forced=rnd.forced, stats=await _stats(s, rnd),
            excluded_by_rule=dict((rnd.eligibility or {}).get("excluded", {})),
        )


async def list_rounds(rt: Runtime, limit: int = 20) -> list[RoundInfo]:
    async with rt.db.session() as s:
        ids = list(await s.scalars(select(Round.id).order_by(Round.id.desc()).limit(limit)))
    return [await round_info(rt, i) for i in ids]


async def report(rt: Runtime, round_id: int) -> dict[str, object]:
    """The round's scorecard: the stored one once closed, else computed live from current ballots."""
    async with rt.db.session() as s:
        rnd = await s.get(Round, round_id)
        if rnd is None:
            raise UnknownRound(round_id=round_id)
        if rnd.report is not None:
            return {**rnd.report, "status": rnd.status if rnd.status in FINAL else rnd.report["status"]}
        if rnd.status == RoundStatus.SCHEDULED:
            raise RoundStateError(round_id=round_id, status=RoundStatus.SCHEDULED, action="reported")
        return await scorecards.compute(s, rt, rnd, status_if_scored=rnd.status)
