"""The scheduler's one job: reconcile what the database says is due with what has been done.

It runs every `rounds.tick` (and right after an admin command) and reads all due work from the
database, so a restart, an overlapping run or a second process loses and repeats nothing: the domain
functions claim each piece of work with a compare-and-set before doing it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot import publishing
from bot.domain import outbox, rounds
from bot.domain.runtime import Runtime
from bot.screens import invitation_screen

log = logging.getLogger(__name__)

# Telegram allows about 30 messages a second overall; stay just under it.
SEND_RATE = 28.0
BATCH = 50
NETWORK_RETRIES = 3


async def reconcile(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Opens due rounds, sends invitations, closes due rounds, posts scorecards, thanks raters."""
    rt: Runtime = context.bot_data["runtime"]
    await run_once(context.bot, rt, budget=max(rt.config.rounds.tick.total_seconds() * 0.8, 1.0))


async def run_once(bot: Bot, rt: Runtime, budget: float = 10.0) -> None:
    for round_id in await rounds.due_to_open(rt):
        if await rounds.open_round(rt, round_id):
            log.info("round %s opened", round_id)
    for round_id in await rounds.due_to_close(rt):
        if await rounds.close_round(rt, round_id):
            log.info("round %s closed", round_id)
    await publish(bot, rt)
    await thank(bot, rt)
    await send_invitations(bot, rt, deadline=time.monotonic() + budget)


async def send_invitations(bot: Bot, rt: Runtime, deadline: float) -> int:
    """Drains the invitation outbox until it is empty or the time budget is spent."""
    sent = 0
    interval = 1.0 / SEND_RATE
    while time.monotonic() < deadline:
        batch = await outbox.claim_invitations(rt, BATCH)
        if not batch:
            break
        for invitation in batch:
            started = time.monotonic()
            await _send_invitation(bot, rt, invitation)
            sent += 1
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
    return sent


async def _send_invitation(bot: Bot, rt: Runtime, invitation: outbox.InvitationMessage) -> None:
    screen = invitation_screen(invitation)
    for attempt in range(NETWORK_RETRIES + 1):
        try:
            message = await bot.send_message(invitation.telegram_user_id, screen.text, parse_mode="HTML",
                                             reply_markup=screen.markup)
        except RetryAfter as flood:
            await asyncio.sleep(float(flood.retry_after if isinstance(flood.retry_after, int | float)
                                      else flood.retry_after.total_seconds()))
            continue
        except Forbidden as exc:
            await outbox.settle_invitation(rt, invitation.id, "unreachable", error=exc.message)
            return
        except TimedOut:
            # The request may have reached Telegram: retrying could send it twice (see outbox).
            await outbox.settle_invitation(rt, invitation.id, "failed", error="timed out; delivery unknown")
            return
        except BadRequest as exc:
            await outbox.settle_invitation(rt, invitation.id, "failed", error=exc.message)
            return
        except NetworkError:
            await asyncio.sleep(0.5 * 2**attempt)
            continue
        await outbox.settle_invitation(rt, invitation.id, "sent", message_id=message.message_id)
        return
    await outbox.settle_invitation(rt, invitation.id, "failed", error="gave up after retries")


async def publish(bot: Bot, rt: Runtime) -> None:
    """Posts each closed round's scorecard to the publish chat, then marks it published."""
    for publication in await outbox.claim_publications(rt):
        message_id = await publishing.post_scorecard(bot, rt, publication)
        await outbox.mark_published(rt, publication.round_id, message_id)
        log.info("round %s published", publication.round_id)


async def thank(bot: Bot, rt: Runtime) -> None:
    """Tells every rater of a published round the result, once."""
    for thanks in await outbox.claim_thanks(rt):
        try:
            await bot.send_message(thanks.telegram_user_id, publishing.thanks_text(thanks), parse_mode="HTML")
        except Forbidden:
            log.info("rater %s blocked the bot; not thanked", thanks.telegram_user_id)
