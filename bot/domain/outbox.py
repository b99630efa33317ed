"""Messages the bot owes people, kept in the database until sent: invitations, reminders and thanks
(a round's scorecard post has steps of its own: `bot.domain.publication`).

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

Thanks ("your rating counted, here is the result") are **at most once** too, but finer: a thank-you is
claimed with its batch (`none → claimed`), and marked `sending` one commit before its own HTTP call
(`start_thanks`). A claimed thank-you never started is safe to send again, so a stop hands it back and
a crash releases it after `rounds.claim_timeout`; only the few in flight at a crash (at most one per
sending worker) become `unknown`. At least once was the alternative, and the cost of each is one
message: a duplicate thank-you reads as a bug in a bot that promises "one person, one vote", while one
missing thank-you in a thousand loses nothing the buyer needs — the scorecard is public. Before, the
claim itself marked the rater thanked, so a stop 11 s after a 60k-ballot publication lost the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.runtime import Runtime
from bot.domain.settings import RoundsConfig, pick_language
from storage.models import (
    Ballot,
    Customer,
    Invitation,
    Product,
    ResearchResponse,
    ResearchRound,
    Round,
    RoundFactor,
    TelegramUser,
)
from storage.statuses import InvitationStatus, ReminderStatus, RoundStatus, ThanksStatus

# A claim lives for one batch (well under a minute even through flood waits); one older than
# `rounds.claim_timeout` (this by default) belongs to a process that died mid-batch.
STALE_CLAIM = RoundsConfig().claim_timeout


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
    async with rt.db.session() as s:
        ids = await claim_pending(s, rt, Round, Invitation.round_id, limit)
        if not ids:
            return []
        return await _messages(s, rt, select(Invitation).where(Invitation.id.in_(ids)))


async def claim_pending(s: AsyncSession, rt: Runtime, rounds: type[Round | ResearchRound],
                        owner: InstrumentedAttribute[Any], limit: int) -> list[int]:
    """Claims (`pending → sending`) up to `limit` invitations of open rounds of `rounds`, joined on
    `owner` (`Invitation.round_id` or `research_round_id`), oldest first; returns their ids."""
    now = rt.clock.now()
    query = (
        select(Invitation.id).join(rounds, rounds.id == owner)
        .where(Invitation.status == InvitationStatus.PENDING, rounds.status == RoundStatus.OPEN, rounds.closes_at > now)
        .order_by(Invitation.id).limit(limit)
    )
    return await claim_rows(s, rt, query, Invitation, Invitation.status == InvitationStatus.PENDING,
                            status=InvitationStatus.SENDING, claimed_at=now, attempts=Invitation.attempts + 1)


async def claim_rows(s: AsyncSession, rt: Runtime, candidates: Select[Any], model: type[Invitation | Ballot],
                     still: ColumnElement[bool], **values: object) -> list[int]:
    """Moves the rows `candidates` selects (their ids) that `still` holds for with `values`; returns
    the ids it moved.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so a concurrent claim (another process,
    an overlapping run) takes the next rows instead of waiting on these: claims never wait on each
    other, so they cannot deadlock (the per-row updates this replaced, in no order, deadlocked one run
    in seven against an overlapping run)."""
    if not rt.db.is_sqlite:
        candidates = candidates.with_for_update(of=model, skip_locked=True)
    ids = list(await s.scalars(candidates))
    if not ids:
        return []
    # RETURNING names exactly the rows this transaction moved: a concurrent run that saw the same
    # candidates gets none of them, even when both claim within the same clock tick.
    return list(await s.scalars(
        update(model).where(model.id.in_(ids), still).values(**values).returning(model.id)
    ))


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
    """Marks invitations, reminders and thank-yous a process that died was sending as `unknown` (never
    resent), and hands back the thank-yous it had claimed but not started; returns how many are in doubt."""
    cutoff = rt.clock.now() - rt.config.rounds.claim_timeout
    async with rt.db.session() as s:
        await s.execute(
            update(Ballot).where(Ballot.thanks_status == ThanksStatus.CLAIMED, Ballot.thanks_claimed_at < cutoff)
            .values(thanks_status=ThanksStatus.NONE, thanks_claimed_at=None)
        )
        thanks = await s.execute(
            update(Ballot).where(Ballot.thanks_status == ThanksStatus.SENDING, Ballot.thanks_claimed_at < cutoff)
            .values(thanks_status=ThanksStatus.UNKNOWN)
        )
        invitations = await s.execute(
            update(Invitation).where(Invitation.status == InvitationStatus.SENDING, Invitation.claimed_at < cutoff)
            .values(status=InvitationStatus.UNKNOWN, error="claimed by a process that stopped; delivery unknown")
        )
        reminders = await s.execute(
            update(Invitation)
            .where(Invitation.reminder_status == ReminderStatus.SENDING, Invitation.claimed_at < cutoff)
            .values(reminder_status=ReminderStatus.UNKNOWN)
        )
        return int(invitations.rowcount + reminders.rowcount + thanks.rowcount)  # type: ignore[attr-defined]


async def claim_reminders(rt: Runtime, limit: int) -> list[InvitationMessage]:
    """Claims reminders due `rounds.reminder_before` the close, each at most once.

    A reminder goes to a buyer whose invitation was delivered before the reminder time, who has not
    submitted, and who has not opted out, asked to be forgotten or become unreachable since.
    """
    async with rt.db.session() as s:
        claimed = await claim_due_reminders(s, rt, Round, Invitation.round_id, Ballot, limit)
        if not claimed:
            return []
        return await _messages(s, rt, select(Invitation).where(Invitation.id.in_(claimed)))


async def claim_due_reminders(s: AsyncSession, rt: Runtime, rounds: type[Round | ResearchRound],
                              owner: InstrumentedAttribute[Any], responses: type[Ballot | ResearchResponse],
                              limit: int) -> list[int]:
    """Claims (`none → sending`) up to `limit` reminders due of open rounds of `rounds` (joined on
    `owner`) to buyers without a submitted row of `responses`; returns their ids."""
    now = rt.clock.now()
    submitted = (
        select(responses.id).where(responses.round_id == owner, responses.customer_id == Invitation.customer_id,
                                   responses.submitted_at.is_not(None))
        .exists()
    )
    rows = list(await s.execute(
        select(Invitation.id, Invitation.sent_at, rounds.closes_at)
        .join(rounds, rounds.id == owner)
        .join(Customer, Customer.customer_id == Invitation.customer_id)
        .where(Invitation.status == InvitationStatus.SENT, Invitation.reminder_status == ReminderStatus.NONE,
               rounds.status == RoundStatus.OPEN, rounds.closes_at > now, Customer.opted_out.is_(False),
               Customer.forgotten_at.is_(None), ~submitted)
        .order_by(Invitation.id)
    ))
    before = rt.config.rounds.reminder_before
    # Invited after the reminder time (a short round, a late send): the invitation is reminder enough.
    due = [i for i, sent_at, closes in rows
           if closes - before <= now and sent_at is not None and sent_at < closes - before][:limit]
    if not due:
        return []
    return list(await s.scalars(
        update(Invitation).where(Invitation.id.in_(due), Invitation.reminder_status == ReminderStatus.NONE)
        .values(reminder_status=ReminderStatus.SENDING, claimed_at=now).returning(Invitation.id)
    ))


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
class ThankYou:
    """A rater of a published round, claimed to be told the result."""

    id: int  # the rater's ballot, which holds the thank-you's status
    telegram_user_id: int
    product: str
    report: dict[str, Any]
    language: str


async def claim_thanks(rt: Runtime, limit: int) -> list[ThankYou]:
    """Claims up to `limit` thank-yous owed to raters of published rounds, oldest ballot first: one
    guarded UPDATE … RETURNING in id order (`claim_rows`)."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        query = (
            select(Ballot.id).join(Round, Round.id == Ballot.round_id)
            .where(Ballot.thanks_status == ThanksStatus.NONE, Ballot.submitted_at.is_not(None),
                   Ballot.telegram_user_id.is_not(None),
                   Round.status.in_((RoundStatus.PUBLISHED, RoundStatus.INSUFFICIENT)))
            .order_by(Ballot.id).limit(limit)
        )
        ids = await claim_rows(s, rt, query, Ballot, Ballot.thanks_status == ThanksStatus.NONE,
                               thanks_status=ThanksStatus.CLAIMED, thanks_claimed_at=now)
        if not ids:
            return []
        rows = list(await s.execute(
            select(Ballot.id, Ballot.telegram_user_id, Ballot.round_id, TelegramUser.language,
                   TelegramUser.telegram_language)
            .outerjoin(TelegramUser, TelegramUser.user_id == Ballot.telegram_user_id)
            .where(Ballot.id.in_(ids)).order_by(Ballot.id)
        ))
        rounds = {r.id: r for r in await s.execute(
            select(Round.id, Round.report, Product.name).join(Product, Product.sku == Round.sku)
            .where(Round.id.in_({row.round_id for row in rows}))
        )}
        return [ThankYou(b.id, b.telegram_user_id, rounds[b.round_id].name, dict(rounds[b.round_id].report or {}),
                         pick_language(b.telegram_language, b.language, rt.config.default_language))
                for b in rows]


