"""Messages the bot owes people, kept in the database until sent: invitations, reminders, scorecards,
thanks.

Delivery guarantee for invitations and reminders: **at most once**, and nothing lost silently.

- A row is claimed (`pending → sending`, committed) before the Telegram call and settled after it
  (`sent`, `unreachable` on 403, `failed` on a refusal, `unknown` when the call may or may not have
  reached Telegram: a timeout or a connection dropped mid-request). Only rows still `pending` are
  ever sent, so no code path can send a row twice.
- A sender that stops on purpose (restart, shutdown) settles what it sent and hands the claimed rows
  it never sent back to `pending` (`settle`): a restart loses and repeats nothing.
- A process that dies between claim and settle leaves at most one small batch (about half a second
  of sends) in `sending`. Those rows are in doubt: Telegram gives no idempotency key and no way to ask
  whether a message went out. After `STALE_CLAIM` they become `unknown` (`recover_stale_claims`) and
  are counted in the round's statistics, never resent: a buyer asked twice to rate the same product
  is worse for trust than one invitation in doubt, and the count tells the admin how many there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.runtime import Runtime
from bot.domain.settings import pick_language
from storage.models import Ballot, Customer, Invitation, Product, Round, RoundFactor, TelegramUser
from storage.statuses import InvitationStatus, ReminderStatus, RoundStatus

# A scorecard claim older than this is presumed to belong to a process that died before posting.
PUBLISH_CLAIM_TIMEOUT = timedelta(minutes=5)
# A claim lives for one batch (well under a minute even through flood waits); one this old belongs to
# a process that died mid-batch.
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class InvitationMessage:
    """An invitation (or its reminder) claimed for sending: to whom, and what its message shows."""

    id: int
    purchased_at: datetime | None  # what the buyer bought, when
    # The round: its product, how many factors it asks, when it closes.
    round_id: int
    product: str
    factors: int
    closes_at: datetime
    # The buyer: who gets it, in which language.
    telegram_user_id: int
    language: str


async def claim_invitations(rt: Runtime, limit: int) -> list[InvitationMessage]:
    """Claims up to `limit` pending invitations of open rounds for sending, oldest first."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        query = (
            select(Invitation.id)
            .join(Round, Round.id == Invitation.round_id)
            .where(Invitation.status == InvitationStatus.PENDING, Round.status == RoundStatus.OPEN,
                   Round.closes_at > now)
            .order_by(Invitation.id)
            .limit(limit)
        )
        if not rt.db.is_sqlite:
            query = query.with_for_update(of=Invitation, skip_locked=True)
        candidates = list(await s.scalars(query))
        if not candidates:
            return []
        # RETURNING names exactly the rows this transaction moved: a concurrent run that saw the same
        # candidates gets none of them, even when both claim within the same clock tick.
        ids = list(await s.scalars(
            update(Invitation).where(Invitation.id.in_(candidates), Invitation.status == InvitationStatus.PENDING)
            .values(status=InvitationStatus.SENDING, claimed_at=now, attempts=Invitation.attempts + 1)
            .returning(Invitation.id)
        ))
        return await _messages(s, rt, select(Invitation).where(Invitation.id.in_(ids)))


@dataclass(frozen=True)
class Settlement:
    id: int
    status: InvitationStatus  # sent | unreachable | failed | unknown, as a reminder's status too
    message_id: int | None = None
    error: str | None = None


_TABLE = cast(Table, Invitation.__table__)
# One executemany for the whole batch: a round trip per row would cap the rate on a slow disk. A row
# already judged `unknown` (its claim went stale) still learns the truth.
_SETTLE_INVITATIONS = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("settled_id"),
           or_(_TABLE.c.status == InvitationStatus.SENDING, _TABLE.c.status == InvitationStatus.UNKNOWN))
    .values(status=bindparam("new_status"), error=bindparam("new_error"), message_id=bindparam("new_message_id"),
            sent_at=bindparam("new_sent_at"))
)
_SETTLE_REMINDERS = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("settled_id"), _TABLE.c.reminder_status == ReminderStatus.SENDING)
    .values(reminder_status=bindparam("new_status"))
)


