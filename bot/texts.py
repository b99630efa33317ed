"""The text catalogs: one TOML file per language in bot/locales, loaded once, and the one rendering path.

Catalog texts are Telegram HTML (`parse_mode="HTML"`). `t` fills their placeholders and escapes every
value on the way in, so a product named `<Tom & Jerry>` can never break a message (Telegram answers
400 "can't parse entities" to an unescaped `<` or `&`). A value that is already markup — another
`t(...)` result, or a fragment built from them — is an `Html` and goes in as it is. Terminals and
images have no HTML: they use `t_plain`.
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from bot.domain.errors import DomainError, LinkRefused
from bot.domain.settings import LANGUAGES


@cache
def catalog(lang: str) -> dict[str, str]:
    data = resources.files("bot.locales").joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def lookup(lang: str, key: str) -> str | None:
    """The text `key` in `lang` (English for a language we do not speak), placeholders unfilled; None
    when the catalog has no such key."""
    return catalog(lang if lang in LANGUAGES else "en").get(key)


class Html(str):
    """Text that is already Telegram HTML: `t` inserts it unescaped. `t` returns one."""

    __slots__ = ()


def _safe(value: Any) -> Any:
    if isinstance(value, Html | int | float):
        return value  # numbers keep their format specs ({rate:.0%})
    return html.escape(str(value), quote=False)


def t(lang: str, key: str, **params: Any) -> Html:
    """The text `key` in `lang` as Telegram HTML, every placeholder's value escaped unless it is `Html`;
    a missing key is a bug, so it raises."""
    return Html(t_plain(lang, key, **{name: _safe(value) for name, value in params.items()}))


def t_plain(lang: str, key: str, **params: Any) -> str:
    """The text `key` in `lang` with placeholders filled as given: for terminals and images, not HTML."""
    text = lookup(lang, key)
    if text is None:
        raise KeyError(key)
    return text.format(**params)


def error_message(error: DomainError, lang: str, *, plain: bool = False) -> str:
    """A domain error in the user's words: HTML for a message, `plain` for an alert or a terminal."""
    key = f"link.refused.{error.params['reason']}" if isinstance(error, LinkRefused) else error.key
    return (t_plain if plain else t)(lang, key, **error.params)


def html_lines(lines: Iterable[str], sep: str = "\n") -> Html:
    """Lines that are each already HTML (`t` results), joined: still HTML."""
    return Html(sep.join(lines))


HEART, NO_HEART = "❤️", "🤍"


def hearts(score: float) -> str:
    """Five hearts, the score rounded half up to whole hearts filled."""
    filled = max(0, min(5, int(score + 0.5)))
    return HEART * filled + NO_HEART * (5 - filled)