async def start_thanks(rt: Runtime, ballot_id: int) -> bool:
    """Records that this thank-you is about to leave (claimed → sending), one commit before the HTTP
    call, so a crash leaves in doubt only the thank-yous actually in flight, not the whole claim."""
    async with rt.db.session() as s:
        done = await s.execute(
            update(Ballot).where(Ballot.id == ballot_id, Ballot.thanks_status == ThanksStatus.CLAIMED)
            .values(thanks_status=ThanksStatus.SENDING)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


_BALLOTS = cast(Table, Ballot.__table__)
_SETTLE_THANKS = (
    update(_BALLOTS)
    .where(_BALLOTS.c.id == bindparam("settled_id"),
           or_(_BALLOTS.c.thanks_status == ThanksStatus.SENDING, _BALLOTS.c.thanks_status == ThanksStatus.UNKNOWN))
    .values(thanks_status=bindparam("new_status"), thanked_at=bindparam("new_thanked_at"))
)


async def settle_thanks(rt: Runtime, settled: list[Settlement], unsent: list[int]) -> None:
    """Records how each thank-you went; hands back the claimed ones never sent (→ none, claimed again
    by the next pass or the next process)."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        if settled:
            await s.execute(_SETTLE_THANKS, [
                {"settled_id": x.id, "new_status": ThanksStatus(x.status.value),
                 "new_thanked_at": now if x.status == InvitationStatus.SENT else None}
                for x in settled
            ])
        if unsent:
            await s.execute(
                update(Ballot).where(Ballot.id.in_(unsent), Ballot.thanks_status == ThanksStatus.CLAIMED)
                .values(thanks_status=ThanksStatus.NONE, thanks_claimed_at=None)
            )
