"""Opening a deep link sends /start with its payload, exactly as a Telegram client would."""

from __future__ import annotations

import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.sandbox import BotApiSandbox
from tests.sandbox.conftest import RunApp


async def echo_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say which payload /start carried."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"payload={' '.join(context.args or []) or '-'}")


async def test_opening_a_deep_link_starts_the_bot_with_its_payload(sandbox: BotApiSandbox, run_app: RunApp) -> None:
    alice = sandbox.user("Alice")
    async with run_app(CommandHandler("start", echo_start)):
        await alice.open_link("https://t.me/sandbox_bot?start=p_SKU1")
        await alice.open_link(sandbox.deep_link("Ab-9_x"))

    assert [m.text for m in alice.messages] == ["payload=p_SKU1", "payload=Ab-9_x"]


@pytest.mark.parametrize(
    "link",
    [
        "https://t.me/sandbox_bot?start=" + "a" * 65,
        "https://t.me/sandbox_bot?start=p.SKU1",
        "https://t.me/sandbox_bot?start=p%20SKU1",
        "https://t.me/sandbox_bot?start=",
    ],
)
async def test_an_invalid_payload_is_dropped_and_the_bot_gets_a_plain_start(
    sandbox: BotApiSandbox, run_app: RunApp, link: str
) -> None:
    bob = sandbox.user("Bob")
    async with run_app(CommandHandler("start", echo_start)):
        await bob.open_link(link)
    assert bob.last_message.text == "payload=-"


async def test_a_link_without_start_presses_start_only_for_a_new_user(sandbox: BotApiSandbox, run_app: RunApp) -> None:
    carol = sandbox.user("Carol")
    async with run_app(CommandHandler("start", echo_start)):
        assert await carol.open_link("t.me/sandbox_bot") is not None
        assert await carol.open_link("tg://resolve?domain=sandbox_bot") is None
        await carol.start("p_SKU2")
        await carol.open_link("tg://resolve?domain=sandbox_bot&start=p_SKU3")

    assert [m.text for m in carol.messages] == ["payload=-", "payload=p_SKU2", "payload=p_SKU3"]


async def test_a_link_to_another_bot_or_not_to_telegram_is_a_test_mistake(sandbox: BotApiSandbox) -> None:
    dan = sandbox.user("Dan")
    with pytest.raises(AssertionError, match="opens @other_bot, not this sandbox's bot @sandbox_bot"):
        await dan.open_link("https://t.me/other_bot?start=x")
    with pytest.raises(ValueError, match="not a Telegram link"):
        await dan.open_link("https://example.com/sandbox_bot?start=x")
