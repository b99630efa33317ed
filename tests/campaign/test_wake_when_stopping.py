"""A pass of the scheduler asks for the next at once when messages are still owed (`bot_data.wake`).
Asked while the bot stops, it must start nothing: the job would run as a task nobody awaits, cancelled
in the middle of a database write when the loop ends."""

from __future__ import annotations

from dataclasses import replace

from bot.app import build_application
from bot.config import TelegramConfig
from bot.domain.runtime import Runtime
from bot.runner import running
from bot.sandbox import BotApiSandbox


def _now_jobs(app: object) -> list[object]:
    return [j for j in app.job_queue.jobs() if j.name == "reconcile-now"]  # type: ignore[attr-defined]


async def test_a_wake_while_running_schedules_a_pass_and_one_after_the_stop_does_not(rt: Runtime) -> None:
    async with BotApiSandbox() as sandbox:
        config = replace(rt.config, telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url))
        app = build_application(Runtime(rt.db, config, rt.clock))
        async with running(app, poll_timeout=1):
            app.bot_data.wake()
            assert app.running and len(_now_jobs(app)) <= 1  # scheduled (it may already have run)
        assert not app.running
        app.bot_data.wake()
        assert _now_jobs(app) == []
