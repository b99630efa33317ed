"""What the rating screens show, read from the database: a ballot's view, the round's frozen texts
(cached per process), the rounds waiting for a rater, and what they have rated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.domain import identity
from bot.domain.memo import Memo, memo_for
from bot.domain.runtime import Runtime
from bot.domain.words import Bilingual
from storage.models import AccountLink, Ballot, Invitation, Product, Round, RoundFactor
from storage.statuses import BallotStatus, RoundStatus


@dataclass(frozen=True)
class FactorText:
    key: str
    label: Bilingual
    question: Bilingual


class BallotScreen(StrEnum):
    FACTOR = "factor"  # a factor's question
    SUMMARY = "summary"  # every answer, each changeable, and submit
    DONE = "done"  # submitted (and changeable until the round closes)


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
    def screen(self) -> BallotScreen:
        n = len(self.factors)
        return BallotScreen.FACTOR if self.step < n else BallotScreen.SUMMARY if self.step == n else BallotScreen.DONE


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


def round_texts(rt: Runtime) -> Memo[object, object]:
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
    text = RoundText(str(product), tuple(FactorText(key, Bilingual(label_en, label_zh), Bilingual(q_en, q_zh))
                                         for key, label_en, label_zh, q_en, q_zh in factors))
    if text.factors:  # a round not yet opened has no frozen factors: nothing to keep
        texts.put(round_id, text)
    return text


async def shown_on(rt: Runtime, ballot_id: int, telegram_user_id: int, chat_id: int,
                   message_id: int) -> BallotView | None:
    """The ballot as it stands now, if it is this user's, its round still takes answers, and the
    message (chat_id, message_id) is the one that shows it; else None."""
    async with rt.db.session() as s:
        row = (await s.execute(
            select(Ballot.round_id, Ballot.rev, Ballot.step, Ballot.answers, Ballot.submitted, Ballot.revisions,
                   Round.status, Round.closes_at)
            .join(Round, Round.id == Ballot.round_id)
            .where(Ballot.id == ballot_id, Ballot.telegram_user_id == telegram_user_id, Ballot.chat_id == chat_id,
                   Ballot.message_id == message_id, Ballot.status != BallotStatus.WITHDRAWN)
        )).one_or_none()
        if row is None or not is_open(row.status, row.closes_at, rt.clock.now()):
            return None
        text = await s.run_sync(round_text, round_texts(rt), row.round_id)
    return BallotView(ballot_id=ballot_id, rev=row.rev, round_id=row.round_id, product=text.product,
                      factors=text.factors, answers=dict(row.answers), step=row.step,
                      submitted=row.submitted is not None, revisions=row.revisions, closes_at=row.closes_at)


def is_open(status: RoundStatus, closes_at: datetime, now: datetime) -> bool:
    """Whether a round takes answers at `now`: open, and its deadline not reached (the scheduler may
    not have closed it yet)."""
    return status == RoundStatus.OPEN and now < closes_at


async def customer_of(s: AsyncSession, telegram_user_id: int) -> str:
    customer_id = await s.scalar(
        select(AccountLink.customer_id).where(AccountLink.telegram_user_id == telegram_user_id)
    )
    if customer_id is None:
        raise await identity.not_linked(s, telegram_user_id)
    return customer_id


@dataclass(frozen=True)
class Pending:
    round_id: int
    product: str
    ballot_id: int | None


async def pending_for(rt: Runtime, telegram_user_id: int) -> list[Pending]:
    """Open rounds the user is invited to and has not submitted yet."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        customer_id = await customer_of(s, telegram_user_id)
        rows = await s.execute(
            select(Round.id, Product.name, Ballot.id, Ballot.submitted)
            .join(Invitation, Invitation.round_id == Round.id)
            .join(Product, Product.sku == Round.sku)
            .outerjoin(Ballot, (Ballot.round_id == Round.id) & (Ballot.customer_id == customer_id))
            .where(Invitation.customer_id == customer_id, Round.status == RoundStatus.OPEN, Round.closes_at > now)
            .order_by(Round.closes_at)
        )
        return [Pending(rid, name, bid) for rid, name, bid, submitted in rows if submitted is None]


class RatingState(StrEnum):
    """Where one of the user's ballots stands, as /myratings lists it."""

    IN_PROGRESS = "in_progress"  # not submitted
    OPEN = "open"  # submitted, and changeable until the round closes
    CLOSED = "closed"  # submitted, and the round is over


@dataclass(frozen=True)
class MyRating:
    """One of the user's ballots: its round's texts, where it stands, and its answers."""

    text: RoundText
    state: RatingState
    answers: dict[str, int]


async def my_ratings(rt: Runtime, telegram_user_id: int) -> list[MyRating]:
    """The user's ballots, newest first, with what counts (the submitted answers, else the draft)."""
    now = rt.clock.now()
    texts = round_texts(rt)
    async with rt.db.session() as s:
        customer_id = await customer_of(s, telegram_user_id)
        ballots = list(await s.scalars(
            select(Ballot).where(Ballot.customer_id == customer_id, Ballot.status != BallotStatus.WITHDRAWN)
            .order_by(Ballot.started_at.desc())
        ))
        out = []
        for b in ballots:
            rnd = await s.get_one(Round, b.round_id)
            text = await s.run_sync(round_text, texts, b.round_id)
            state = (RatingState.IN_PROGRESS if b.submitted is None
                     else RatingState.OPEN if is_open(rnd.status, rnd.closes_at, now) else RatingState.CLOSED)
            out.append(MyRating(text, state, dict(b.submitted or b.answers)))
        return out
