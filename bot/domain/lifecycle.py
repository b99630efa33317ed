"""What rating rounds and research rounds share of their lifecycle: a compare-and-set on `status`, the
rounds due to open or close, the buyers sampled and invited at opening, the exclusions frozen at
closing, the counts and the stored report shown afterwards.

A round here is `storage.models.Round` or `ResearchRound`; the responses are `Ballot` or
`ResearchResponse`. Both tables keep the same column names for what these steps touch, so one piece of
code serves both kinds, and a fix to one (a race, a frozen exclusion) reaches the other.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.eligibility import Eligibility, stratified_sample
from bot.domain.errors import DomainError
from bot.domain.runtime import Runtime
from storage.models import Ballot, Customer, Invitation, ResearchResponse, ResearchRound, Round
from storage.statuses import InvitationStatus, RoundStatus

FINAL = (RoundStatus.PUBLISHED, RoundStatus.INSUFFICIENT, RoundStatus.CANCELLED)
M = TypeVar("M")
AnyRound = Round | ResearchRound
R = TypeVar("R", Round, ResearchRound)


async def must_get(s: AsyncSession, model: type[M], key: Any, missing: DomainError) -> M:
    """The row of `model` with primary key `key`; raises `missing` when there is none."""
    row = await s.get(model, key)
    if row is None:
        raise missing
    return row


async def claim(s: AsyncSession, model: type[AnyRound], round_id: int, was: RoundStatus | tuple[RoundStatus, ...],
                **values: object) -> bool:
    """Moves the round from status `was` (or one of them) with `values`, in one compare-and-set; False
    when another run (a second process, a retried tick) moved it first."""
    allowed = was if isinstance(was, tuple) else (was,)
    moved = await s.execute(update(model).where(model.id == round_id, model.status.in_(allowed)).values(**values))
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


async def claim_close(s: AsyncSession, model: type[AnyRound], responses: type[Ballot | ResearchResponse],
                      round_id: int, now: datetime, *, early: bool) -> bool:
    """Closes the open round (`early`, an admin's close, also moves `closes_at` to now, so the deadline
    shown stays true) and freezes its respondents' exclusions; False when it was not open."""
    values: dict[str, object] = {"status": RoundStatus.CLOSED, "closed_at": now}
    if early:
        values["closes_at"] = now
    if not await claim(s, model, round_id, RoundStatus.OPEN, **values):
        return False
    await freeze_exclusions(s, responses, round_id)
    return True


async def due(rt: Runtime, model: type[AnyRound], status: RoundStatus) -> list[int]:
    """Rounds of `model` due to open (`scheduled`) or to close (`open`)."""
    column = model.opens_at if status is RoundStatus.SCHEDULED else model.closes_at
    async with rt.db.session() as s:
        return list(await s.scalars(select(model.id).where(model.status == status, column <= rt.clock.now())))


async def latest_ids(rt: Runtime, model: type[AnyRound], limit: int) -> list[int]:
    """The ids of the `limit` most recent rounds of `model`, newest first."""
    async with rt.db.session() as s:
        return list(await s.scalars(select(model.id).order_by(model.id.desc()).limit(limit)))


def invite_sample(s: AsyncSession, found: Eligibility, quota: int, scope: str, **owner: int) -> dict[str, Any]:
    """Samples up to `quota` of the eligible buyers and queues an invitation to each in the outbox
    (`owner`: `round_id=` or `research_round_id=`); returns what the round records of it."""
    seed = random.SystemRandom().randrange(2**31)
    sample = stratified_sample(found.eligible, quota, seed)
    s.add_all(
        Invitation(**owner, customer_id=c.customer_id, telegram_user_id=c.telegram_user_id,
                   purchased_at=c.purchased_at, status=InvitationStatus.PENDING)
        for c in sample
    )
    return {"buyers": found.buyers, "eligible": len(found.eligible), "sampled": len(sample),
            "seed": seed, "excluded": found.excluded, "scope": scope}


async def freeze_exclusions(s: AsyncSession, responses: type[Ballot | ResearchResponse], round_id: int) -> None:
    """Copies each respondent's exclusion as it stands now onto their responses: the published result must
    stay recomputable, whatever an admin changes later."""
    await s.execute(
        update(responses).where(responses.round_id == round_id).values(
            excluded_by_admin=select(Customer.excluded_by_admin)
            .where(Customer.customer_id == responses.customer_id).scalar_subquery()
        )
    )


async def counts(s: AsyncSession, status: InstrumentedAttribute[Any],
                 where: ColumnElement[bool]) -> dict[Hashable, int]:
    """How many rows have each value of the `status` column, among those `where` holds."""
    return dict((await s.execute(select(status, func.count()).where(where).group_by(status))).all())


async def current_report(rt: Runtime, model: type[R], round_id: int, missing: DomainError,
                         live: Callable[[AsyncSession, R], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """The round's report: the one stored at closing, with the round's status as it is now once that is
    final (and a research round's adoption); before closing, what `live` computes from the responses."""
    async with rt.db.session() as s:
        rnd = await must_get(s, model, round_id, missing)
        if rnd.report is None:
            return await live(s, rnd)
        stored = {**rnd.report, "status": rnd.status if rnd.status in FINAL else rnd.report["status"]}
        if isinstance(rnd, ResearchRound):
            stored["adopted_version"] = rnd.adopted_version
        return stored
