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


def t(lang: str, key: str, **params: Any) -> str:
    """The text `key` in `lang`, with placeholders filled; a missing key is a bug, so it raises."""
    return catalog(lang if lang in LANGUAGES else "en")[key].format(**params)
