"""Two bot processes on one PostgreSQL database (webhook behind a load balancer): the reconcile job
and the sender coordinate through the database, so nothing is done twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.app import build_application
from bot.config import TelegramConfig
from bot.domain import identity, rounds
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.jobs import reconcile
from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import Round
from tests.conftest import CHANNEL, record_errors

BUYERS = 30


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_two_applications_sharing_postgresql_close_publish_and_invite_exactly_once(
    rt: Runtime, clock: ManualClock
) -> None:
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        config = replace(rt.config, telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url),
                         rounds=replace(rt.config.rounds, tick=timedelta(seconds=0.05)))
        buyers = [sandbox.user(first_name=f"B{n}", started=True) for n in range(1, BUYERS + 1)]
        for n, buyer in enumerate(buyers, start=1):
            await identity.link_by_token(rt, await identity.issue_link_token(rt, f"C{n:04d}"), buyer.id)

        second_db = await Database.open(rt.db.engine.url.render_as_string(hide_password=False))
        apps: list[Application] = [  # type: ignore[type-arg]
            build_application(Runtime(db, config, clock)) for db in (rt.db, second_db)
        ]
        errors: list[BaseException] = []
        for app in apps:
            record_errors(app, errors)
            await app.initialize()
            await app.start()  # the JobQueue ticks every 50 ms in each process
        try:
            round_id = await rounds.schedule_round(rt, "SHAMPOO-001", actor="test", duration=timedelta(hours=1))
            for _ in range(10):  # and admins' wake-ups overlap the ticks in both processes
                for app in apps:
                    assert app.job_queue is not None
                    app.job_queue.run_once(reconcile, 0.0)
                await asyncio.sleep(0.02)
            await buyers[-1].wait_for(lambda u: bool(u.messages), timeout=20)
            await asyncio.sleep(0.5)
            clock.advance(timedelta(hours=1, minutes=1))
            for _ in range(20):
                for app in apps:
                    assert app.job_queue is not None
                    app.job_queue.run_once(reconcile, 0.0)
                await asyncio.sleep(0.02)
            deadline = asyncio.get_running_loop().time() + 10
            while not sandbox.chat_messages(CHANNEL) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # time for any duplicate to show up
        finally:
            for app in apps:
                await app.stop()
                await app.shutdown()
            await second_db.close()

        invitations = Counter(m.chat_id for b in buyers for m in b.messages)
        assert invitations == dict.fromkeys((b.id for b in buyers), 1)
        assert len(sandbox.chat_messages(CHANNEL)) == 1
        async with rt.db.session() as s:
            status = await s.scalar(select(Round.status).where(Round.id == round_id))
        assert status == "insufficient"  # no ballots: published once, as insufficient data
        assert errors == []
