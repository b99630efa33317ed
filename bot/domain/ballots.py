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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.domain import people
from bot.domain.ballot_rule import Action, Move, Outcome, apply
from bot.domain.ballot_sql import BOUGHT, CAS, INVITED, RESUME, START
from bot.domain.ballot_views import BallotView, RoundText, is_open, round_text, round_texts
from bot.domain.errors import DomainError, ForeignButton, NotInvited, NotLinked, RoundClosed, StaleButton
from bot.domain.memo import Memo, memo_for
from bot.domain.runtime import Runtime
from storage.db import is_dropped
from storage.models import Ballot, Invitation, Round
from storage.statuses import BallotStatus


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
        view, state, chosen = await rt.db.run(once, atomic=False)
    except _Raced:
        # A second tap raced us (both created the ballot, or both bumped it): the database kept one,
        # so reading again finds it.
        view, state, chosen = await rt.db.run(once, atomic=False)
    _ballot_memo(rt).put(view.ballot_id, state)
    # Read with the ballot: the first screen is drawn in the rater's language without another trip.
    people.note_language(rt, telegram_user_id, chosen)
    return view


async def not_now(rt: Runtime, round_id: int, telegram_user_id: int) -> datetime:
    """"Not now" on an invitation: noted on the invitation, and no ballot begun — "started" counts only
    buyers who opened their ballot. Refused exactly as Rate now would be (not linked, not invited, the
    round closed). Returns when the round closes, to say until when they can still rate."""
    now = rt.clock.now()

    def decline(s: Connection) -> datetime:
        row = _invited(s, now, round_id, telegram_user_id)
        s.execute(update(Invitation).where(Invitation.id == row.invited).values(declined_at=now))
        closes_at: datetime = row.closes_at
        return closes_at

    return await rt.db.run(decline)


def _invited(s: Connection, now: datetime, round_id: int, telegram_user_id: int) -> Any:
    """The user's link, the round, their invitation and ballot, read together; refused unless linked,
    invited, and the round open."""
    row = s.execute(INVITED, {"round_id": round_id, "user_id": telegram_user_id}).one_or_none()
    if row is None:
        raise NotLinked()
    if not is_open(row.status, row.closes_at, now):
        raise RoundClosed(round_id=round_id)
    if row.invited is None:
        raise NotInvited(round_id=round_id)
    return row


