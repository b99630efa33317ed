"""Telegram users as the bot knows them: language preference, opting out."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import Forgotten, NotLinked, UnknownCustomer
from bot.domain.identity import not_linked
from bot.domain.memo import memo_for
from bot.domain.runtime import Runtime
from bot.domain.settings import pick_language
from storage.models import AccountLink, Customer, TelegramUser


async def remember(rt: Runtime, user_id: int, telegram_language: str | None) -> TelegramUser:
    """Records a user the first time they talk to the bot (and when their client language changes)."""
    async with rt.db.session() as s:
        user = await s.get(TelegramUser, user_id)
        if user is None:
            user = TelegramUser(user_id=user_id, telegram_language=telegram_language, first_seen_at=rt.clock.now())
            s.add(user)
        elif telegram_language and user.telegram_language != telegram_language:
            user.telegram_language = telegram_language
        return user


# Every update needs the user's /language choice; reading it from the database each time was one
# query per tap. This process forgets a user's entry the moment it records a new choice; a choice
# made through another process (several bots on one database) shows here within LANGUAGE_TTL.
LANGUAGE_TTL = 60.0
# Built once, as the tap's statements are (`bot.domain.ballots`): a rater's first tap reads it.
_LANGUAGE = select(TelegramUser.language).where(TelegramUser.user_id == bindparam("user_id"))


async def language_of(rt: Runtime, user_id: int, telegram_language: str | None) -> str:
    memo = memo_for(rt.db, "language", LANGUAGE_TTL)
    hit, chosen = memo.get(user_id)
    if not hit:
        # One read, no transaction around it: on PostgreSQL one trip instead of five (see `Database.run`).
        chosen = await rt.db.run(lambda s: s.scalar(_LANGUAGE, {"user_id": user_id}), atomic=False)
        memo.put(user_id, chosen)
    return pick_language(telegram_language, chosen if isinstance(chosen, str) else None,
                         rt.config.default_language)


def note_language(rt: Runtime, user_id: int, chosen: str | None) -> None:
    """What the database holds as `user_id`'s /language choice (None: none), read along with something
    else in the same trip: the `language_of` that follows needs no read of its own."""
    memo_for(rt.db, "language", LANGUAGE_TTL).put(user_id, chosen)


async def set_language(rt: Runtime, user_id: int, language: str) -> None:
    await remember(rt, user_id, None)
    async with rt.db.session() as s:
        await s.execute(update(TelegramUser).where(TelegramUser.user_id == user_id).values(language=language))
    memo_for(rt.db, "language", LANGUAGE_TTL).drop(user_id)


async def opt_out(rt: Runtime, user_id: int) -> None:
    """Stops all further invitations to the user's customer (/start resumes them); NotLinked (or
    Forgotten) when the user has no customer."""
    async with rt.db.session() as s:
        (await _customer_of(s, user_id)).opted_out = True


class Standing(StrEnum):
    """Where a user stands, as /start tells them."""

    NOT_LINKED = "not_linked"
    FORGOTTEN = "forgotten"  # they used /forgetme
    LINKED = "linked"  # linked, and invited
    RESUMED = "resumed"  # linked, and invited again from now: they had stopped invitations
    PAUSED = "paused"  # linked, but an admin excluded their customer: no invitations, whatever they do


async def resume(rt: Runtime, user_id: int) -> Standing:
    """/start: a linked user who had stopped invitations gets them again; says where the user stands."""
    async with rt.db.session() as s:
        try:
            customer = await _customer_of(s, user_id)
        except Forgotten:
            return Standing.FORGOTTEN
        except NotLinked:
            return Standing.NOT_LINKED
        was_out, customer.opted_out = customer.opted_out, False
    if customer.excluded_by_admin:
        return Standing.PAUSED
    return Standing.RESUMED if was_out else Standing.LINKED


async def _customer_of(s: AsyncSession, user_id: int) -> Customer:
    """The user's customer, locked for the change; NotLinked (or Forgotten) when they have none."""
    customer = await s.scalar(select(Customer).join(AccountLink, AccountLink.customer_id == Customer.customer_id)
                              .where(AccountLink.telegram_user_id == user_id).with_for_update(of=Customer))
    if customer is None:
        raise await not_linked(s, user_id)
    return customer


async def exclude(rt: Runtime, customer_id: str) -> None:
    """An admin's exclusion: the customer is not invited again and their ballots are screened out."""
    async with rt.db.session() as s:
        customer = await s.get(Customer, customer_id)
        if customer is None:
            raise UnknownCustomer(customer_id=customer_id)
        customer.excluded_by_admin = True
