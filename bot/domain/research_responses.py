"""Recording a research response: one per research round x customer, answered set by set, revisable
until the round closes.

As for ballots, the screen a respondent is on lives in the database (`ResearchResponse.step`), so the
conversation survives leaving and restarts, and every change bumps `rev` through a compare-and-set:
a move made on an older rev is stale, and two quick taps count once. What a move does is the pure
rule in `bot.domain.research_rule`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import ForeignButton, NotInvited, NotLinked, RoundClosed, StaleButton
from bot.domain.research_rule import Picks, ResearchMove, ResearchOutcome, apply
from bot.domain.runtime import Runtime
from bot.domain.words import Bilingual
from scoring.maxdiff import respondent_sets
from storage.models import AccountLink, Invitation, ResearchResponse, ResearchRound
from storage.statuses import BallotStatus, RoundStatus


@dataclass(frozen=True)
class Candidate:
    key: str
    label: Bilingual


@dataclass(frozen=True)
class ResponseView:
    """What the respondent's one message shows."""

    response_id: int
    rev: int
    research_id: int
    category: Bilingual
    sets: list[list[Candidate]]
    picks: Picks
    step: int
    submitted: bool
    revisions: int
    closes_at: datetime


def pseudonym(secret: str, research_id: int, customer_id: str) -> str:
    """Per research round, unlinkable to the customer and across rounds without the secret."""
    return "q" + hmac.new(secret.encode(), f"research:{research_id}:{customer_id}".encode(),
                          hashlib.sha256).hexdigest()[:12]


def _open(rnd: ResearchRound | None, now: datetime) -> bool:
    return rnd is not None and rnd.status == RoundStatus.OPEN and now < rnd.closes_at


def _view(row: ResearchResponse, rnd: ResearchRound, **now: Any) -> ResponseView:
    """The screen's view from the row as read, with `now` (rev, step, picks, ...) as just written: built
    without reading back, so a tap is one transaction."""
    design = rnd.design or {}
    labels = {c["key"]: Candidate(c["key"], Bilingual(c["label_en"], c["label_zh"])) for c in design["candidates"]}
    category = Bilingual(design.get("category_en", rnd.category_key), design.get("category_zh", rnd.category_key))
    picks = now.get("picks", row.picks)
    return ResponseView(row.id, now.get("rev", row.rev), rnd.id, category,
                        [[labels[k] for k in shown] for shown in row.sets], {k: list(v) for k, v in picks.items()},
                        now.get("step", row.step), now.get("submitted", row.submitted) is not None,
                        now.get("revisions", row.revisions), rnd.closes_at)


async def begin(rt: Runtime, research_id: int, telegram_user_id: int, *,
                shown_in: tuple[int, int] | None = None) -> ResponseView:
    """Starts the user's response, or resumes it where they left it (older buttons go stale)."""
    try:
        return await _begin(rt, research_id, telegram_user_id, shown_in)
    except IntegrityError:
        # A second tap created it at the same moment: the database kept one; resume that one.
        return await _begin(rt, research_id, telegram_user_id, shown_in)


