"""Recording a ballot: one per round x customer, answered factor by factor, revisable until close.

The step a rater is on lives in the database (`Ballot.step`), so a conversation survives restarts.
Every change bumps `Ballot.rev` through a compare-and-set: a button carrying an older rev is stale,
and two quick taps on the same button count once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import BallotButton
from bot.domain.errors import BadInput, ForeignButton, NotInvited, NotLinked, RoundClosed, StaleButton
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


async def _view(s: AsyncSession, ballot: Ballot) -> BallotView:
    rnd = await s.get_one(Round, ballot.round_id)
    product = await s.get_one(Product, rnd.sku)
    factors = await s.scalars(
        select(RoundFactor).where(RoundFactor.round_id == rnd.id).order_by(RoundFactor.position)
    )
    return BallotView(
        ballot_id=ballot.id, rev=ballot.rev, round_id=rnd.id, product=product.name,
        factors=tuple(FactorText(f.key, f.label_en, f.label_zh, f.question_en, f.question_zh) for f in factors),
        answers=dict(ballot.answers), step=ballot.step, submitted=ballot.submitted is not None,
        revisions=ballot.revisions, closes_at=rnd.closes_at,
    )


def _is_open(rnd: Round, now: datetime) -> bool:
    return rnd.status == "open" and now < rnd.closes_at


async def begin(rt: Runtime, round_id: int, telegram_user_id: int) -> BallotView:
    """Starts the user's ballot for a round, or resumes it on a fresh message (older buttons go stale)."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        customer_id = await _customer_of(s, telegram_user_id)
        rnd = await s.get(Round, round_id)
        if rnd is None or not _is_open(rnd, now):
            raise RoundClosed(round_id=round_id)
        invited = await s.scalar(
            select(Invitation.id).where(Invitation.round_id == round_id, Invitation.customer_id == customer_id)
        )
        if invited is None:
            raise NotInvited(round_id=round_id)
        ballot = await s.scalar(
            select(Ballot).where(Ballot.round_id == round_id, Ballot.customer_id == customer_id)
        )
        if ballot is None:
            ballot = await _create(s, rt, rnd, customer_id, telegram_user_id, now)
        ballot.rev += 1
        ballot.telegram_user_id = telegram_user_id
        if ballot.submitted is not None:
            ballot.step = len(await _factor_keys(s, round_id)) + 1
        return await _view(s, ballot)


async def _create(
    s: AsyncSession, rt: Runtime, rnd: Round, customer_id: str, user_id: int, now: datetime
) -> Ballot:
    ballot = Ballot(
        round_id=rnd.id, customer_id=customer_id, telegram_user_id=user_id, chat_id=user_id,
        rater=rater_pseudonym(rt.config.require_secret(), rnd.id, customer_id), step=0, rev=0,
        answers={}, status="in_progress", started_at=now, updated_at=now,
    )
    try:
        async with s.begin_nested():
            s.add(ballot)
    except IntegrityError:
        # A second tap raced us to create it: the database keeps one ballot per round x customer.
        existing = await s.scalar(
            select(Ballot).where(Ballot.round_id == rnd.id, Ballot.customer_id == customer_id)
        )
        assert existing is not None
        return existing
    return ballot


async def attach_message(rt: Runtime, ballot_id: int, chat_id: int, message_id: int) -> None:
    """Remembers which message shows the ballot, so later screens edit it in place."""
    async with rt.db.session() as s:
        await s.execute(update(Ballot).where(Ballot.id == ballot_id).values(chat_id=chat_id, message_id=message_id))


async def _factor_keys(s: AsyncSession, round_id: int) -> list[str]:
    rows = await s.scalars(
        select(RoundFactor.key).where(RoundFactor.round_id == round_id).order_by(RoundFactor.position)
    )
    return list(rows)


def _next_step(keys: list[str], answers: dict[str, int], after: int) -> int:
    """The first unanswered factor after `after`, else the summary."""
    for position in range(after + 1, len(keys)):
        if keys[position] not in answers:
            return position
    return len(keys)


async def press(rt: Runtime, button: BallotButton, telegram_user_id: int) -> tuple[BallotView, str]:
    """Applies one button press; returns the new screen and what happened ("answered", "submitted", …)."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        ballot = await s.get(Ballot, button.ballot_id)
        if ballot is None:
            raise StaleButton()
        if ballot.telegram_user_id != telegram_user_id or ballot.status == "withdrawn":
            raise ForeignButton()
        rnd = await s.get_one(Round, ballot.round_id)
        if not _is_open(rnd, now):
            raise RoundClosed(round_id=rnd.id)
        if ballot.rev != button.rev:
            raise StaleButton()
        keys = await _factor_keys(s, rnd.id)
        answers, step, outcome = _apply(keys, dict(ballot.answers), ballot.step, button.action)
        if outcome == "submitted" and ballot.submitted_at is not None:
            outcome = "resubmitted"
        values: dict[str, object] = {"answers": answers, "step": step, "rev": ballot.rev + 1, "updated_at": now}
        if outcome in ("submitted", "resubmitted"):
            values["submitted"] = answers
            values["status"] = "submitted"
            if ballot.submitted_at is None:
                values["submitted_at"] = now
                values["owned_days"] = await _owned_days(s, ballot, now)
            else:
                values["revisions"] = ballot.revisions + 1
        done = await s.execute(
            update(Ballot).where(Ballot.id == ballot.id, Ballot.rev == button.rev).values(**values)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleButton()  # another tap on the same screen won the race
        await s.refresh(ballot)
        return await _view(s, ballot), outcome


async def _owned_days(s: AsyncSession, ballot: Ballot, now: datetime) -> int | None:
    """Days the rater had owned the product when they submitted (screened by `owned_too_briefly`)."""
    bought = await s.scalar(
        select(Invitation.purchased_at)
        .where(Invitation.round_id == ballot.round_id, Invitation.customer_id == ballot.customer_id)
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
            view = await _view(s, b)
            rnd = await s.get_one(Round, b.round_id)
            out.append(MyRating(view.product, _is_open(rnd, now), b.submitted is not None, view.factors,
                                dict(b.submitted or b.answers)))
        return out
