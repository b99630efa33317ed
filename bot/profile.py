"""What the chat shows before and around a conversation: the command menus and the bot's descriptions.

Telegram keeps one command list per (scope, language) and shows each user the most specific one
(Bot API, "Determining list of commands"). We set, in each language we speak: the buyers' list for all
private chats, and for each admin's own chat the buyers' list followed by the admin commands; plus the
same lists without a language (in the configured default) for users whose language we do not speak.
The description (shown in an empty chat, before Start) and the short description (the bot's profile)
are set the same way. It runs on every start-up (`bot.runner.running`), so a changed catalog or admin
list shows without a manual step; an admin's menu is set again when they send /start.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.config import Config
from bot.domain.settings import LANGUAGES
from bot.texts import t_plain

log = logging.getLogger(__name__)

# The buyers' list is everyone's: /scores, /top and /compare need no linked account (shoppers).
PURCHASER_COMMANDS = ("start", "rate", "myratings", "scores", "top", "compare", "language", "stop", "forgetme", "help")
ADMIN_COMMANDS = ("newround", "rounds", "round", "closeround", "cancelround", "eligible", "exclude", "method",
                  "export", "newresearch", "adopt")


def menu(lang: str, commands: tuple[str, ...]) -> list[BotCommand]:
    """The commands with their descriptions in `lang`."""
    return [BotCommand(command, t_plain(lang, f"menu.{command}")) for command in commands]


def _languages(config: Config) -> list[tuple[str | None, str]]:
    """(language_code, catalog language): each language we speak, then None, every other language,
    which gets the configured default language's texts."""
    return [(code, code) for code in LANGUAGES] + [(None, config.bot.default_language)]


async def publish_profile(bot: Bot, config: Config) -> None:
    """Sets the buyers' menu, each admin's menu and the descriptions. A failure is logged, not raised:
    the bot works without its menu, and the next start-up sets it again."""
    try:
        for code, lang in _languages(config):
            await bot.set_my_commands(menu(lang, PURCHASER_COMMANDS), scope=BotCommandScopeAllPrivateChats(),
                                      language_code=code)
            await bot.set_my_description(t_plain(lang, "profile.description"), language_code=code)
            await bot.set_my_short_description(t_plain(lang, "profile.short_description"), language_code=code)
    except TelegramError as exc:
        log.warning("the command menu and descriptions were not set (%s); the bot runs without them", exc)
    for admin in config.bot.admins:
        await publish_admin_menu(bot, config, admin)


async def publish_admin_menu(bot: Bot, config: Config, admin: int) -> bool:
    """The admin's own chat gets the buyers' commands and the admin commands. Telegram refuses a chat
    the admin never opened ("chat not found"), so /start sets it again; False when it was refused."""
    try:
        for code, lang in _languages(config):
            await bot.set_my_commands(menu(lang, PURCHASER_COMMANDS + ADMIN_COMMANDS),
                                      scope=BotCommandScopeChat(admin), language_code=code)
    except TelegramError as exc:
        log.info("admin %s gets the admin menu when they send /start (%s)", admin, exc)
        return False
    return True
