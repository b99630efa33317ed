"""Webhook mode: the real Application serves PTB's webhook; the sandbox delivers updates to it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest

from bot.app import build_application
from bot.config import ConfigError, TelegramConfig, WebhookConfig
from bot.domain import rounds
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.runner import running
from bot.sandbox import BotApiSandbox
from tests.conftest import ADMIN_ID, CHANNEL, record_errors
from tests.conversations.conftest import TICK, Harness, invitation

SECRET_TOKEN = "Webhook-secret_0123456789abcdefghijKLMNOP"  # webhook mode refuses a weak one
PATH = "tg/hook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_runtime(rt: Runtime, clock: ManualClock, sandbox: BotApiSandbox, secret_token: str) -> Runtime:
    port = free_port()
    telegram = TelegramConfig(
        token=sandbox.token, base_url=sandbox.base_url, mode="webhook",
        webhook=WebhookConfig(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/{PATH}",
                              secret_token=secret_token),
    )
    return Runtime(rt.db, replace(rt.config, telegram=telegram, rounds=replace(rt.config.rounds, tick=TICK)), clock)


@pytest.fixture
async def wh(rt: Runtime, clock: ManualClock) -> AsyncIterator[Harness]:
    """The harness, but the bot gets its updates by webhook with a secret token instead of polling."""
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        runtime = webhook_runtime(rt, clock, sandbox, SECRET_TOKEN)
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


def forged_message(sender: int, text: str) -> dict[str, object]:
    command = text.split()[0]
    return {"update_id": 888_888, "message": {
        "message_id": 7, "date": 0, "chat": {"id": sender, "type": "private", "first_name": "Eve"},
        "from": {"id": sender, "is_bot": False, "first_name": "Eve"}, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}}


async def test_a_forged_admin_command_without_the_secret_gets_403_and_changes_nothing(wh: Harness) -> None:
    """Anyone who finds the webhook URL can post an update claiming to come from an admin."""
    async with aiohttp.ClientSession() as session, session.post(wh.rt.config.telegram.webhook.url,
                            json=forged_message(ADMIN_ID, "/newround SHAMPOO-001 7d")) as response:
        assert response.status == 403
    await wh.admin.send("/rounds")  # a real delivery, answered after the forged one would have been
    assert "No rounds yet" in wh.admin.last_message.text
    assert not await rounds.list_rounds(wh.rt)


@pytest.mark.parametrize("secret_token",
                         ["", "webhook-secret_123", "a" * 40, "spaces are not allowed in it 0123456789"])
async def test_webhook_mode_does_not_start_without_a_strong_secret_token(rt: Runtime, clock: ManualClock,
                                                                         secret_token: str) -> None:
    """Before: an empty secret_token served the webhook, and a forged update got 200 and was handled."""
    async with BotApiSandbox() as sandbox:
        app = build_application(webhook_runtime(rt, clock, sandbox, secret_token))
        with pytest.raises(ConfigError, match=r"telegram\.webhook\.secret_token"):
            async with running(app):
                pass
        assert not [c for c in sandbox.calls if c.method.lower() == "setwebhook"]