async def settle(rt: Runtime, settled: list[Settlement], unsent: list[int], *, reminders: bool) -> None:
    """Records a claimed batch in one transaction: how each send went, and the claims that were provably
    never sent handed back (an invitation to `pending`, a reminder to `none`), so a stop loses and
    repeats nothing."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        if settled:
            await s.execute(_SETTLE_REMINDERS if reminders else _SETTLE_INVITATIONS, [
                {"settled_id": x.id, "new_status": x.status, "new_error": x.error, "new_message_id": x.message_id,
                 "new_sent_at": now if x.status == InvitationStatus.SENT else None}
                for x in settled
            ])
        if unsent:
            claimed, back = (
                (Invitation.reminder_status == ReminderStatus.SENDING, {"reminder_status": ReminderStatus.NONE})
                if reminders else
                (Invitation.status == InvitationStatus.SENDING,
                 {"status": InvitationStatus.PENDING, "claimed_at": None, "attempts": Invitation.attempts - 1})
            )
            await s.execute(update(Invitation).where(Invitation.id.in_(unsent), claimed).values(back))


async def recover_stale_claims(rt: Runtime) -> int:
    """Marks invitations and reminders claimed by a process that died as `unknown`; never resent."""
    cutoff = rt.clock.now() - STALE_CLAIM
    async with rt.db.session() as s:
        invitations = await s.execute(
            update(Invitation).where(Invitation.status == InvitationStatus.SENDING, Invitation.claimed_at < cutoff)
            .values(status=InvitationStatus.UNKNOWN, error="claimed by a process that stopped; delivery unknown")
        )
        reminders = await s.execute(
            update(Invitation)
            .where(Invitation.reminder_status == ReminderStatus.SENDING, Invitation.claimed_at < cutoff)
            .values(reminder_status=ReminderStatus.UNKNOWN)
        )
        return int(invitations.rowcount + reminders.rowcount)  # type: ignore[attr-defined]


async def claim_reminders(rt: Runtime, limit: int) -> list[InvitationMessage]:
    """Claims reminders due `rounds.reminder_before` the close, each at most once.

    A reminder goes to a buyer whose invitation was delivered before the reminder time, who has not
    submitted, and who has not opted out, asked to be forgotten or become unreachable since.
    """
    now = rt.clock.now()
    submitted = (
        select(Ballot.id).where(Ballot.round_id == Invitation.round_id, Ballot.customer_id == Invitation.customer_id,
                                Ballot.submitted_at.is_not(None))
        .exists()
    )
    async with rt.db.session() as s:
        rows = list(await s.execute(
            select(Invitation.id, Invitation.sent_at, Round.closes_at)
            .join(Round, Round.id == Invitation.round_id)
            .join(Customer, Customer.customer_id == Invitation.customer_id)
            .where(Invitation.status == InvitationStatus.SENT, Invitation.reminder_status == ReminderStatus.NONE,
                   Round.status == RoundStatus.OPEN, Round.closes_at > now, Customer.opted_out.is_(False),
                   Customer.forgotten_at.is_(None), ~submitted)
            .order_by(Invitation.id)
        ))
        before = rt.config.rounds.reminder_before
        # Invited after the reminder time (a short round, a late send): the invitation is reminder enough.
        due = [i for i, sent_at, closes in rows
               if closes - before <= now and sent_at is not None and sent_at < closes - before][:limit]
        if not due:
            return []
        claimed = list(await s.scalars(
            update(Invitation).where(Invitation.id.in_(due), Invitation.reminder_status == ReminderStatus.NONE)
            .values(reminder_status=ReminderStatus.SENDING, claimed_at=now).returning(Invitation.id)
        ))
        return await _messages(s, rt, select(Invitation).where(Invitation.id.in_(claimed)))


async def _messages(s: AsyncSession, rt: Runtime, invitations: Select[Any]) -> list[InvitationMessage]:
    chosen = invitations.subquery()
    factor_counts = (
        select(RoundFactor.round_id, func.count().label("n")).group_by(RoundFactor.round_id).subquery()
    )
    rows = await s.execute(
        select(chosen, Product.name, Round.closes_at, factor_counts.c.n,
               TelegramUser.language, TelegramUser.telegram_language)
        .join(Round, Round.id == chosen.c.round_id)
        .join(Product, Product.sku == Round.sku)
        .join(factor_counts, factor_counts.c.round_id == Round.id)
        .outerjoin(TelegramUser, TelegramUser.user_id == chosen.c.telegram_user_id)
        .order_by(chosen.c.id)
    )
    return [
        InvitationMessage(r.id, r.purchased_at, r.round_id, r.name, r.n, r.closes_at, r.telegram_user_id,
                          pick_language(r.telegram_language, r.language, rt.config.default_language))
        for r in rows
    ]


@dataclass(frozen=True)
class Publication:
    """A closed round's scorecard, claimed for posting to the publish chat."""

    round_id: int
    product: str
    report: dict[str, Any]


