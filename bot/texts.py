"""The text catalogs: one TOML file per language in bot/locales, loaded once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from bot.domain.settings import LANGUAGES


@cache
def catalog(lang: str) -> dict[str, str]:
    data = resources.files("bot.locales").joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def lookup(lang: str, key: str) -> str | None:
    """The text `key` in `lang` (English for a language we do not speak), placeholders unfilled; None
    when the catalog has no such key."""
    return catalog(lang if lang in LANGUAGES else "en").get(key)


def t(lang: str, key: str, **params: Any) -> str:
    """The text `key` in `lang`, with placeholders filled; a missing key is a bug, so it raises."""
    text = lookup(lang, key)
    if text is None:
        raise KeyError(key)
    return text.format(**params)


HEART, NO_HEART = "❤️", "🤍"


def hearts(score: float) -> str:
    """Five hearts, the score rounded half up to whole hearts filled."""
    filled = max(0, min(5, int(score + 0.5)))
    return HEART * filled + NO_HEART * (5 - filled)