async def _begin(rt: Runtime, research_id: int, telegram_user_id: int,
                 shown_in: tuple[int, int] | None) -> ResponseView:
    now = rt.clock.now()
    async with rt.db.session() as s:
        customer_id = await s.scalar(
            select(AccountLink.customer_id).where(AccountLink.telegram_user_id == telegram_user_id)
        )
        if customer_id is None:
            raise NotLinked()
        rnd = await s.get(ResearchRound, research_id)
        if rnd is None or not _open(rnd, now):
            raise RoundClosed(round_id=research_id)
        invited = await s.scalar(select(Invitation.id).where(Invitation.research_round_id == research_id,
                                                              Invitation.customer_id == customer_id))
        if invited is None:
            raise NotInvited(round_id=research_id)
        row = await s.scalar(
            select(ResearchResponse).where(ResearchResponse.round_id == research_id,
                                           ResearchResponse.customer_id == customer_id).with_for_update()
        )
        shown = {"chat_id": shown_in[0], "message_id": shown_in[1]} if shown_in else {}
        if row is None:
            design = rnd.design or {}
            keys = [c["key"] for c in design["candidates"]]
            index = await s.scalar(select(func.count()).select_from(ResearchResponse)
                                   .where(ResearchResponse.round_id == research_id)) or 0
            sets = [[keys[i] for i in shown_set] for shown_set in
                    respondent_sets(len(keys), int(design["seed"]), index, int(design["sets"]),
                                    int(design["set_size"]))]
            row = ResearchResponse(
                round_id=research_id, customer_id=customer_id, rater=pseudonym(rt.config.require_secret(),
                                                                                research_id, customer_id),
                respondent=index, sets=sets, telegram_user_id=telegram_user_id, step=0, rev=1, picks={},
                status=BallotStatus.IN_PROGRESS, started_at=now, updated_at=now, revisions=0,
                **({"chat_id": telegram_user_id} | shown),
            )
            s.add(row)
            await s.flush()
        else:
            if row.status == BallotStatus.WITHDRAWN:
                raise RoundClosed(round_id=research_id)
            row.rev += 1
            row.telegram_user_id = telegram_user_id
            if row.submitted is not None:
                row.step = 2 * len(row.sets) + 1
            for name, value in shown.items():
                setattr(row, name, value)
        return _view(row, rnd)


async def attach_message(rt: Runtime, response_id: int, chat_id: int, message_id: int) -> None:
    async with rt.db.session() as s:
        await s.execute(update(ResearchResponse).where(ResearchResponse.id == response_id)
                        .values(chat_id=chat_id, message_id=message_id))


async def press(rt: Runtime, response_id: int, rev: int, move: ResearchMove,
                telegram_user_id: int) -> tuple[ResponseView, ResearchOutcome]:
    """Makes one move on the response as it stood at `rev`; the new screen and what the move did."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        row = await s.get(ResearchResponse, response_id, with_for_update=True)
        if row is None:
            raise StaleButton()
        if row.telegram_user_id != telegram_user_id:
            raise ForeignButton()
        rnd = await s.get_one(ResearchRound, row.round_id)
        if not _open(rnd, now) or row.status == BallotStatus.WITHDRAWN:
            raise RoundClosed(round_id=row.round_id)
        if row.rev != rev:
            raise StaleButton()
        picks, step, outcome = apply([len(x) for x in row.sets], {k: list(v) for k, v in row.picks.items()},
                                     row.step, move)
        values: dict[str, object] = {"picks": picks, "step": step, "rev": rev + 1, "updated_at": now}
        if outcome is ResearchOutcome.SUBMITTED:
            if row.submitted is not None:
                outcome = ResearchOutcome.RESUBMITTED
                values["revisions"] = row.revisions + 1
            else:
                values["seconds"] = (now - row.started_at).total_seconds()
            values.update(submitted=picks, submitted_at=now, status=BallotStatus.SUBMITTED)
        # The compare-and-set: a concurrent tap that read the same rev finds it gone and is stale.
        done = await s.execute(update(ResearchResponse)
                               .where(ResearchResponse.id == response_id, ResearchResponse.rev == rev).values(**values)
                               .execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleButton()
        return _view(row, rnd, **values), outcome


async def forget(s: AsyncSession, customer_id: str, now: datetime) -> None:
    """A buyer asked to be forgotten (`bot.domain.privacy.forget`, in its transaction): their responses
    to open research rounds are withdrawn (never counted); those of closed rounds stay, anonymously, so
    a published result stays recomputable."""
    rows = await s.execute(
        select(ResearchResponse, ResearchRound.status)
        .join(ResearchRound, ResearchRound.id == ResearchResponse.round_id)
        .where(ResearchResponse.customer_id == customer_id)
    )
    for response, status in rows:
        response.telegram_user_id = response.chat_id = response.message_id = None
        if status in (RoundStatus.SCHEDULED, RoundStatus.OPEN):
            response.status, response.picks, response.submitted = BallotStatus.WITHDRAWN, {}, None
            response.updated_at, response.rev = now, response.rev + 1  # its old buttons go stale
        else:
            response.customer_id = None
            response.rater = "q" + secrets.token_hex(6)  # random: no secret leads back to the person
