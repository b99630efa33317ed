"""The scheduler's one job: reconcile what the database says is due with what has been done.

It runs every `rounds.tick` (and right after an admin command) and reads all due work from the
database, so a restart, an overlapping run or a second process loses and repeats nothing: the domain
functions claim each piece of work with a compare-and-set before doing it.

Rounds are opened and closed first; only then are reminders and invitations sent, within a time
budget, through one `Pacer` per process that keeps Telegram's flood limits (`bot.sender`). A run that
spends its budget with messages still owed schedules the next run at once, so a campaign goes out at
the full rate while closes and publications are still checked every budget.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from telegram import Bot, Message
from telegram.error import RetryAfter

from bot import publishing, research_jobs
from bot.config import Config
from bot.context import Context
from bot.domain import outbox, research_outbox, rounds
from bot.domain.runtime import Runtime
from bot.research_screens import invitation_screen as research_invitation_screen
from bot.screens import Screen, invitation_screen, when
from bot.sender import Campaign, pacer_for, send_paced
from bot.texts import t
from storage.statuses import InvitationStatus

log = logging.getLogger(__name__)

# Enough requests in flight to keep a loopback or a real Telegram busy at 1000/s; the pacer, not the
# number of workers, decides the rate.
WORKERS = 32
# A claim covers about this many seconds of sending: small, so a crash leaves few rows in doubt.
CLAIM_SECONDS = 0.5


async def reconcile(context: Context) -> None:
    """Opens due rounds, closes due rounds, posts scorecards, thanks raters, then sends within a budget."""
    shared = context.bot_data
    rt = shared.runtime
    more = await run_once(context.bot, rt, budget=max(rt.config.rounds.tick.total_seconds() * 0.8, 1.0),
                          campaign=shared.campaign)
    # Out of budget with messages still owed: run again at once rather than idle until the next tick,
    # so the sender keeps the full rate while rounds still get opened and closed between budgets.
    if more:
        shared.wake()


def campaign_for(config: Config) -> Campaign:
    """A process's sending state, paced as the config asks."""
    return Campaign(pacer_for(config.telegram.paid_broadcast, config.telegram.send_rate))


async def run_once(bot: Bot, rt: Runtime[Config], budget: float, campaign: Campaign) -> bool:
    """One reconcile pass; True when it stopped for its time budget with messages still owed."""
    # Rounds open and close first: a long campaign must never delay a close or a publication.
    for round_id in await rounds.due_to_open(rt):
        if await rounds.open_round(rt, round_id):
            log.info("round %s opened", round_id)
    for round_id in await rounds.due_to_close(rt):
        if await rounds.close_round(rt, round_id):
            log.info("round %s closed", round_id)
    await research_jobs.reconcile(bot, rt)
    await publish(bot, rt)
    await thank(bot, rt, campaign)
    if in_doubt := await outbox.recover_stale_claims(rt):
        log.warning("%s messages were claimed by a process that stopped; marked unknown, not resent", in_doubt)
    if campaign.sending.locked():
        # The regular tick and a wake-up overlap: the run already sending keeps going alone, so this
        # process never holds more than one claimed batch (the most a crash can leave in doubt).
        return False
    async with campaign.sending:
        deadline = time.monotonic() + budget
        await send_reminders(bot, rt, campaign, deadline)
        await send_invitations(bot, rt, campaign, deadline)
        # Research invitations share the outbox table, the pacer and the budget (bot.domain.research_outbox).
        await _drain(bot, rt, campaign, deadline, reminders=True, research=True)
        await _drain(bot, rt, campaign, deadline, reminders=False, research=True)
        return time.monotonic() >= deadline and not campaign.halt.is_set()


async def send_invitations(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float) -> int:
    """Drains the invitation outbox until it is empty, the time budget is spent, or a halt."""
    return await _drain(bot, rt, campaign, deadline, reminders=False)


async def send_reminders(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float) -> int:
    """Sends the one reminder each invited, silent buyer gets `rounds.reminder_before` the close."""
    return await _drain(bot, rt, campaign, deadline, reminders=True)


Owed = outbox.InvitationMessage | research_outbox.ResearchInvitation