async def claim_publications(rt: Runtime) -> list[Publication]:
    """Closed rounds whose scorecard is not posted yet, claimed so only one process posts each."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        ids = list(await s.scalars(
            select(Round.id).where(
                Round.status == RoundStatus.CLOSED,
                or_(Round.publish_claimed_at.is_(None), Round.publish_claimed_at < now - PUBLISH_CLAIM_TIMEOUT),
            )
        ))
        out = []
        for round_id in ids:
            claimed = await s.execute(
                update(Round).where(
                    Round.id == round_id, Round.status == RoundStatus.CLOSED,
                    or_(Round.publish_claimed_at.is_(None), Round.publish_claimed_at < now - PUBLISH_CLAIM_TIMEOUT),
                ).values(publish_claimed_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            rnd = await s.get_one(Round, round_id)
            product = await s.get_one(Product, rnd.sku)
            assert rnd.report is not None
            out.append(Publication(round_id, product.name, dict(rnd.report)))
        return out


async def mark_published(rt: Runtime, round_id: int, message_id: int | None) -> None:
    async with rt.db.session() as s:
        rnd = await s.get_one(Round, round_id)
        insufficient = (rnd.report or {}).get("status") == RoundStatus.INSUFFICIENT
        final = RoundStatus.INSUFFICIENT if insufficient else RoundStatus.PUBLISHED
        await s.execute(
            update(Round).where(Round.id == round_id, Round.status == RoundStatus.CLOSED)
            .values(status=final, published_at=rt.clock.now(), publish_message_id=message_id)
        )


@dataclass(frozen=True)
class ThankYou:
    """A rater of a published round, claimed to be told the result, once."""

    telegram_user_id: int
    product: str
    report: dict[str, Any]
    language: str


async def claim_thanks(rt: Runtime, limit: int = 100) -> list[ThankYou]:
    """Submitted ballots of published rounds whose rater has not been thanked; claimed at most once."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        rows = list(await s.execute(
            select(Ballot.id, Ballot.telegram_user_id, Product.name, Round.report,
                   TelegramUser.language, TelegramUser.telegram_language)
            .join(Round, Round.id == Ballot.round_id)
            .join(Product, Product.sku == Round.sku)
            .outerjoin(TelegramUser, TelegramUser.user_id == Ballot.telegram_user_id)
            .where(Round.status.in_((RoundStatus.PUBLISHED, RoundStatus.INSUFFICIENT)),
                   Ballot.submitted_at.is_not(None), Ballot.thanked_at.is_(None), Ballot.telegram_user_id.is_not(None))
            .limit(limit)
        ))
        out = []
        for ballot_id, user_id, name, report, chosen, tg_lang in rows:
            claimed = await s.execute(
                update(Ballot).where(Ballot.id == ballot_id, Ballot.thanked_at.is_(None)).values(thanked_at=now)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                out.append(ThankYou(user_id, name, dict(report or {}),
                                    pick_language(tg_lang, chosen, rt.config.default_language)))
        return out
