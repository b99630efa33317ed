"""Research invitations and reminders in the shared outbox (`bot.domain.outbox`), and the results owed
to the publish chat.

Research invitations are rows of the same `invitations` table (with `research_round_id`), so they are
sent by the same sender at the same pace, settled by `outbox.settle` and recovered by
`outbox.recover_stale_claims` with the same at-most-once guarantee; only what is claimed, and what
the message says, differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from bot.domain.outbox import claim_due_reminders, claim_pending
from bot.domain.runtime import Runtime
from bot.domain.settings import pick_language
from bot.domain.words import Bilingual
from storage.models import Category, Invitation, ResearchResponse, ResearchRound, TelegramUser
from storage.statuses import RoundStatus

# A result claimed this long ago belongs to a process that died before posting it.
PUBLISH_CLAIM_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class ResearchInvitation:
    id: int
    research_id: int
    category: str  # in the buyer's language
    sets: int
    closes_at: datetime
    telegram_user_id: int
    language: str


async def _messages(rt: Runtime, ids: list[int]) -> list[ResearchInvitation]:
    if not ids:
        return []
    async with rt.db.session() as s:
        rows = await s.execute(
            select(Invitation.id, Invitation.telegram_user_id, ResearchRound.id, ResearchRound.design,
                   ResearchRound.closes_at, Category.name_en, Category.name_zh, TelegramUser.language,
                   TelegramUser.telegram_language)
            .join(ResearchRound, ResearchRound.id == Invitation.research_round_id)
            .join(Category, Category.key == ResearchRound.category_key)
            .outerjoin(TelegramUser, TelegramUser.user_id == Invitation.telegram_user_id)
            .where(Invitation.id.in_(ids)).order_by(Invitation.id)
        )
        out = []
        for inv_id, user, research_id, design, closes_at, name_en, name_zh, chosen, tg_lang in rows:
            lang = pick_language(tg_lang, chosen, rt.config.default_language)
            out.append(ResearchInvitation(inv_id, research_id, Bilingual(name_en, name_zh)(lang),
                                          int((design or {}).get("sets", 0)), closes_at, user, lang))
        return out


async def claim_invitations(rt: Runtime, limit: int) -> list[ResearchInvitation]:
    """Claims up to `limit` pending invitations of open research rounds, oldest first."""
    async with rt.db.session() as s:
        ids = await claim_pending(s, rt, ResearchRound, Invitation.research_round_id, limit)
    return await _messages(rt, ids)


async def claim_reminders(rt: Runtime, limit: int) -> list[ResearchInvitation]:
    """The one reminder, `rounds.reminder_before` the close, to invited buyers who have not submitted."""
    async with rt.db.session() as s:
        ids = await claim_due_reminders(s, rt, ResearchRound, Invitation.research_round_id, ResearchResponse, limit)
    return await _messages(rt, ids)


@dataclass(frozen=True)
class ResearchPublication:
    research_id: int
    category: Bilingual
    report: dict[str, Any]


async def claim_publications(rt: Runtime) -> list[ResearchPublication]:
    """Closed research rounds whose result is not posted yet, each claimed by one process."""
    now = rt.clock.now()
    unclaimed = or_(ResearchRound.publish_claimed_at.is_(None),
                    ResearchRound.publish_claimed_at < now - PUBLISH_CLAIM_TIMEOUT)
    async with rt.db.session() as s:
        ids = list(await s.scalars(select(ResearchRound.id).where(ResearchRound.status == RoundStatus.CLOSED,
                                                                  ResearchRound.report.is_not(None), unclaimed)))
        out = []
        for research_id in ids:
            claimed = await s.execute(
                update(ResearchRound).where(ResearchRound.id == research_id,
                                            ResearchRound.status == RoundStatus.CLOSED, unclaimed)
                .values(publish_claimed_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            rnd = await s.get_one(ResearchRound, research_id)
            category = await s.get_one(Category, rnd.category_key)
            names = Bilingual(category.name_en, category.name_zh)
            out.append(ResearchPublication(research_id, names, dict(rnd.report or {})))
        return out


async def mark_published(rt: Runtime, research_id: int, message_id: int | None) -> None:
    async with rt.db.session() as s:
        rnd = await s.get_one(ResearchRound, research_id)
        final = RoundStatus.INSUFFICIENT if (rnd.report or {}).get("status") == RoundStatus.INSUFFICIENT \
            else RoundStatus.PUBLISHED
        await s.execute(
            update(ResearchRound).where(ResearchRound.id == research_id, ResearchRound.status == RoundStatus.CLOSED)
            .values(status=final, published_at=rt.clock.now(), publish_message_id=message_id)
        )
