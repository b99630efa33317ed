"""Webhook mode: the real Application serves PTB's webhook; the sandbox delivers updates to it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest

from bot.app import build_application
from bot.config import TelegramConfig, WebhookConfig
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.runner import running
from bot.sandbox import BotApiSandbox
from tests.conftest import CHANNEL, record_errors
from tests.conversations.conftest import TICK, Harness, invitation

SECRET_TOKEN = "webhook-secret_123"
PATH = "tg/hook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def wh(rt: Runtime, clock: ManualClock) -> AsyncIterator[Harness]:
    """The harness, but the bot gets its updates by webhook with a secret token instead of polling."""
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        port = free_port()
        telegram = TelegramConfig(
            token=sandbox.token, base_url=sandbox.base_url, mode="webhook",
            webhook=WebhookConfig(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/{PATH}",
                                  secret_token=SECRET_TOKEN),
        )
        runtime = Runtime(rt.db, replace(rt.config, telegram=telegram, rounds=replace(rt.config.rounds, tick=TICK)),
                          clock)
        errors: list[BaseException] = []
        app = build_application(runtime)
        record_errors(app, errors)

        async def no_restart() -> None:
            raise NotImplementedError

        async with running(app):
            yield Harness(sandbox, runtime, clock, errors, no_restart)
        assert not errors, f"handler errors: {errors!r}"


async def test_a_whole_rating_conversation_arrives_by_webhook(wh: Harness) -> None:
    alice = await wh.linked("C0001", "Alice")
    assert "Linked" in alice.last_message.text
    round_id = await wh.open_round()
    await invitation(alice)
    await alice.tap("❤️ Rate now")
    screen = alice.last_message
    assert "1/6" in screen.text
    for score in "453425":
        wh.clock.advance(timedelta(seconds=5))
        await alice.tap(score, message=screen)
    await alice.tap("✅ Submit", message=screen)
    assert "Thank you" in screen.text
    await wh.admin.send(f"/round {round_id}")
    assert "Submitted: 1" in wh.admin.last_message.text
    # Every update came by webhook, accepted on the first try; none was fetched with getUpdates.
    assert wh.sandbox.webhook_deliveries and all(d.status == 200 for d in wh.sandbox.webhook_deliveries)
    assert not [c for c in wh.sandbox.calls if c.method.lower() == "getupdates"]


async def test_a_webhook_request_without_the_right_secret_is_refused(wh: Harness) -> None:
    url = wh.rt.config.telegram.webhook.url
    forged = {"update_id": 999_999, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 4242, "type": "private", "first_name": "Eve"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Eve"}, "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
    async with aiohttp.ClientSession() as session:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with session.post(url, json=forged, headers=headers) as response:
                assert response.status == 403
    assert not [c for c in wh.sandbox.calls if str(c.params.get("chat_id")) == "4242"]
    alice = wh.person("Alice")
    await alice.send("/help")  # the real deliveries still work
    assert "Little Red Heart" in alice.last_message.text
