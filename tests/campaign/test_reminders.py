"""One reminder before the close, to exactly the invited buyers who have not rated and still want to hear."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import select

from storage.models import Invitation
from tests.campaign.conftest import CampaignHarness


async def settled_reminders(h: CampaignHarness, timeout: float = 10.0) -> dict[int, str]:
    """Lets a few ticks pass, then waits until no reminder is in flight; returns each buyer's reminder status."""
    await asyncio.sleep(1.0)
    until = time.monotonic() + timeout
    while True:
        async with h.rt.db.session() as s:
            rows = dict((await s.execute(select(Invitation.telegram_user_id, Invitation.reminder_status))).all())
        if "sending" not in rows.values() or time.monotonic() > until:
            return rows
        await asyncio.sleep(0.1)


async def test_reminders_reach_exactly_the_invited_buyers_who_have_not_submitted_or_opted_out(
    small: CampaignHarness,
) -> None:
    h = small
    submitter, halfway, stopper, blocks_later, not_now, silent, also_silent, blocked_early = h.buyers
    blocked_early.block()
    await h.open_round(duration=timedelta(days=3))
    assert await h.drained() == {"sent": 7, "unreachable": 1}

    await submitter.tap("❤️ Rate now")
    for score in "453425":
        await submitter.tap(score)
    await submitter.tap("✅ Submit")
    await halfway.tap("❤️ Rate now")
    await halfway.tap("4")
    await stopper.tap("Stop inviting me")
    await not_now.tap("Not now")
    blocks_later.block()
    await asyncio.sleep(0.5)  # a few ticks: nothing is due yet
    assert not h.reminded()

    h.clock.advance(timedelta(days=2, hours=1))  # inside the last 24 hours
    statuses = await settled_reminders(h)
    h.clock.advance(timedelta(hours=1))
    await asyncio.sleep(0.6)  # more ticks: a reminder is never sent twice

    assert h.reminded() == {halfway.id: 1, not_now.id: 1, silent.id: 1, also_silent.id: 1}
    assert statuses[blocks_later.id] == "unreachable"
    assert statuses[submitter.id] == statuses[stopper.id] == statuses[blocked_early.id] == "none"
    assert [c.status for c in h.sandbox.sent_to(blocked_early.id)] == [403]  # never tried again
