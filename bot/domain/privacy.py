"""`/forgetme`: deleting a purchaser's personal data while keeping published results honest.

What forgetting does, in one transaction:
- the customer is marked forgotten (it can never be linked again, so it cannot vote twice), its
  phone hash and last activity are cleared, it stops being invited, and the account link is deleted;
- ballots of rounds still open (or scheduled) are withdrawn: answers erased, never counted. The row
  keeps the customer id until then so the database's one-ballot-per-round rule still holds;
- ballots of closed rounds stay in their published results, anonymous: no customer, no Telegram ids,
  a fresh random pseudonym;
- pending invitations are cancelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Select, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import identity, research_responses
from bot.domain.runtime import Runtime
from storage.models import AccountLink, Ballot, Customer, Invitation, Round
from storage.statuses import BallotStatus, InvitationStatus, RoundStatus

# Rounds whose ballots can still change, so a forgotten customer's ballot is withdrawn rather than kept.
OPEN_STATUSES = (RoundStatus.SCHEDULED, RoundStatus.OPEN)


@dataclass(frozen=True)
class Forgetting:
    """What forgetting does (or did) to one customer's ballots."""

    customer_id: str
    withdrawn: int  # ballots of open rounds, withdrawn
    anonymised: int  # ballots of closed rounds, kept without any link to the person


async def _linked(s: AsyncSession, telegram_user_id: int) -> AccountLink:
    link = await s.scalar(select(AccountLink).where(AccountLink.telegram_user_id == telegram_user_id))
    if link is None:
        raise await identity.not_linked(s, telegram_user_id)
    return link


async def preview(rt: Runtime, telegram_user_id: int) -> Forgetting:
    """What `forget` would do now; NotLinked when there is nothing to forget."""
    async with rt.db.session() as s:
        link = await _linked(s, telegram_user_id)
        statuses = list(await s.scalars(
            select(Round.status).join(Ballot, Ballot.round_id == Round.id)
            .where(Ballot.customer_id == link.customer_id, Ballot.status != BallotStatus.WITHDRAWN)
        ))
    withdrawn = sum(status in OPEN_STATUSES for status in statuses)
    return Forgetting(link.customer_id, withdrawn, len(statuses) - withdrawn)


async def _rounds_held(s: AsyncSession, customer_id: str) -> dict[int, str]:
    """The status of every round the customer was invited to or has a ballot in, each round's row held
    `FOR SHARE` until the commit.

    Forgetting decides per round whether a ballot is withdrawn (open) or kept anonymously (closed), so
    it must see the close it races: it serialises with a close on the round row, as a tap does (see
    `bot.domain.ballot_sql.CAS`). A close holding the row makes this wait, and the row lock then reads the
    newest version, "closed": the ballot the published score counted stays counted. Locking the ballot
    rows alone did not do it on PostgreSQL: under READ COMMITTED the round's status came from the
    statement's old snapshot. The rounds are locked before the ballots, in id order, as a close locks
    its round before its ballots, so the two cannot deadlock."""
    # Research invitations have no rating round (round_id NULL): the filter keeps the ids whole numbers.
    invited: Select[int] = select(Invitation.round_id).where(  # type: ignore[assignment]
        Invitation.customer_id == customer_id, Invitation.round_id.is_not(None))
    mine = union(invited,
                 select(Ballot.round_id).where(Ballot.customer_id == customer_id))
    rows = await s.execute(select(Round.id, Round.status).where(Round.id.in_(select(mine.subquery())))
                           .order_by(Round.id).with_for_update(read=True))
    return {round_id: status for round_id, status in rows}


async def forget(rt: Runtime, telegram_user_id: int) -> Forgetting:
    """Forgets the user's customer as the module docstring says; NotLinked if there is none."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        link = await _linked(s, telegram_user_id)
        customer_id = link.customer_id
        await s.execute(
            update(Customer).where(Customer.customer_id == customer_id)
            .values(forgotten_at=now, phone_hash=None, last_active_at=None, opted_out=True)
        )
        await s.delete(link)
        await identity.mark_forgotten(s, telegram_user_id, now)
        statuses = await _rounds_held(s, customer_id)
        ballots = await s.scalars(select(Ballot).where(Ballot.customer_id == customer_id).with_for_update())
        withdrawn = anonymised = 0
        for ballot in ballots:
            round_status = statuses.get(ballot.round_id) or await s.scalar(
                select(Round.status).where(Round.id == ballot.round_id))
            ballot.telegram_user_id = ballot.chat_id = ballot.message_id = None
            if round_status in OPEN_STATUSES:
                withdrawn += ballot.status != BallotStatus.WITHDRAWN
                ballot.status, ballot.answers, ballot.submitted = BallotStatus.WITHDRAWN, {}, None
                ballot.updated_at, ballot.rev = now, ballot.rev + 1  # its old buttons go stale
            else:
                anonymised += 1
                ballot.customer_id = None
                # Same shape as a pseudonym, but random: no secret can lead back to the person.
                ballot.rater = "r" + secrets.token_hex(6)
        await s.execute(
            update(Invitation)
            .where(Invitation.customer_id == customer_id, Invitation.status == InvitationStatus.PENDING)
            .values(status=InvitationStatus.CANCELLED)
        )
        await research_responses.forget(s, customer_id, now)
    return Forgetting(customer_id, withdrawn, anonymised)
