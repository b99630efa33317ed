"""Command menus and descriptions are kept per scope and language, and each user sees the right menu."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
)
from telegram.error import BadRequest

from bot.sandbox import BotApiSandbox, MenuCommand

PURCHASER = [("start", "Start"), ("rate", "Rate a product"), ("help", "Help")]


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    async with Bot(sandbox.token, base_url=sandbox.base_url) as bare_bot:
        yield bare_bot


def names(menu: list[MenuCommand]) -> list[str]:
    return [entry.command for entry in menu]


async def test_each_user_sees_the_most_specific_menu_set_first_in_their_language(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    alice, li, pierre = sandbox.user("Alice", "en"), sandbox.user("Li", "zh"), sandbox.user("Pierre", "fr")
    admin = sandbox.user("Admin", "en-GB")
    await bot.set_my_commands([("start", "Start")])
    await bot.set_my_commands(PURCHASER, language_code="en")
    await bot.set_my_commands(
        [("start", "开始"), ("rate", "评分")], scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    await bot.set_my_commands([*PURCHASER, ("newround", "Open a round")], scope=BotCommandScopeChat(admin.id))

    assert names(sandbox.menu_for(alice)) == ["start", "rate", "help"]  # default + en
    assert names(sandbox.menu_for(li)) == ["start", "rate"]  # all_private_chats + zh beats default
    assert sandbox.menu_for(li)[1] == MenuCommand("rate", "评分")
    assert names(sandbox.menu_for(pierre)) == ["start"]  # no French list anywhere: default, no language
    assert names(sandbox.menu_for(admin)) == ["start", "rate", "help", "newround"]  # their own chat wins


async def test_a_group_member_sees_their_chat_member_list_before_the_groups(sandbox: BotApiSandbox, bot: Bot) -> None:
    group = sandbox.add_channel(-1002000, "Buyers", kind="supergroup")
    alice, bob = sandbox.user("Alice"), sandbox.user("Bob")
    await bot.set_my_commands([("scores", "Scorecards")], scope=BotCommandScopeChat(group))
    await bot.set_my_commands([("top", "Ranking")], scope=BotCommandScopeChatMember(group, alice.id))

    assert names(sandbox.menu_for(alice, group)) == ["top"]
    assert names(sandbox.menu_for(bob, group)) == ["scores"]
    assert names(sandbox.commands("chat_member", chat=group, user=alice)) == ["top"]


async def test_get_my_commands_reads_back_exactly_one_scope_and_language(sandbox: BotApiSandbox, bot: Bot) -> None:
    await bot.set_my_commands(PURCHASER, language_code="en")

    assert await bot.get_my_commands(language_code="en") == tuple(BotCommand(c, d) for c, d in PURCHASER)
    assert await bot.get_my_commands() == ()  # no fallback from "en" to the list without a language
    assert await bot.get_my_commands(scope=BotCommandScopeDefault(), language_code="zh") == ()
    assert names(sandbox.commands(language_code="en")) == ["start", "rate", "help"]


async def test_deleting_or_setting_an_empty_list_removes_a_menu(sandbox: BotApiSandbox, bot: Bot) -> None:
    alice = sandbox.user("Alice")
    await bot.set_my_commands(PURCHASER)
    await bot.set_my_commands([("start", "Start")], scope=BotCommandScopeChat(alice.id))
    await bot.delete_my_commands(scope=BotCommandScopeChat(alice.id))
    assert names(sandbox.menu_for(alice)) == ["start", "rate", "help"]
    await bot.set_my_commands([])
    assert sandbox.menu_for(alice) == []


@pytest.mark.parametrize(
    ("commands", "problem"),
    [
        ([("Start", "Start")], "BOT_COMMAND_INVALID"),
        ([("/start", "Start")], "BOT_COMMAND_INVALID"),
        ([("a" * 33, "Too long a name")], "BOT_COMMAND_INVALID"),
        ([("start", "")], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([("start", "x" * 257)], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([(f"c{n}", "Command") for n in range(101)], "BOT_COMMANDS_TOO_MUCH"),
    ],
)
async def test_commands_telegram_would_refuse_are_refused(
    sandbox: BotApiSandbox, bot: Bot, commands: list[tuple[str, str]], problem: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){problem}"):  # PTB capitalises the description
        await bot.set_my_commands(commands)
    assert sandbox.commands() == []


async def test_limits_fit_exactly_and_unknown_chats_or_languages_are_refused(sandbox: BotApiSandbox, bot: Bot) -> None:
    await bot.set_my_commands([(f"{'c' * 28}{n:04d}", "d" * 256) for n in range(100)])
    assert len(sandbox.commands()) == 100
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands(PURCHASER, scope=BotCommandScopeChat(424242))
    with pytest.raises(BadRequest, match=r"(?i)invalid language code"):
        await bot.set_my_commands(PURCHASER, language_code="english")


async def test_descriptions_are_kept_per_language_within_512_and_120_characters(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    await bot.set_my_description("Rate what you bought, one heart at a time.")
    await bot.set_my_description("为你买过的产品评分。", language_code="zh")
    await bot.set_my_short_description("x" * 120, language_code="en")

    assert sandbox.description() == "Rate what you bought, one heart at a time."
    assert (await bot.get_my_description(language_code="zh")).description == "为你买过的产品评分。"
    assert sandbox.short_description("en") == "x" * 120 and sandbox.short_description() == ""
    with pytest.raises(BadRequest, match=r"(?i)short description is too long"):
        await bot.set_my_short_description("x" * 121)
    with pytest.raises(BadRequest, match=r"(?i)description is too long"):
        await bot.set_my_description("x" * 513)
    await bot.set_my_description("x" * 512)

    await bot.set_my_description("", language_code="zh")  # an empty text removes the dedicated one
    assert (await bot.get_my_description(language_code="zh")).description == ""
    assert (await bot.get_my_short_description(language_code="en")).short_description == "x" * 120
