"""The text catalogs: one TOML file per language in bot/locales, loaded once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh", "en")


@cache
def catalog(lang: str) -> dict[str, str]:
    data = resources.files("bot.locales").joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def t(lang: str, key: str, **params: Any) -> str:
    """The text `key` in `lang`, with placeholders filled; a missing key is a bug, so it raises."""
    return catalog(lang if lang in LANGUAGES else "en")[key].format(**params)


def pick_language(telegram_code: str | None, chosen: str | None, default: str) -> str:
    """The user's own choice first, then their Telegram language, then the configured default."""
    if chosen in LANGUAGES:
        return chosen
    if telegram_code:
        code = telegram_code.lower()
        if code.startswith("zh"):
            return "zh"
        if code.startswith("en"):
            return "en"
    return default
