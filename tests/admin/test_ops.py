"""Operating the bot, over HTTP: /healthz on the webhook's own port, and with `[metrics] port` the
Prometheus /metrics (updates, taps, Bot API calls and errors by method, 429s, outbox, rounds) and a
/healthz that fails when the bot stops receiving updates; log lines carry the round id, as JSON too."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, build_application
from bot.config import MetricsConfig, TelegramConfig
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.ops.logs import JsonFormatter, RoundFilter, about_round
from bot.runner import running
from bot.sandbox import BotApiSandbox
from tests.admin.test_webhook import free_port, wh  # noqa: F401  (the webhook harness)
from tests.conftest import CHANNEL, record_errors
from tests.conversations.conftest import TICK, Harness, invitation


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def healthy(url: str) -> dict[str, object]:
    """The health answer once the scheduler's first pass is done (until then it is 503 by design)."""
    for _ in range(100):
        status, body = await get(url)
        if status == 200:
            return dict(json.loads(body))
        await asyncio.sleep(0.05)
    raise AssertionError(f"never healthy: {status} {body}")


async def test_healthz_answers_on_the_webhook_port(wh: Harness) -> None:  # noqa: F811
    port = wh.rt.config.telegram.webhook.port
    assert await healthy(f"http://127.0.0.1:{port}/healthz") == {"status": "ok", "mode": "webhook"}
    alice = await wh.linked("C0001", "Alice")  # the webhook path itself still takes updates
    assert "Linked" in alice.last_message.text


@pytest.fixture
async def ops(rt: Runtime, clock: ManualClock) -> AsyncIterator[tuple[Harness, App, str]]:
    """The polling bot with `[metrics] port` set: (harness, its Application, the endpoint's base URL)."""
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        port = free_port()
        config = replace(rt.config, telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url),
                         rounds=replace(rt.config.rounds, tick=TICK), metrics=MetricsConfig("127.0.0.1", port))
        runtime = Runtime(rt.db, config, clock)
        errors: list[BaseException] = []
        app = build_application(runtime)
        record_errors(app, errors)

        async def no_restart() -> None:
            raise NotImplementedError

        async with running(app, poll_timeout=1):
            yield Harness(sandbox, runtime, clock, errors, no_restart), app, f"http://127.0.0.1:{port}"
        assert not errors, f"handler errors: {errors!r}"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_count_updates_taps_api_calls_429s_the_outbox_and_rounds(
        ops: tuple[Harness, App, str]) -> None:
    h, app, base = ops
    alice = await h.linked("C0001", "Alice")
    await h.open_round()
    await invitation(alice)
    await alice.tap("❤️ Rate now")
    for score in "453425":
        h.clock.advance(timedelta(seconds=5))
        await alice.tap(score)
    await alice.tap("✅ Submit")
    h.sandbox.inject_429("sendMessage", retry_after=1)  # refused once, then sent by the retrying request
    await app.bot.send_message(alice.id, "a message Telegram refuses at first")
    status, text = await get(f"{base}/metrics")
    assert status == 200
    found = samples(text)
    assert found[("redheart_taps_total", ())] == 8  # Rate now, six answers, Submit
    assert found[("redheart_updates_total", (("kind", "callback_query"),))] == 8
    assert found[("redheart_updates_total", (("kind", "message"),))] == 2  # Alice's /start, the admin's /newround
    assert found[("redheart_bot_api_calls_total", (("method", "editMessageText"),))] >= 8
    assert found[("redheart_bot_api_calls_total", (("method", "getUpdates"),))] >= 1
    assert found[("redheart_bot_api_errors_total", (("code", "429"), ("method", "sendMessage")))] == 1
    assert found[("redheart_bot_api_rate_limited_total", (("method", "sendMessage"),))] == 1
    assert found[("redheart_rounds", (("status", "open"),))] == 1
    assert found[("redheart_rounds", (("status", "published"),))] == 0
    assert found[("redheart_outbox_backlog", (("kind", "invitations"),))] == 0  # Alice's went out
    assert found[("redheart_reconcile_last_run_timestamp_seconds", ())] > 0


async def test_healthz_fails_when_the_bot_stops_receiving_updates(ops: tuple[Harness, App, str]) -> None:
    _, app, base = ops
    assert await healthy(f"{base}/healthz") == {"status": "ok", "mode": "polling"}
    assert app.updater is not None
    await app.updater.stop()
    try:
        status, body = await get(f"{base}/healthz")
        assert status == 503 and json.loads(body) == {"status": "fail", "problems": ["updater: not receiving updates"]}
    finally:
        await app.updater.start_polling(poll_interval=0.0, timeout=1)


async def test_the_schedulers_log_lines_carry_the_round_id_as_json(h: Harness) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RoundFilter())
    jobs_log = logging.getLogger("bot")  # the scheduler (bot.jobs) and what it calls (bot.publishing)
    jobs_log.addHandler(handler)
    jobs_log.setLevel(logging.INFO)
    try:
        round_id = await h.open_round(duration="1h")
        h.clock.advance(timedelta(hours=1, minutes=1))
        for _ in range(100):
            if "closed" in stream.getvalue() and "published" in stream.getvalue():
                break
            await asyncio.sleep(0.05)
    finally:
        jobs_log.removeHandler(handler)
        jobs_log.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    about = {line["message"]: line.get("round_id") for line in lines}
    assert about[f"round {round_id} opened"] == round_id
    assert about[f"round {round_id} closed"] == round_id
    assert about[f"round {round_id} published"] == round_id
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)


def test_a_text_log_line_names_its_round_and_one_outside_a_round_does_not() -> None:
    from bot.ops.logs import TEXT_FORMAT

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RoundFilter())
    log = logging.getLogger("tests.ops")
    log.addHandler(handler)
    log.propagate = False
    try:
        with about_round(7):
            log.warning("inside")
        log.warning("outside")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith("WARNING tests.ops [round 7]: inside") and outside.endswith("WARNING tests.ops: outside")
