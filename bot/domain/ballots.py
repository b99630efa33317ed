"""Recording a ballot: one per round x customer, answered factor by factor, revisable until close.

The step a rater is on lives in the database (`Ballot.step`), so a conversation survives restarts.
Every change bumps `Ballot.rev` through a compare-and-set: a move made on an older rev is stale, and
two quick taps on the same button count once. What a move does is the pure rule in
`bot.domain.ballot_rule`; what the screens show is read in `bot.domain.ballot_views`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.domain.ballot_rule import Move, Outcome, apply
from bot.domain.ballot_views import BallotView, is_open, round_text, round_texts
from bot.domain.errors import DomainError, ForeignButton, NotInvited, NotLinked, RoundClosed, StaleButton
from bot.domain.memo import Memo, memo_for
from bot.domain.runtime import Runtime
from storage.models import AccountLink, Ballot, Invitation, Round
from storage.statuses import BallotStatus, RoundStatus


def rater_pseudonym(secret: str, round_id: int, customer_id: str) -> str:
    """A per-round pseudonym: stable within a round, unlinkable across rounds without the secret."""
    mac = hmac.new(secret.encode(), f"rater:{round_id}:{customer_id}".encode(), hashlib.sha256)
    return "r" + mac.hexdigest()[:12]


class _Raced(Exception):
    """Another tap changed the ballot between our read and our write."""


async def begin(
    rt: Runtime, round_id: int, telegram_user_id: int, *, shown_in: tuple[int, int] | None = None
) -> BallotView:
    """Starts the user's ballot for a round, or resumes it on a fresh message (older buttons go stale).

    `shown_in` (chat id, message id): the message that will show it, when already known (an edited
    invitation), recorded in the same transaction instead of by `attach_message` afterwards."""
    once = partial(_begin_once, round_texts(rt), rt.config.require_secret, rt.clock.now(), round_id,
                   telegram_user_id, shown_in)
    try:
        view, state = await rt.db.run(once)
    except _Raced:
        # A second tap raced us (both created the ballot, or both bumped it): the database kept one,
        # so reading again finds it.
        view, state = await rt.db.run(once)
    _ballot_memo(rt).put(view.ballot_id, state)
    return view


def _begin_once(
    texts: Memo[object, object], secret: Callable[[], str], now: datetime, round_id: int, telegram_user_id: int,
    shown_in: tuple[int, int] | None, s: Connection,
) -> tuple[BallotView, _State]:
    """One read (link, round, invitation and ballot together) and one write."""
    row = s.execute(
        select(AccountLink.customer_id, Round.status, Round.closes_at, Invitation.id, Ballot.id, Ballot.rev,
               Ballot.step, Ballot.answers, Ballot.submitted, Ballot.submitted_at, Ballot.revisions)
        .select_from(AccountLink)
        .outerjoin(Round, Round.id == round_id)
        .outerjoin(Invitation, (Invitation.round_id == round_id)
                   & (Invitation.customer_id == AccountLink.customer_id))
        .outerjoin(Ballot, (Ballot.round_id == round_id) & (Ballot.customer_id == AccountLink.customer_id))
        .where(AccountLink.telegram_user_id == telegram_user_id)
    ).one_or_none()
    if row is None:
        raise NotLinked()
    customer_id, status, closes_at, invited, ballot_id, rev, step, answers, submitted, submitted_at, revisions = row
    if not is_open(status, closes_at, now):
        raise RoundClosed(round_id=round_id)
    if invited is None:
        raise NotInvited(round_id=round_id)
    text = round_text(s, texts, round_id)
    shown = {"chat_id": shown_in[0], "message_id": shown_in[1]} if shown_in is not None else {}
    if ballot_id is None:
        rev, step, answers, revisions = 1, 0, {}, 0
        try:
            ballot_id = s.execute(insert(Ballot).returning(Ballot.id).values({
                "round_id": round_id, "customer_id": customer_id, "telegram_user_id": telegram_user_id,
                "chat_id": telegram_user_id, "rater": rater_pseudonym(secret(), round_id, customer_id),
                "step": step, "rev": rev, "answers": answers, "status": BallotStatus.IN_PROGRESS, "started_at": now,
                "updated_at": now, "revisions": 0,
            } | shown)).scalar_one()
        except IntegrityError as raced:  # one ballot per round x customer, enforced by the database
            raise _Raced() from raced
    else:
        rev += 1
        if submitted is not None:
            step = len(text.factors) + 1
        done = s.execute(
            update(Ballot).where(Ballot.id == ballot_id, Ballot.rev == rev - 1)
            .values(rev=rev, telegram_user_id=telegram_user_id, step=step, **shown)
        )
        if done.rowcount != 1:
            raise _Raced()
    state = _State(round_id, telegram_user_id, rev, step, dict(answers), submitted is not None, submitted_at,
                   revisions, closes_at)
    view = BallotView(
        ballot_id=ballot_id, rev=rev, round_id=round_id, product=text.product, factors=text.factors,
        answers=dict(answers), step=step, submitted=submitted is not None, revisions=revisions, closes_at=closes_at,
    )
    return view, state


async def attach_message(rt: Runtime, ballot_id: int, chat_id: int, message_id: int) -> tuple[int, int] | None:
    """Remembers which message shows the ballot, so later screens edit it in place; returns the message
    that showed it before, if another (its buttons are stale now, so the caller removes them)."""
    async with rt.db.session() as s:
        before = (await s.execute(select(Ballot.chat_id, Ballot.message_id).where(Ballot.id == ballot_id)
                                  .with_for_update())).one_or_none()
        await s.execute(update(Ballot).where(Ballot.id == ballot_id).values(chat_id=chat_id, message_id=message_id))
    if before is None or before.chat_id is None or before.message_id is None:
        return None
    return None if (before.chat_id, before.message_id) == (chat_id, message_id) else (before.chat_id, before.message_id)


@dataclass(frozen=True)
class _State:
    """A ballot as this process last wrote it; true only while the database still holds `rev`."""

    round_id: int
    owner: int | None
    rev: int
    step: int
    answers: dict[str, int]
    submitted: bool
    submitted_at: datetime | None
    revisions: int
    closes_at: datetime


# A rater's next tap carries the rev this process just wrote, so the ballot it needs is usually the
# one it remembers: the tap is then a single guarded compare-and-set, no read. The guard (same rev,
# same owner, not withdrawn, round still open) is checked by the database in the UPDATE itself; every
# writer of a ballot's answers bumps its rev, so a change made anywhere else — another process, a
# /forgetme, a close — makes the guard fail and the tap takes the reading path. The memo is a hint,
# never the truth.
BALLOT_STATE_TTL = 1800.0


def _ballot_memo(rt: Runtime) -> Memo[object, object]:
    return memo_for(rt.db, "ballot_state", BALLOT_STATE_TTL)


@dataclass(frozen=True)
class _Press:
    """A move made on ballot `ballot_id` as it stood at `rev` (what the screen showed)."""

    ballot_id: int
    rev: int
    move: Move


async def press(rt: Runtime, ballot_id: int, rev: int, move: Move, telegram_user_id: int) -> tuple[BallotView, Outcome]:
    """Makes one move on the ballot at `rev`; returns the new screen and what the move did.

    A tap is one guarded write when this process remembers the ballot at that rev, else one read (the
    ballot with its round's status) and one compare-and-set; the new screen is built from what was
    written, not read back. Either way it is one `Database.run`: one trip to the database."""
    now = rt.clock.now()
    memo = _ballot_memo(rt)
    hit, known = memo.get(ballot_id)
    if not (hit and isinstance(known, _State) and known.rev == rev and known.owner == telegram_user_id
            and now < known.closes_at):
        known = None
    made = _Press(ballot_id, rev, move)
    view, outcome, written = await rt.db.run(partial(_press, round_texts(rt), made, telegram_user_id, now, known))
    memo.put(ballot_id, written)
    return view, outcome


def _press(texts: Memo[object, object], made: _Press, telegram_user_id: int, now: datetime,
           known: _State | None, s: Connection) -> tuple[BallotView, Outcome, _State]:
    if known is not None:
        try:
            result = _write(s, texts, made, known, now, guarded=True)
        except DomainError:
            result = None  # let the reading path give the authoritative answer
        if result is not None:
            return result
    state = _read(s, made, telegram_user_id, now)
    result = _write(s, texts, made, state, now, guarded=False)
    assert result is not None
    return result


def _read(s: Connection, button: _Press, telegram_user_id: int, now: datetime) -> _State:
    row = s.execute(
        select(Ballot.round_id, Ballot.telegram_user_id, Ballot.status, Ballot.rev, Ballot.step, Ballot.answers,
               Ballot.submitted, Ballot.submitted_at, Ballot.revisions, Round.status, Round.closes_at)
        .join(Round, Round.id == Ballot.round_id)
        .where(Ballot.id == button.ballot_id)
    ).one_or_none()
    if row is None:
        raise StaleButton()
    round_id, owner, status, rev, step, answers, submitted, submitted_at, revisions, round_status, closes_at = row
    if owner != telegram_user_id or status == BallotStatus.WITHDRAWN:
        raise ForeignButton()
    if not is_open(round_status, closes_at, now):
        raise RoundClosed(round_id=round_id)
    if rev != button.rev:
        raise StaleButton()
    return _State(round_id, owner, rev, step, dict(answers), submitted is not None, submitted_at, revisions,
                  closes_at)


# Built once: constructing the statement on every tap cost more than executing it. The SET columns
# come from each execution's parameters; the WHERE parameters are named so they cannot collide.
# The guard is in the UPDATE on both paths: a read is its own snapshot (SQLite begins the transaction
# at the first write), so a round closed or a ballot withdrawn between the read and the write must
# still stop the write — the database checks it under the write lock.
_CAS = update(Ballot).where(
    Ballot.id == bindparam("b_id"), Ballot.rev == bindparam("b_rev"),
    Ballot.telegram_user_id == bindparam("b_owner"), Ballot.status != BallotStatus.WITHDRAWN,
    select(Round.id).where(Round.id == Ballot.round_id, Round.status == RoundStatus.OPEN,
                           Round.closes_at > bindparam("b_now", type_=Round.__table__.c.closes_at.type)).exists(),
)


def _write(
    s: Connection, texts: Memo[object, object], button: _Press, state: _State, now: datetime, *, guarded: bool
) -> tuple[BallotView, Outcome, _State] | None:
    """The compare-and-set of one press on `state`; None when `guarded` and the database disagrees."""
    text = round_text(s, texts, state.round_id)
    answers, step, outcome = apply(text.keys, dict(state.answers), state.step, button.move)
    submitted, submitted_at, revisions = state.submitted, state.submitted_at, state.revisions
    if outcome is Outcome.SUBMITTED and submitted_at is not None:
        outcome = Outcome.RESUBMITTED
    values: dict[str, object] = {"answers": answers, "step": step, "rev": state.rev + 1, "updated_at": now}
    if outcome in (Outcome.SUBMITTED, Outcome.RESUBMITTED):
        values["submitted"] = answers
        values["status"] = BallotStatus.SUBMITTED
        submitted = True
        if submitted_at is None:
            values["submitted_at"] = submitted_at = now
            values["owned_days"] = _owned_days(s, button.ballot_id, now)
        else:
            values["revisions"] = revisions = revisions + 1
    params = values | {"b_id": button.ballot_id, "b_rev": button.rev, "b_owner": state.owner, "b_now": now}
    done = s.execute(_CAS, params)
    if done.rowcount != 1:
        if guarded:
            return None
        raise StaleButton()  # another tap on the same screen, a close or a withdrawal got there first
    written = _State(state.round_id, state.owner, state.rev + 1, step, answers, submitted, submitted_at, revisions,
                     state.closes_at)
    view = BallotView(
        ballot_id=button.ballot_id, rev=written.rev, round_id=state.round_id, product=text.product,
        factors=text.factors, answers=dict(answers), step=step, submitted=submitted, revisions=revisions,
        closes_at=state.closes_at,
    )
    return view, outcome, written


def _owned_days(s: Connection, ballot_id: int, now: datetime) -> int | None:
    """Days the rater had owned the product when they submitted (screened by `owned_too_briefly`)."""
    bought = s.scalar(
        select(Invitation.purchased_at).join(
            Ballot, (Ballot.round_id == Invitation.round_id) & (Ballot.customer_id == Invitation.customer_id)
        ).where(Ballot.id == ballot_id)
    )
    return None if bought is None else (now - bought).days
