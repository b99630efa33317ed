"""Another process holding the SQLite file's write lock for long (a backup script, a stray `sqlite3`
shell): taps are told "busy, try again" within a short bound, in the buyer's language, instead of an
apology after ten seconds; what needs no write (/help) is answered meanwhile; nothing acknowledged is
lost, and the same tap goes through once the lock is gone."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from bot.sandbox import SimUser
from storage.models import Ballot
from tests.conversations.conftest import Harness

RATE_NOW = {"en": "❤️ Rate now", "zh": "❤️ 立即评分"}


def invited(user: SimUser) -> bool:
    return any(label in m.button_texts for m in user.messages for label in RATE_NOW.values())


@asynccontextmanager
async def write_locked(h: Harness) -> AsyncIterator[None]:
    """A second connection, as another process would, holds the file's write lock until the block ends.

    It waits for the lock on a worker thread: waiting on the loop would stall the bot's own write in
    flight (its commit needs the loop), so neither would get the lock until sqlite's timeout."""
    if not h.rt.db.is_sqlite:
        pytest.skip("SQLite only: PostgreSQL has no file lock")
    path = str(h.rt.db.engine.url.database)
    other = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_taps_under_a_held_lock_are_told_busy_and_help_still_answers(h: Harness) -> None:
    buyers = [await h.linked(f"C{n:04d}", f"Buyer{n}", "zh" if n % 2 else "en") for n in range(1, 21)]
    await h.open_round()
    for buyer in buyers:
        await buyer.wait_for(invited)
        await buyer.tap(RATE_NOW[buyer.profile.language_code or "en"])
    helper = await h.linked("C0040", "Helper")
    h.sandbox.timeout = 30.0  # a loaded two-core machine: the point is the order, not the time
    async with write_locked(h):
        # More taps at once than the bot handles at a time (16): each waits its bounded turn.
        taps = [asyncio.ensure_future(buyer.tap("4")) for buyer in buyers]
        await helper.send("/help")
        assert "/rate" in helper.last_message.text  # answered while the lock is still held
        await asyncio.gather(*taps)
        for buyer in buyers:
            busy = "Busy right now" if buyer.profile.language_code == "en" else "繁忙"
            assert busy in buyer.last_alert.text and buyer.last_alert.show_alert, buyer.last_alert.text
            assert "1/6" in buyer.last_message.text  # the screen stays as it was
    async with h.rt.db.session() as s:
        assert all(not answers for answers in await s.scalars(select(Ballot.answers)))  # nothing half-written
    for buyer in buyers:  # the lock is gone: the same tap goes through
        await buyer.tap("4")
        assert "2/6" in buyer.last_message.text
    async with h.rt.db.session() as s:
        assert len([a for a in await s.scalars(select(Ballot.answers)) if a]) == len(buyers)