async def _drain(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float, *, reminders: bool,
                 research: bool = False) -> int:
    batch_size = max(1, min(200, math.ceil(campaign.pacer.rate * CLAIM_SECONDS)))
    claim: Callable[[Runtime[Config], int], Awaitable[Sequence[Owed]]] = (
        (research_outbox.claim_reminders if reminders else research_outbox.claim_invitations) if research
        else outbox.claim_reminders if reminders else outbox.claim_invitations
    )
    sent = 0
    while time.monotonic() < deadline and not campaign.halt.is_set():
        batch = await claim(rt, batch_size)
        if not batch:
            break
        settled = await _send_batch(bot, rt, campaign, batch, deadline, reminders=reminders)
        sent += sum(1 for x in settled if x.status is InvitationStatus.SENT)
    return sent


async def _send_batch(
    bot: Bot, rt: Runtime[Config], campaign: Campaign, batch: Sequence[Owed], deadline: float,
    *, reminders: bool,
) -> list[outbox.Settlement]:
    """Sends a claimed batch with a few workers; settles what went out, releases what never left."""
    queue = list(reversed(batch))
    settled: list[outbox.Settlement] = []

    async def worker() -> None:
        while queue and not campaign.halt.is_set() and time.monotonic() < deadline:
            invitation = queue.pop()
            if isinstance(invitation, research_outbox.ResearchInvitation):
                screen = research_invitation_screen(invitation, reminder=reminders)
            else:
                screen = reminder_screen(invitation) if reminders else invitation_screen(invitation)
            delivery = await send_paced(campaign.pacer, invitation.telegram_user_id,
                                        _sender(bot, rt, invitation.telegram_user_id, screen), campaign.stats)
            settled.append(outbox.Settlement(invitation.id, InvitationStatus(delivery.outcome), delivery.message_id,
                                             delivery.error))

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(WORKERS, len(batch))):
                group.create_task(worker())
    finally:
        # Also on cancellation: record what went out, hand back what never left, so nothing is lost.
        unsent = [inv.id for inv in queue]
        await asyncio.shield(outbox.settle(rt, settled, unsent, reminders=reminders))
    return settled


def _sender(bot: Bot, rt: Runtime[Config], chat_id: int, screen: Screen) -> Callable[[], Awaitable[Message]]:
    paid = rt.config.telegram.paid_broadcast
    return lambda: bot.send_message(chat_id, screen.text, parse_mode="HTML", reply_markup=screen.markup,
                                    allow_paid_broadcast=True if paid else None)


def reminder_screen(inv: outbox.InvitationMessage) -> Screen:
    """The reminder: the invitation's buttons under a shorter text with the deadline."""
    text = t(inv.language, "remind.text", product=inv.product,
             closes_at=when(inv.closes_at, inv.language))
    return Screen(text, invitation_screen(inv).markup)


async def publish(bot: Bot, rt: Runtime[Config]) -> None:
    """Posts each closed round's scorecard to the publish chat, then marks it published."""
    for publication in await outbox.claim_publications(rt):
        try:
            message_id = await publishing.post_scorecard(bot, rt, publication)
        except RetryAfter:
            # The chat's own limit (Telegram allows a bot about 20 posts a minute in a group or channel).
            # This round and any claimed after it stay claimed and are posted once the claim expires
            # (outbox.PUBLISH_CLAIM_TIMEOUT), well past any retry_after; the invitations and thanks of
            # this pass go on meanwhile.
            log.warning("round %s: the publish chat is rate-limited; posting it later", publication.round_id)
            return
        await outbox.mark_published(rt, publication.round_id, message_id)
        log.info("round %s published", publication.round_id)


async def thank(bot: Bot, rt: Runtime[Config], campaign: Campaign) -> None:
    """Tells every rater of a published round the result, once, paced like the invitations.

    A round's raters are all thanked when it is published, so these sends meet Telegram's limits as a
    campaign does: a 429 waits and retries (unpaced, the first 429 ended the pass, and the rest of the
    claimed batch was never thanked)."""
    for thanks in await outbox.claim_thanks(rt):
        text = publishing.thanks_text(thanks)
        delivery = await send_paced(campaign.pacer, thanks.telegram_user_id,
                                    partial(bot.send_message, thanks.telegram_user_id, text, parse_mode="HTML"),
                                    campaign.stats)
        if delivery.outcome != "sent":
            log.info("rater %s not thanked (%s): %s", thanks.telegram_user_id, delivery.outcome, delivery.error)
