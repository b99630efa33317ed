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
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from telegram import Bot, Message

from bot import publishing, research_jobs
from bot.config import Config
from bot.context import Context
from bot.domain import outbox, publication, research_outbox, rounds
from bot.domain.runtime import Runtime
from bot.formats import when
from bot.ops.logs import about_round
from bot.research_screens import invitation_screen as research_invitation_screen
from bot.screens import Screen, invitation_screen
from bot.sender import Campaign, pacer_for, send_paced
from bot.site.refresh import refresh_site
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
    shared.last_reconcile = time.monotonic()
    if shared.metrics is not None:
        shared.metrics.reconciled()
    # Out of budget with messages still owed: run again at once rather than idle until the next tick,
    # so the sender keeps the full rate while rounds still get opened and closed between budgets.
    if more:
        shared.wake()


def campaign_for(config: Config) -> Campaign:
    """A process's sending state, paced as the config asks."""
    return Campaign(pacer_for(config.telegram.paid_broadcast, config.telegram.send_rate))


async def run_once(bot: Bot, rt: Runtime[Config], budget: float, campaign: Campaign) -> bool:
    """One reconcile pass; True when it stopped for its time budget with messages still owed."""
    # Rounds open and close first: a long campaign must never delay a close or a publication. One
    # process does this part one run at a time (the tick and an admin's wake-up used to overlap here
    # and deadlock on PostgreSQL); a run arriving meanwhile waits, then finds the work already done.
    async with campaign.bookkeeping:
        for round_id in await rounds.due_to_open(rt):
            with about_round(round_id):
                if await rounds.open_round(rt, round_id):
                    log.info("round %s opened", round_id)
        for round_id in await rounds.due_to_close(rt):
            with about_round(round_id):
                if await rounds.close_round(rt, round_id):
                    log.info("round %s closed", round_id)
        await research_jobs.reconcile(bot, rt)
        if in_doubt := await outbox.recover_stale_claims(rt):
            log.warning("%s messages were being sent by a process that stopped; marked unknown, not resent",
                        in_doubt)
        if in_doubt := await publication.recover_stale(rt):
            log.warning("%s scorecard posts were under way in a process that stopped; asking the admins", in_doubt)
        await publish(bot, rt)
        await refresh_site(rt)
        for doubt in await publication.unreported(rt):
            if await publishing.ask_admins(bot, rt, doubt):
                await publication.reported(rt, doubt)
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
        await send_thanks(bot, rt, campaign, deadline)
        return time.monotonic() >= deadline and not campaign.halt.is_set()


async def send_invitations(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float) -> int:
    """Drains the invitation outbox until it is empty, the time budget is spent, or a halt."""
    return await _drain(bot, rt, campaign, deadline, reminders=False)


async def send_reminders(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float) -> int:
    """Sends the one reminder each invited, silent buyer gets `rounds.reminder_before` the close."""
    return await _drain(bot, rt, campaign, deadline, reminders=True)


def _batch_size(campaign: Campaign) -> int:
    return max(1, min(200, math.ceil(campaign.pacer.rate * CLAIM_SECONDS)))


Owed = outbox.InvitationMessage | research_outbox.ResearchInvitation


async def _drain(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float, *, reminders: bool,
                 research: bool = False) -> int:
    claim: Callable[[Runtime[Config], int], Awaitable[Sequence[Owed]]] = (
        (research_outbox.claim_reminders if reminders else research_outbox.claim_invitations) if research
        else outbox.claim_reminders if reminders else outbox.claim_invitations
    )
    sent = 0
    while time.monotonic() < deadline and not campaign.halt.is_set():
        batch = await claim(rt, _batch_size(campaign))
        if not batch:
            break

        async def send(invitation: Owed) -> outbox.Settlement:
            if isinstance(invitation, research_outbox.ResearchInvitation):
                screen = research_invitation_screen(invitation, rt.config.zone, reminder=reminders)
            else:
                screen = (reminder_screen if reminders else invitation_screen)(invitation, rt.config.zone)
            delivery = await send_paced(campaign.pacer, invitation.telegram_user_id,
                                        _sender(bot, rt, invitation.telegram_user_id, screen), campaign.stats)
            return outbox.Settlement(invitation.id, InvitationStatus(delivery.outcome), delivery.message_id,
                                     delivery.error)

        settled = await _send_batch(campaign, batch, deadline, send,
                                    partial(outbox.settle, rt, reminders=reminders))
        sent += sum(1 for x in settled if x.status is InvitationStatus.SENT)
    return sent


