"""Messages the bot owes people, kept in the database until sent: invitations, scorecards, thanks.

Delivery guarantee: at most once. A row is claimed (`pending → sending`, committed) before the
Telegram call and settled after it. If the process dies in between, the row stays `sending` and is
never sent again: a buyer asked twice to rate the same product is worse for trust than one lost
invitation, and Telegram gives no idempotency key that would let us retry safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from bot.domain.runtime import Runtime
from bot.texts import pick_language
from storage.models import Ballot, Invitation, Product, Round, RoundFactor, TelegramUser

# A scorecard claim older than this is presumed to belong to a process that died before posting.
PUBLISH_CLAIM_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class InvitationMessage:
    id: int
    round_id: int
    telegram_user_id: int
    product: str
    purchased_at: datetime | None
    factors: int
    closes_at: datetime
    language: str


async def claim_invitations(rt: Runtime, limit: int) -> list[InvitationMessage]:
    """Claims up to `limit` pending invitations of open rounds for sending, oldest first."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        query = (
            select(Invitation.id)
            .join(Round, Round.id == Invitation.round_id)
            .where(Invitation.status == "pending", Round.status == "open", Round.closes_at > now)
            .order_by(Invitation.id)
            .limit(limit)
        )
        if not rt.db.is_sqlite:
            query = query.with_for_update(of=Invitation, skip_locked=True)
        ids = list(await s.scalars(query))
        if not ids:
            return []
        await s.execute(
            update(Invitation).where(Invitation.id.in_(ids), Invitation.status == "pending")
            .values(status="sending", claimed_at=now, attempts=Invitation.attempts + 1)
        )
        factor_counts = (
            select(RoundFactor.round_id, func.count().label("n")).group_by(RoundFactor.round_id).subquery()
        )
        rows = await s.execute(
            select(Invitation, Product.name, Round.closes_at, factor_counts.c.n,
                   TelegramUser.language, TelegramUser.telegram_language)
            .join(Round, Round.id == Invitation.round_id)
            .join(Product, Product.sku == Round.sku)
            .join(factor_counts, factor_counts.c.round_id == Round.id)
            .outerjoin(TelegramUser, TelegramUser.user_id == Invitation.telegram_user_id)
            .where(Invitation.id.in_(ids), Invitation.status == "sending", Invitation.claimed_at == now)
            .order_by(Invitation.id)
        )
        return [
            InvitationMessage(inv.id, inv.round_id, inv.telegram_user_id, name, inv.purchased_at, n, closes,
                              pick_language(tg_lang, chosen, rt.config.bot.default_language))
            for inv, name, closes, n, chosen, tg_lang in rows
        ]


async def settle_invitation(
    rt: Runtime, invitation_id: int, status: str, *, message_id: int | None = None, error: str | None = None
) -> None:
    """Records how sending went: sent, unreachable (403: never retried), failed, or pending (retry)."""
    values: dict[str, Any] = {"status": status, "error": error}
    if status == "sent":
        values.update(sent_at=rt.clock.now(), message_id=message_id)
    async with rt.db.session() as s:
        await s.execute(update(Invitation).where(Invitation.id == invitation_id).values(**values))


async def decline(rt: Runtime, round_id: int, telegram_user_id: int) -> None:
    async with rt.db.session() as s:
        await s.execute(
            update(Invitation)
            .where(Invitation.round_id == round_id, Invitation.telegram_user_id == telegram_user_id)
            .values(declined_at=rt.clock.now())
        )


@dataclass(frozen=True)
class Publication:
    round_id: int
    product: str
    category: str
    report: dict[str, Any]
    factors: tuple[tuple[str, str, str], ...]  # key, label_en, label_zh


async def claim_publications(rt: Runtime) -> list[Publication]:
    """Closed rounds whose scorecard is not posted yet, claimed so only one process posts each."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        ids = list(await s.scalars(
            select(Round.id).where(
                Round.status == "closed",
                or_(Round.publish_claimed_at.is_(None), Round.publish_claimed_at < now - PUBLISH_CLAIM_TIMEOUT),
            )
        ))
        out = []
        for round_id in ids:
            claimed = await s.execute(
                update(Round).where(
                    Round.id == round_id, Round.status == "closed",
                    or_(Round.publish_claimed_at.is_(None), Round.publish_claimed_at < now - PUBLISH_CLAIM_TIMEOUT),
                ).values(publish_claimed_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            rnd = await s.get_one(Round, round_id)
            product = await s.get_one(Product, rnd.sku)
            factors = await s.execute(
                select(RoundFactor.key, RoundFactor.label_en, RoundFactor.label_zh)
                .where(RoundFactor.round_id == round_id).order_by(RoundFactor.position)
            )
            assert rnd.report is not None
            out.append(Publication(round_id, product.name, rnd.category_key, dict(rnd.report),
                                   tuple((k, en, zh) for k, en, zh in factors)))
        return out


async def mark_published(rt: Runtime, round_id: int, message_id: int | None) -> None:
    async with rt.db.session() as s:
        rnd = await s.get_one(Round, round_id)
        final = "insufficient" if (rnd.report or {}).get("status") == "insufficient" else "published"
        await s.execute(
            update(Round).where(Round.id == round_id, Round.status == "closed")
            .values(status=final, published_at=rt.clock.now(), publish_message_id=message_id)
        )


@dataclass(frozen=True)
class ThankYou:
    ballot_id: int
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
            .where(Round.status.in_(("published", "insufficient")), Ballot.submitted_at.is_not(None),
                   Ballot.thanked_at.is_(None), Ballot.telegram_user_id.is_not(None))
            .limit(limit)
        ))
        out = []
        for ballot_id, user_id, name, report, chosen, tg_lang in rows:
            claimed = await s.execute(
                update(Ballot).where(Ballot.id == ballot_id, Ballot.thanked_at.is_(None)).values(thanked_at=now)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                out.append(ThankYou(ballot_id, user_id, name, dict(report or {}),
                                    pick_language(tg_lang, chosen, rt.config.bot.default_language)))
        return out
