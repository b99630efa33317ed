"""A campaign of thousands of invitations: the real bot against a sandbox with a raised flood limit."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.bench.fixtures import SKU, bench_config, seed_buyers
from bot.domain import rounds
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.runner import running
from bot.sandbox import BotApiSandbox, SimUser
from bot.sender import Campaign
from storage.db import Database
from storage.models import Invitation
from tests.conftest import record_errors

LIMIT = 2000.0  # messages/s the sandbox allows: Telegram's 30/s scaled up so 2,000 invitations take seconds


@dataclass
class CampaignHarness:
    sandbox: BotApiSandbox
    rt: Runtime
    clock: ManualClock
    buyers: list[SimUser]
    errors: list[BaseException] = field(default_factory=list)
    campaign: Campaign | None = None
    _cm: Any = None

    async def start(self) -> None:
        """Starts a fresh bot process (Application, scheduler, pacer) over the same database."""
        app = build_application(self.rt)
        record_errors(app, self.errors)
        self.campaign = app.bot_data.campaign
        self._cm = running(app, poll_timeout=1)
        await self._cm.__aenter__()

    async def stop(self) -> None:
        if self._cm is not None:
            await self._cm.__aexit__(None, None, None)
            self._cm = None

    async def open_round(self, duration: timedelta = timedelta(days=7)) -> int:
        return await rounds.schedule_round(self.rt, SKU, actor="test", duration=duration, quota=len(self.buyers))

    async def outbox(self) -> dict[str, int]:
        async with self.rt.db.session() as s:
            rows = await s.execute(select(Invitation.status, func.count()).group_by(Invitation.status))
            return {status: n for status, n in rows}

    async def drained(self, timeout: float = 180.0) -> dict[str, int]:
        """Waits until no invitation is pending or being sent; returns the outbox by status.

        The timeout only stops a hung test: a loaded two-core machine took over 30 s to drain 2,000
        invitations through the faults (speed is the bench's business, not a test's)."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            counts = await self.outbox()
            if counts and not counts.get("pending") and not counts.get("sending"):
                return counts
            await asyncio.sleep(0.1)
        raise AssertionError(f"the outbox did not drain in {timeout} s: {await self.outbox()}")

    def invitations_received(self) -> Counter[int]:
        """Invitations each buyer actually got, as the sandbox saw them."""
        return Counter(m.chat_id for user in self.buyers for m in user.messages if "Rate now" in str(m.reply_markup)
                       and "Reminder" not in (m.text or ""))

    def reminded(self) -> Counter[int]:
        return Counter(m.chat_id for user in self.buyers for m in user.messages if "Reminder" in (m.text or ""))


async def make_harness(db: Database, clock: ManualClock, count: int) -> AsyncIterator[CampaignHarness]:
    async with BotApiSandbox(global_limit=LIMIT, per_chat_limit=1) as sandbox:
        user_ids = await seed_buyers(db, count, clock.now())
        buyers = [sandbox.user(first_name=f"Buyer{uid}", user_id=uid, started=True) for uid in user_ids]
        config = bench_config(db.engine.url.render_as_string(hide_password=False), sandbox.token, sandbox.base_url,
                              tick=timedelta(seconds=0.2), send_rate=LIMIT, quota=count)
        h = CampaignHarness(sandbox, Runtime(db, config, clock), clock, buyers)
        await h.start()
        try:
            yield h
        finally:
            await h.stop()
        # Any exception a handler or job raised fails the test.
        assert not h.errors, f"handler errors: {h.errors!r}"


@pytest.fixture
async def big(db: Database, clock: ManualClock) -> AsyncIterator[CampaignHarness]:
    """2,000 linked, eligible buyers of one product and the bot running."""
    async for h in make_harness(db, clock, 2000):
        yield h


@pytest.fixture
async def small(db: Database, clock: ManualClock) -> AsyncIterator[CampaignHarness]:
    """Eight linked, eligible buyers of one product and the bot running."""
    async for h in make_harness(db, clock, 8):
        yield h