async def send_thanks(bot: Bot, rt: Runtime[Config], campaign: Campaign, deadline: float) -> int:
    """Tells every rater of a published round the result, paced like the invitations (a 429 waits and
    retries); each thank-you is marked `sending` just before it leaves (see `bot.domain.outbox`)."""
    sent = 0
    while time.monotonic() < deadline and not campaign.halt.is_set():
        batch = await outbox.claim_thanks(rt, _batch_size(campaign))
        if not batch:
            break

        async def send(thanks: outbox.ThankYou) -> outbox.Settlement | None:
            try:
                delivery = await send_paced(campaign.pacer, thanks.telegram_user_id, _thanks_sender(bot, rt, thanks),
                                            campaign.stats)
            except _Taken:
                return None
            if delivery.outcome != "sent":
                log.info("rater %s not thanked (%s): %s", thanks.telegram_user_id, delivery.outcome, delivery.error)
            return outbox.Settlement(thanks.id, InvitationStatus(delivery.outcome))

        settled = await _send_batch(campaign, batch, deadline, send, partial(outbox.settle_thanks, rt))
        sent += sum(1 for x in settled if x.status is InvitationStatus.SENT)
    return sent


class _Taken(Exception):
    """The thank-you is no longer ours to send (a stale claim, taken again by another process)."""


def _thanks_sender(bot: Bot, rt: Runtime[Config], thanks: outbox.ThankYou) -> Callable[[], Awaitable[Message]]:
    """Marks the thank-you `sending` inside the pacer's slot, right before its first HTTP call (not while
    it waits its turn), so a crash leaves in doubt only what was really on its way."""
    started = False

    async def send() -> Message:
        nonlocal started
        if not started:
            if not await outbox.start_thanks(rt, thanks.id):
                raise _Taken()
            started = True
        return await bot.send_message(thanks.telegram_user_id, publishing.thanks_text(thanks), parse_mode="HTML")

    return send


class _Claimed(Protocol):
    """A claimed outbox row: an invitation or a thank-you."""

    @property
    def id(self) -> int: ...


M = TypeVar("M", bound=_Claimed)


async def _send_batch(
    campaign: Campaign, batch: Sequence[M], deadline: float,
    send: Callable[[M], Awaitable[outbox.Settlement | None]],
    settle: Callable[[list[outbox.Settlement], list[int]], Awaitable[None]],
) -> list[outbox.Settlement]:
    """Sends a claimed batch with a few workers; settles what went out, hands back what never left."""
    queue = list(reversed(batch))
    settled: list[outbox.Settlement] = []

    async def worker() -> None:
        while queue and not campaign.halt.is_set() and time.monotonic() < deadline:
            if (done := await send(queue.pop())) is not None:
                settled.append(done)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(WORKERS, len(batch))):
                group.create_task(worker())
    finally:
        # Also on cancellation: record what went out, hand back what never left, so nothing is lost.
        await asyncio.shield(settle(settled, [m.id for m in queue]))
    return settled


def _sender(bot: Bot, rt: Runtime[Config], chat_id: int, screen: Screen) -> Callable[[], Awaitable[Message]]:
    paid = rt.config.telegram.paid_broadcast
    return lambda: bot.send_message(chat_id, screen.text, parse_mode="HTML", reply_markup=screen.markup,
                                    allow_paid_broadcast=True if paid else None)


def reminder_screen(inv: outbox.InvitationMessage, zone: ZoneInfo) -> Screen:
    """The reminder: the invitation's buttons under a shorter text with the deadline."""
    text = t(inv.language, "remind.text", product=inv.product,
             closes_at=when(inv.closes_at, inv.language, zone))
    return Screen(text, invitation_screen(inv, zone).markup)


async def publish(bot: Bot, rt: Runtime[Config]) -> None:
    """Posts each closed round's scorecard to the publish chat, step by step (bot.domain.publication).

    With no publish chat nothing is claimed, so nothing is marked published: scored rounds stay
    `closed` (admins see "not posted") and are posted once `bot.publish_chat_id` is set."""
    if not rt.config.bot.publish_chat_id:
        return
    for claimed in await publication.claim(rt):
        with about_round(claimed.round_id):  # its log lines name the round
            posted = await publishing.post_scorecard(bot, rt, claimed)
        if not posted:
            # The chat is rate-limited: this round and any claimed after it stay claimed and are posted
            # once their claims expire; the invitations and thanks of this pass go on meanwhile.
            return
