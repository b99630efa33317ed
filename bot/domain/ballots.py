"""Recording a ballot: one per round x customer, answered factor by factor, revisable until close.

The step a rater is on lives in the database (`Ballot.step`), so a conversation survives restarts.
Every change bumps `Ballot.rev` through a compare-and-set: a button carrying an older rev is stale,
and two quick taps on the same button count once.
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
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.callbacks import BallotButton
from bot.domain.errors import BadInput, DomainError, ForeignButton, NotInvited, NotLinked, RoundClosed, StaleButton
from bot.domain.memo import Memo, memo_for
from bot.domain.runtime import Runtime
from storage.models import AccountLink, Ballot, Invitation, Product, Round, RoundFactor

NOT_SURE = 0


@dataclass(frozen=True)
class FactorText:
    key: str
    label_en: str
    label_zh: str
    question_en: str
    question_zh: str

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def question(self, lang: str) -> str:
        return self.question_zh if lang == "zh" else self.question_en


@dataclass(frozen=True)
class BallotView:
    """Everything a screen of the rating conversation shows."""

    ballot_id: int
    rev: int
    round_id: int
    product: str
    factors: tuple[FactorText, ...]
    answers: dict[str, int]
    step: int
    submitted: bool
    revisions: int
    closes_at: datetime

    @property
    def screen(self) -> str:
        n = len(self.factors)
        return "factor" if self.step < n else "summary" if self.step == n else "done"


def rater_pseudonym(secret: str, round_id: int, customer_id: str) -> str:
    """A per-round pseudonym: stable within a round, unlinkable across rounds without the secret."""
    mac = hmac.new(secret.encode(), f"rater:{round_id}:{customer_id}".encode(), hashlib.sha256)
    return "r" + mac.hexdigest()[:12]


async def _customer_of(s: AsyncSession, telegram_user_id: int) -> str:
    customer_id = await s.scalar(
        select(AccountLink.customer_id).where(AccountLink.telegram_user_id == telegram_user_id)
    )
    if customer_id is None:
        raise NotLinked()
    return customer_id


@dataclass(frozen=True)
class RoundText:
    """What every screen of a round shows and nothing changes while it is open: its factors are frozen
    at opening (see `RoundFactor`), and the product's name is read once."""

    product: str
    factors: tuple[FactorText, ...]

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.factors]


# Every tap used to read the round, its product and its factors again. They are frozen while the
# round is open, so one read per process serves them all; the entry expires after ROUND_TEXT_TTL
# (which also bounds how long a renamed product keeps its old name here). Whether the round is still
# open is never cached: it is read with the ballot, in the same query, on every tap.
ROUND_TEXT_TTL = 600.0


def _round_texts(rt: Runtime) -> Memo[object, object]:
    return memo_for(rt.db, "round_text", ROUND_TEXT_TTL, max_entries=1_000)


def round_text(s: Connection | Session, texts: Memo[object, object], round_id: int) -> RoundText:
    """The round's product name and frozen factors, from `texts` or else read (plain sync code: it runs
    inside `Database.run` on the tap path, and through `run_sync` elsewhere)."""
    hit, cached = texts.get(round_id)
    if hit and isinstance(cached, RoundText):
        return cached
    product = s.scalar(select(Product.name).join(Round, Round.sku == Product.sku).where(Round.id == round_id))
    factors = s.execute(
        select(RoundFactor.key, RoundFactor.label_en, RoundFactor.label_zh, RoundFactor.question_en,
               RoundFactor.question_zh).where(RoundFactor.round_id == round_id).order_by(RoundFactor.position)
    )
    text = RoundText(str(product), tuple(FactorText(*f) for f in factors))
    if text.factors:  # a round not yet opened has no frozen factors: nothing to keep
        texts.put(round_id, text)
    return text


