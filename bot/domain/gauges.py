"""Counts an operator watches (the `/metrics` gauges): rounds by status, and messages owed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from bot.domain.runtime import Runtime
from storage.models import Ballot, Invitation, Round
from storage.statuses import InvitationStatus, RoundStatus


@dataclass(frozen=True)
class Gauges:
    rounds: dict[str, int]  # every status, 0 included
    invitations_owed: int  # queued, not yet sent
    thanks_owed: int  # raters of a published round not yet told its result


async def read_gauges(rt: Runtime) -> Gauges:
    async with rt.db.session() as s:
        by_status = dict((await s.execute(select(Round.status, func.count()).group_by(Round.status))).all())
        owed = await s.scalar(select(func.count()).select_from(Invitation)
                              .where(Invitation.status == InvitationStatus.PENDING)) or 0
        thanks = await s.scalar(
            select(func.count()).select_from(Ballot).join(Round, Round.id == Ballot.round_id)
            .where(Round.status.in_((RoundStatus.PUBLISHED, RoundStatus.INSUFFICIENT)),
                   Ballot.submitted_at.is_not(None), Ballot.thanked_at.is_(None),
                   Ballot.telegram_user_id.is_not(None))
        ) or 0
    return Gauges({str(status): int(by_status.get(status, 0)) for status in RoundStatus}, int(owed), int(thanks))
