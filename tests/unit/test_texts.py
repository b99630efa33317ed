"""Both catalogs have every text, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

from bot.domain.settings import LANGUAGES, pick_language
from bot.texts import catalog

SOURCES = Path(__file__).parents[2] / "bot"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    en, zh = catalog("en"), catalog("zh")
    assert set(en) == set(zh)
    for key in en:
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_every_text_the_code_asks_for_exists() -> None:
    used = set()
    for path in SOURCES.rglob("*.py"):
        used |= set(re.findall(r'\bt(?:_plain)?\(\s*\w+,\s*"([a-z_.]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'key = "([a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert used, "the scan found no texts"
    for lang in LANGUAGES:
        # A text that counts things has its plural forms instead: key.one, key.other (bot.formats.plural).
        missing = {key for key in used if key not in catalog(lang) and f"{key}.other" not in catalog(lang)}
        assert not missing, (lang, missing)


def test_the_users_choice_beats_their_telegram_language_which_beats_the_default() -> None:
    assert pick_language("en-US", "zh", "en") == "zh"
    assert pick_language("zh-hans", None, "en") == "zh"
    assert pick_language("de", None, "zh") == "zh"
    assert pick_language(None, None, "en") == "en"


def test_each_language_has_a_menu_entry_for_every_command() -> None:
    from bot.profile import ADMIN_COMMANDS, PURCHASER_COMMANDS, menu

    for lang in LANGUAGES:
        entries = menu(lang, PURCHASER_COMMANDS + ADMIN_COMMANDS)
        assert [e.command for e in entries] == [*PURCHASER_COMMANDS, *ADMIN_COMMANDS]
    assert menu("zh", ("rate",))[0].description == "给商品打分"
    assert menu("en", ("rate",))[0].description == "Rate a product"


def test_every_value_put_into_a_text_is_escaped_unless_it_is_already_html() -> None:
    from bot.texts import Html, t, t_plain

    shown = t("en", "rate.choose_button", product="<Tom & Jerry>")
    assert shown == "Rate &lt;Tom &amp; Jerry&gt;"
    assert t("en", "myratings.line", product="A&B", status=Html("<i>open</i>"), answers="x") == (
        "• <b>A&amp;B</b> (<i>open</i>) — x"
    )
    assert t_plain("en", "rate.choose_button", product="<Tom & Jerry>") == "Rate <Tom & Jerry>"


def test_the_menus_list_exactly_the_commands_the_bot_answers() -> None:
    """A command added to the Application without a menu entry (or the reverse) fails here."""
    from dataclasses import replace

    from telegram.ext import CommandHandler

    from bot.app import build_application
    from bot.config import Config, TelegramConfig
    from bot.domain.clock import SystemClock
    from bot.domain.runtime import Runtime
    from bot.profile import ADMIN_COMMANDS, PURCHASER_COMMANDS

    config = replace(Config(), telegram=TelegramConfig(token="1:test"))
    app = build_application(Runtime(None, config, SystemClock()))  # type: ignore[arg-type]
    answered = {command for handlers in app.handlers.values() for handler in handlers
                if isinstance(handler, CommandHandler) for command in handler.commands}
    assert answered == set(PURCHASER_COMMANDS + ADMIN_COMMANDS)