async def _view(s: AsyncSession, rt: Runtime, ballot: Ballot, closes_at: datetime) -> BallotView:
    texts = _round_texts(rt)
    text = await s.run_sync(lambda sync: round_text(sync, texts, ballot.round_id))
    return BallotView(
        ballot_id=ballot.id, rev=ballot.rev, round_id=ballot.round_id, product=text.product, factors=text.factors,
        answers=dict(ballot.answers), step=ballot.step, submitted=ballot.submitted is not None,
        revisions=ballot.revisions, closes_at=closes_at,
    )


def _is_open(rnd: Round, now: datetime) -> bool:
    return rnd.status == "open" and now < rnd.closes_at


class _Raced(Exception):
    """Another tap changed the ballot between our read and our write."""


async def begin(
    rt: Runtime, round_id: int, telegram_user_id: int, *, shown_in: tuple[int, int] | None = None
) -> BallotView:
    """Starts the user's ballot for a round, or resumes it on a fresh message (older buttons go stale).

    `shown_in` (chat id, message id): the message that will show it, when already known (an edited
    invitation), recorded in the same transaction instead of by `attach_message` afterwards."""
    once = partial(_begin_once, _round_texts(rt), rt.config.require_secret, rt.clock.now(), round_id,
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
    if not (status == "open" and now < closes_at):
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
                "step": step, "rev": rev, "answers": answers, "status": "in_progress", "started_at": now,
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


async def attach_message(rt: Runtime, ballot_id: int, chat_id: int, message_id: int) -> None:
    """Remembers which message shows the ballot, so later screens edit it in place."""
    async with rt.db.session() as s:
        await s.execute(update(Ballot).where(Ballot.id == ballot_id).values(chat_id=chat_id, message_id=message_id))


def _next_step(keys: list[str], answers: dict[str, int], after: int) -> int:
    """The first unanswered factor after `after`, else the summary."""
    for position in range(after + 1, len(keys)):
        if keys[position] not in answers:
            return position
    return len(keys)


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


async def press(rt: Runtime, button: BallotButton, telegram_user_id: int) -> tuple[BallotView, str]:
    """Applies one button press; returns the new screen and what happened ("answered", "submitted", …).

    A tap is one guarded write when this process remembers the ballot at the button's rev, else one
    read (the ballot with its round's status) and one compare-and-set; the new screen is built from
    what was written, not read back. Either way it is one `Database.run`: one trip to the database."""
    now = rt.clock.now()
    memo = _ballot_memo(rt)
    hit, known = memo.get(button.ballot_id)
    if not (hit and isinstance(known, _State) and known.rev == button.rev and known.owner == telegram_user_id
            and now < known.closes_at):
        known = None
    view, outcome, written = await rt.db.run(partial(_press, _round_texts(rt), button, telegram_user_id, now, known))
    memo.put(button.ballot_id, written)
    return view, outcome


def _press(texts: Memo[object, object], button: BallotButton, telegram_user_id: int, now: datetime,
           known: _State | None, s: Connection) -> tuple[BallotView, str, _State]:
    if known is not None:
        try:
            result = _write(s, texts, button, known, now, guarded=True)
        except DomainError:
            result = None  # let the reading path give the authoritative answer
        if result is not None:
            return result
    state = _read(s, button, telegram_user_id, now)
    result = _write(s, texts, button, state, now, guarded=False)
    assert result is not None
    return result


def _read(s: Connection, button: BallotButton, telegram_user_id: int, now: datetime) -> _State:
    row = s.execute(
        select(Ballot.round_id, Ballot.telegram_user_id, Ballot.status, Ballot.rev, Ballot.step, Ballot.answers,
               Ballot.submitted, Ballot.submitted_at, Ballot.revisions, Round.status, Round.closes_at)
        .join(Round, Round.id == Ballot.round_id)
        .where(Ballot.id == button.ballot_id)
    ).one_or_none()
    if row is None:
        raise StaleButton()
    round_id, owner, status, rev, step, answers, submitted, submitted_at, revisions, round_status, closes_at = row
    if owner != telegram_user_id or status == "withdrawn":
        raise ForeignButton()
    if not (round_status == "open" and now < closes_at):
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
    Ballot.telegram_user_id == bindparam("b_owner"), Ballot.status != "withdrawn",
    select(Round.id).where(Round.id == Ballot.round_id, Round.status == "open",
                           Round.closes_at > bindparam("b_now", type_=Round.__table__.c.closes_at.type)).exists(),
)


