"""The bot's profile as users see it: command menus per scope and language, and its descriptions.

Telegram keeps one command list per (scope, language_code) and shows each user the first list set
along a fixed precedence (`menu_precedence`); descriptions are kept per language. The methods here
validate like Telegram (command names, lengths, counts) and store what the bot set, so tests can
ask what a given user would see.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import errors
from bot.sandbox.errors import bad_request
from bot.sandbox.models import Chat, JsonDict
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState

MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"(?:[a-z]{2})?")
_PLAIN_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})

# (scope type, chat id, user id): "chat_member" uses both ids, the other chat scopes only the chat.
ScopeKey = tuple[str, int | None, int | None]
Handler = Callable[[Params], Awaitable[Any]]


@dataclass(frozen=True)
class MenuCommand:
    """One entry of a command menu: "/command" and what it does."""

    command: str
    description: str


@dataclass
class BotProfile:
    """What setMyCommands, setMyDescription and setMyShortDescription stored."""

    commands: dict[tuple[ScopeKey, str], list[MenuCommand]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)

    def menu(self, scopes: list[ScopeKey], language_code: str | None) -> list[MenuCommand]:
        """The first list set along `scopes`, each tried with the user's language, then with none."""
        languages = [code for code in (_primary_language(language_code), "") if code is not None]
        for scope in scopes:
            for language in dict.fromkeys(languages):
                if (scope, language) in self.commands:
                    return list(self.commands[scope, language])
        return []


def menu_precedence(chat: Chat, user_id: int, *, admin: bool) -> list[ScopeKey]:
    """Telegram's order of scopes for a user in a chat ("Determining list of commands", Bot API)."""
    if chat.type == "private":
        return [("chat", chat.id, None), ("all_private_chats", None, None), ("default", None, None)]
    scopes: list[ScopeKey] = [("chat_member", chat.id, user_id)]
    if admin:
        scopes.append(("chat_administrators", chat.id, None))
    scopes.append(("chat", chat.id, None))
    if admin:
        scopes.append(("all_chat_administrators", None, None))
    return [*scopes, ("all_group_chats", None, None), ("default", None, None)]


def scope_key(scope: Any, state: SandboxState) -> ScopeKey:
    """A BotCommandScope object as a key; chats are resolved, so "@name" and its id are one scope."""
    scope = scope or {"type": "default"}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope.get("type", ""))
    if kind in _PLAIN_SCOPES:
        return kind, None, None
    if kind not in _CHAT_SCOPES:
        raise bad_request("unsupported bot command scope type")
    if scope.get("chat_id") is None:
        raise bad_request("chat_id is empty")
    chat_id = state.resolve(scope["chat_id"]).id
    if kind != "chat_member":
        return kind, chat_id, None
    if scope.get("user_id") is None:
        raise bad_request("user_id is empty")
    return kind, chat_id, int(scope["user_id"])


class ProfileMethods:
    """setMyCommands and friends, setMy(Short)Description and their getters."""

    def __init__(self, state: SandboxState, profile: BotProfile) -> None:
        self.state = state
        self.profile = profile

    def handlers(self) -> dict[str, Handler]:
        return {
            "setmycommands": self.set_my_commands,
            "deletemycommands": self.delete_my_commands,
            "getmycommands": self.get_my_commands,
            "setmydescription": self.set_my_description,
            "getmydescription": self.get_my_description,
            "setmyshortdescription": self.set_my_short_description,
            "getmyshortdescription": self.get_my_short_description,
        }

    async def set_my_commands(self, p: Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        menu = [_menu_command(command) for command in commands]
        key = self._commands_key(p)
        # Setting an empty list is how a bot removes a list, as with deleteMyCommands.
        if menu:
            self.profile.commands[key] = menu
        else:
            self.profile.commands.pop(key, None)
        return True

    async def delete_my_commands(self, p: Params) -> bool:
        self.profile.commands.pop(self._commands_key(p), None)
        return True

    async def get_my_commands(self, p: Params) -> list[JsonDict]:
        """The list set for exactly this scope and language: no fallback, as in the Bot API."""
        menu = self.profile.commands.get(self._commands_key(p), [])
        return [{"command": c.command, "description": c.description} for c in menu]

    async def set_my_description(self, p: Params) -> bool:
        _set_text(self.profile.descriptions, p, "description", MAX_DESCRIPTION)
        return True

    async def get_my_description(self, p: Params) -> JsonDict:
        return {"description": self.profile.descriptions.get(_language_code(p), "")}

    async def set_my_short_description(self, p: Params) -> bool:
        _set_text(self.profile.short_descriptions, p, "short_description", MAX_SHORT_DESCRIPTION)
        return True

    async def get_my_short_description(self, p: Params) -> JsonDict:
        return {"short_description": self.profile.short_descriptions.get(_language_code(p), "")}

    def _commands_key(self, p: Params) -> tuple[ScopeKey, str]:
        return scope_key(p.get_json("scope"), self.state), _language_code(p)


def _menu_command(command: Any) -> MenuCommand:
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand JSON object")
    name, description = str(command.get("command", "")), str(command.get("description", ""))
    if not _COMMAND.fullmatch(name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return MenuCommand(name, description)


def _set_text(store: dict[str, str], p: Params, field_name: str, limit: int) -> None:
    """Set or (with an empty text) remove the dedicated text for one language."""
    text = p.get_str(field_name) or ""
    if len(text) > limit:
        raise bad_request(f"{field_name.replace('_', ' ')} is too long")
    language = _language_code(p)
    if text:
        store[language] = text
    else:
        store.pop(language, None)


def _language_code(p: Params) -> str:
    """A two-letter ISO 639-1 code, or "" for users whose language has no dedicated entry."""
    code = p.get_str("language_code") or ""
    if not _LANGUAGE_CODE.fullmatch(code):
        raise bad_request(errors.LANGUAGE_CODE_INVALID)
    return code


def _primary_language(language_code: str | None) -> str | None:
    """A user's IETF tag ("pt-br") narrowed to the two-letter code menus are keyed by."""
    return language_code.split("-")[0].lower() if language_code else None
