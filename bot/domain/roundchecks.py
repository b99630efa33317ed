"""What an admin should know before a round opens: whether it overlaps another round of the product,
and who it would invite if it opened now (the same rules `rounds.open_round` applies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.eligibility import eligible_purchasers
from bot.domain.errors import DomainError, UnknownRound
from bot.domain.runtime import Runtime
from storage.models import Product, Round
from storage.statuses import RoundStatus

#: Rounds that still take ballots, or will: a new round of the same product must not overlap them.
LIVE = (RoundStatus.SCHEDULED, RoundStatus.OPEN)


class RoundOverlaps(DomainError):
    """Another scheduled or open round of the product overlaps the new one's window."""

    key = "error.round_overlap"


async def refuse_overlap(s: AsyncSession, sku: str, opens_at: datetime, closes_at: datetime) -> None:
    """Raises RoundOverlaps when a live round of `sku` shares any moment with [opens_at, closes_at).

    Two overlapping rounds would invite the same buyers twice for one product and split their ballots
    between two scorecards.
    """
    other = await s.scalar(
        select(Round.id).where(Round.sku == sku, Round.status.in_(LIVE), Round.opens_at < closes_at,
                               Round.closes_at > opens_at).order_by(Round.id).limit(1)
    )
    if other is not None:
        raise RoundOverlaps(sku=sku, other=other)


@dataclass(frozen=True)
class Preview:
    """Who a scheduled round would invite, were it opening now: counts by eligibility rule."""

    buyers: int
    eligible: int
    would_invite: int
    excluded: dict[str, int]


async def invitation_preview(rt: Runtime, round_id: int) -> Preview:
    """The eligibility counts a scheduled round would get at its opening time, from today's data
    (purchases, links and opt-outs can still change before it opens)."""
    async with rt.db.session() as s:
        rnd = await s.get(Round, round_id)
        if rnd is None:
            raise UnknownRound(round_id=round_id)
        product = await s.get_one(Product, rnd.sku)
        found = await eligible_purchasers(s, product, rnd.opens_at, rt.config.eligibility)
    return Preview(found.buyers, len(found.eligible), min(rnd.quota, len(found.eligible)),
                   {str(rule): n for rule, n in found.excluded.items() if n})