def _write(
    s: Connection, texts: Memo[object, object], button: BallotButton, state: _State, now: datetime, *, guarded: bool
) -> tuple[BallotView, str, _State] | None:
    """The compare-and-set of one press on `state`; None when `guarded` and the database disagrees."""
    text = round_text(s, texts, state.round_id)
    answers, step, outcome = _apply(text.keys, dict(state.answers), state.step, button.action)
    submitted, submitted_at, revisions = state.submitted, state.submitted_at, state.revisions
    if outcome == "submitted" and submitted_at is not None:
        outcome = "resubmitted"
    values: dict[str, object] = {"answers": answers, "step": step, "rev": state.rev + 1, "updated_at": now}
    if outcome in ("submitted", "resubmitted"):
        values["submitted"] = answers
        values["status"] = "submitted"
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


def _apply(keys: list[str], answers: dict[str, int], step: int, action: str) -> tuple[dict[str, int], int, str]:
    """The pure rule of the conversation: (answers, step) after `action` on the current screen."""
    n = len(keys)
    if step < n:
        if action in ("1", "2", "3", "4", "5", "u"):
            answers[keys[step]] = NOT_SURE if action == "u" else int(action)
            return answers, _next_step(keys, answers, step), "answered"
        if action == "k" and step > 0:
            return answers, step - 1, "back"
    elif step == n:
        if action.startswith("e") and int(action[1:]) < n:
            return answers, int(action[1:]), "editing"
        if action == "s":
            if any(k not in answers for k in keys):
                raise BadInput(detail="incomplete")
            return answers, n + 1, "submitted"
    elif action == "v":
        return answers, n, "revising"
    raise StaleButton()


@dataclass(frozen=True)
class Pending:
    round_id: int
    product: str
    ballot_id: int | None


async def pending_for(rt: Runtime, telegram_user_id: int) -> list[Pending]:
    """Open rounds the user is invited to and has not submitted yet."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        customer_id = await _customer_of(s, telegram_user_id)
        rows = await s.execute(
            select(Round.id, Product.name, Ballot.id, Ballot.submitted)
            .join(Invitation, Invitation.round_id == Round.id)
            .join(Product, Product.sku == Round.sku)
            .outerjoin(Ballot, (Ballot.round_id == Round.id) & (Ballot.customer_id == customer_id))
            .where(Invitation.customer_id == customer_id, Round.status == "open", Round.closes_at > now)
            .order_by(Round.closes_at)
        )
        return [Pending(rid, name, bid) for rid, name, bid, submitted in rows if submitted is None]


@dataclass(frozen=True)
class MyRating:
    product: str
    open: bool
    submitted: bool
    factors: tuple[FactorText, ...]
    answers: dict[str, int]


async def my_ratings(rt: Runtime, telegram_user_id: int) -> list[MyRating]:
    now = rt.clock.now()
    async with rt.db.session() as s:
        customer_id = await _customer_of(s, telegram_user_id)
        ballots = list(await s.scalars(
            select(Ballot).where(Ballot.customer_id == customer_id, Ballot.status != "withdrawn")
            .order_by(Ballot.started_at.desc())
        ))
        out = []
        for b in ballots:
            rnd = await s.get_one(Round, b.round_id)
            view = await _view(s, rt, b, rnd.closes_at)
            out.append(MyRating(view.product, _is_open(rnd, now), b.submitted is not None, view.factors,
                                dict(b.submitted or b.answers)))
        return out