def _begin_once(
    texts: Memo[object, object], secret: Callable[[], str], now: datetime, round_id: int, telegram_user_id: int,
    shown_in: tuple[int, int] | None, s: Connection,
) -> tuple[BallotView, _State, str | None]:
    """One read (link, round, invitation, ballot and the user's /language choice together) and one write."""
    row = _invited(s, now, round_id, telegram_user_id)
    customer_id, _, closes_at, _, bought, ballot_id, rev, step, answers, submitted, submitted_at, revisions, \
        chosen = row
    text = round_text(s, texts, round_id)
    shown = {"chat_id": shown_in[0], "message_id": shown_in[1]} if shown_in is not None else {}
    # Both writes are guarded by the round, as a tap is (see `CAS`): a round that closed while this
    # read was going on gets no new ballot, so "started" never grows after the close. A write that
    # finds it closed (or a twin tap's ballot) raises _Raced, and the read again says which.
    guard = {"r_id": round_id, "r_now": now}
    if ballot_id is None:
        rev, step, answers, revisions = 1, 0, {}, 0
        values = {
            "round_id": round_id, "customer_id": customer_id, "telegram_user_id": telegram_user_id,
            "chat_id": telegram_user_id, "rater": rater_pseudonym(secret(), round_id, customer_id),
            "step": step, "rev": rev, "answers": answers, "status": BallotStatus.IN_PROGRESS, "started_at": now,
            "updated_at": now, "revisions": 0,
        } | shown
        try:
            ballot_id = s.execute(START[shown_in is not None], values | guard).scalar()
        except IntegrityError as raced:  # one ballot per round x customer, enforced by the database
            raise _Raced() from raced
        if ballot_id is None:
            raise _Raced()
    else:
        rev += 1
        if submitted is not None:
            step = len(text.factors) + 1
        done = s.execute(RESUME, {"rev": rev, "telegram_user_id": telegram_user_id, "step": step} | shown
                         | guard | {"b_id": ballot_id, "b_rev": rev - 1})
        if done.rowcount != 1:
            raise _Raced()
    state = _State(round_id, telegram_user_id, rev, step, dict(answers), submitted is not None, submitted_at,
                   revisions, closes_at, bought, bought_known=True)
    view = BallotView(
        ballot_id=ballot_id, rev=rev, round_id=round_id, product=text.product, factors=text.factors,
        answers=dict(answers), step=step, submitted=submitted is not None, revisions=revisions, closes_at=closes_at,
    )
    return view, state, chosen


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
    # When the rater bought the product (None: not recorded), if read with the ballot — at its start —
    # so the first Submit can say how long they had owned it without a read (`owned_days`).
    bought: datetime | None = None
    bought_known: bool = False


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

    A tap is one guarded write when this process remembers the ballot at that rev (and the round's
    texts), else one read (the ballot with its round's status) and one compare-and-set; the new screen
    is built from what was written, not read back. Either way it is one trip to the database."""
    now = rt.clock.now()
    memo, texts = _ballot_memo(rt), round_texts(rt)
    hit, known = memo.get(ballot_id)
    if not (hit and isinstance(known, _State) and known.rev == rev and known.owner == telegram_user_id
            and now < known.closes_at):
        known = None
    made = _Press(ballot_id, rev, move)
    retried = False
    plan = _remembered(texts, made, known, now) if known is not None else None
    if plan is not None:
        # The usual tap: the one compare-and-set, on its own (`Database.execute`).
        try:
            if await rt.db.execute(CAS, plan.params) == 1:
                memo.put(ballot_id, plan.result[2])
                return plan.result[0], plan.result[1]
        except Exception as exc:
            if not is_dropped(exc):
                raise
            retried = True  # it may have been written: the reading path finds out (`_Landed`)
        known = None  # the database holds something else than remembered: read it
    # Every write of a tap is a compare-and-set guarded in itself, so it needs no transaction around it
    # (`Database.run`: on PostgreSQL one trip instead of three).
    work = partial(_press, texts, made, telegram_user_id, now, known)
    again = partial(work, retried=True)
    view, outcome, written = await rt.db.run(again if retried else work, atomic=False, again=again)
    memo.put(ballot_id, written)
    return view, outcome


def _press(texts: Memo[object, object], made: _Press, telegram_user_id: int, now: datetime,
           known: _State | None, s: Connection, *, retried: bool = False) -> tuple[BallotView, Outcome, _State]:
    """The press as one transaction; `retried` when it runs again after its connection dropped."""
    if known is not None:
        try:
            result = _write(s, texts, made, known, now)
        except DomainError:
            result = None  # let the reading path give the authoritative answer
        if result is not None:
            return result
    try:
        state = _read(s, made, telegram_user_id, now, retried)
        result = _write(s, texts, made, state, now)
        if result is None:
            # Another tap on the same screen, a close or a withdrawal got there between the read and
            # the write: read again to say which (a Submit that met the close is told the round closed).
            _read(s, made, telegram_user_id, now, retried)
            raise StaleButton()
    except _Landed as landed:
        return _landed(texts, s, made, landed.state)
    return result


def _read(s: Connection, button: _Press, telegram_user_id: int, now: datetime, retried: bool = False) -> _State:
    row = s.execute(
        select(Ballot.round_id, Ballot.telegram_user_id, Ballot.status, Ballot.rev, Ballot.step, Ballot.answers,
               Ballot.submitted, Ballot.submitted_at, Ballot.revisions, Round.status, Round.closes_at,
               Ballot.updated_at)
        .join(Round, Round.id == Ballot.round_id)
        .where(Ballot.id == button.ballot_id)
    ).one_or_none()
    if row is None:
        raise StaleButton()
    round_id, owner, status, rev, step, answers, submitted, submitted_at, revisions, round_status, closes_at, \
        updated_at = row
    if owner != telegram_user_id or status == BallotStatus.WITHDRAWN:
        raise ForeignButton()
    if not is_open(round_status, closes_at, now):
        raise RoundClosed(round_id=round_id)
    state = _State(round_id, owner, rev, step, dict(answers), submitted is not None, submitted_at, revisions,
                   closes_at)
    if retried and rev == button.rev + 1 and updated_at == now:
        # This very press, already written: its first run committed and then the connection dropped
        # before the answer came back (`Database.run` runs it `again`). `now` is the press's own
        # instant, so no other press wrote it — at most the same button pressed twice within one
        # microsecond, which leads to the same ballot either way.
        raise _Landed(state)
    if rev != button.rev:
        raise StaleButton()
    return state


class _Landed(Exception):
    """The press being made is already in the database, as `state`."""

    def __init__(self, state: _State) -> None:
        self.state = state


def _landed(texts: Memo[object, object], s: Connection, button: _Press, state: _State) -> tuple[
        BallotView, Outcome, _State]:
    """The result of a press found already written: the screen it led to, and what it did."""
    text = round_text(s, texts, state.round_id)
    action = button.move.action
    outcome = {Action.BACK: Outcome.BACK, Action.EDIT: Outcome.EDITING, Action.REVISE: Outcome.REVISING}.get(
        action, Outcome.ANSWERED)
    if action is Action.SUBMIT:
        outcome = Outcome.RESUBMITTED if state.revisions else Outcome.SUBMITTED
    view = BallotView(
        ballot_id=button.ballot_id, rev=state.rev, round_id=state.round_id, product=text.product,
        factors=text.factors, answers=dict(state.answers), step=state.step, submitted=state.submitted,
        revisions=state.revisions, closes_at=state.closes_at,
    )
    return view, outcome, state


@dataclass(frozen=True)
class _Plan:
    """A press worked out on a known state: the compare-and-set's parameters, and what it leads to."""

    params: dict[str, object]
    result: tuple[BallotView, Outcome, _State]
    reads_purchase: bool  # a first Submit on a ballot read mid-way: the write reads when they bought it


def _plan(text: RoundText, button: _Press, state: _State, now: datetime) -> _Plan:
    """The press on `state` as the rule (`apply`) makes it; raises what the rule refuses."""
    answers, step, outcome = apply(text.keys, dict(state.answers), state.step, button.move)
    submitted, submitted_at, revisions = state.submitted, state.submitted_at, state.revisions
    if outcome is Outcome.SUBMITTED and submitted_at is not None:
        outcome = Outcome.RESUBMITTED
    values: dict[str, object] = {"answers": answers, "step": step, "rev": state.rev + 1, "updated_at": now}
    reads_purchase = False
    if outcome in (Outcome.SUBMITTED, Outcome.RESUBMITTED):
        values["submitted"] = answers
        values["status"] = BallotStatus.SUBMITTED
        submitted = True
        if submitted_at is None:
            values["submitted_at"] = submitted_at = now
            if state.bought_known:
                values["owned_days"] = _days_since(state.bought, now)
            else:
                reads_purchase = True
        else:
            values["revisions"] = revisions = revisions + 1
    params = values | {"b_id": button.ballot_id, "b_rev": button.rev, "b_owner": state.owner, "b_now": now}
    written = _State(state.round_id, state.owner, state.rev + 1, step, answers, submitted, submitted_at, revisions,
                     state.closes_at, state.bought, state.bought_known)
    view = BallotView(
        ballot_id=button.ballot_id, rev=written.rev, round_id=state.round_id, product=text.product,
        factors=text.factors, answers=dict(answers), step=step, submitted=submitted, revisions=revisions,
        closes_at=state.closes_at,
    )
    return _Plan(params, (view, outcome, written), reads_purchase)


def _remembered(texts: Memo[object, object], button: _Press, state: _State, now: datetime) -> _Plan | None:
    """The press planned from memory alone (the remembered ballot, the round's cached texts), when
    that is all it needs; None sends it the full way (`_press`)."""
    hit, text = texts.get(state.round_id)
    if not (hit and isinstance(text, RoundText)):
        return None
    try:
        plan = _plan(text, button, state, now)
    except DomainError:
        return None  # the reading path gives the authoritative answer
    return None if plan.reads_purchase else plan


def _write(
    s: Connection, texts: Memo[object, object], button: _Press, state: _State, now: datetime
) -> tuple[BallotView, Outcome, _State] | None:
    """The compare-and-set of one press on `state`; None when the database disagrees."""
    plan = _plan(round_text(s, texts, state.round_id), button, state, now)
    params = plan.params
    if plan.reads_purchase:
        params = params | {"owned_days": _owned_days(s, button.ballot_id, now)}
    return plan.result if s.execute(CAS, params).rowcount == 1 else None


def _owned_days(s: Connection, ballot_id: int, now: datetime) -> int | None:
    """Days the rater had owned the product when they submitted (screened by `owned_too_briefly`)."""
    return _days_since(s.scalar(BOUGHT, {"b_id": ballot_id}), now)


def _days_since(bought: datetime | None, now: datetime) -> int | None:
    return None if bought is None else (now - bought).days
