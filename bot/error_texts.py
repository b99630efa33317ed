"""A domain error in the user's words: its text, with the values it carries worded in the same language.

Errors carry what happened as data (a round's status, the thresholds a product misses); English words
in a Chinese sentence ("第 2 轮当前状态为 cancelled") were the result of passing those values on raw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.eligibility import Shortfall
from bot.domain.errors import DomainError, LinkRefused, ProductNotEligible, RoundStateError
from bot.domain.storedata import ImportFailed
from bot.formats import plural
from bot.texts import t, t_plain


def shortfalls_text(shortfalls: tuple[Shortfall, ...], lang: str) -> str:
    """"popularity 65 (needs ≥ 100), sales 12 (needs ≥ 50)", "热度 65（需 ≥ 100），销量 12（需 ≥ 50）"."""
    return t_plain(lang, "scorecard.list_sep").join(
        t_plain(lang, f"shortfall.{s.measure}", value=s.value, minimum=s.minimum) for s in shortfalls
    )


def products_why(shortfalls: tuple[Shortfall, ...], lang: str) -> str:
    """What a product's line in a ranking adds when it misses thresholds: " — popularity 65 (needs ≥ 100)"."""
    return t_plain(lang, "products.why", shortfalls=shortfalls_text(shortfalls, lang)) if shortfalls else ""


def error_message(error: DomainError, lang: str, *, plain: bool = False) -> str:
    """The error's text in `lang`: HTML for a message, `plain` for an alert or a terminal."""
    render: Callable[..., str] = t_plain if plain else t
    if isinstance(error, LinkRefused):
        return render(lang, f"link.refused.{error.params['reason']}")
    params: dict[str, Any] = dict(error.params)
    if isinstance(error, RoundStateError):
        params |= {"status": t_plain(lang, f"status.{params['status']}"),
                   "action": t_plain(lang, f"round_action.{params['action']}")}
    if isinstance(error, ProductNotEligible):
        params["why"] = shortfalls_text(params.pop("shortfalls"), lang)
    key = plural(error.key, params["count"], lang) if isinstance(error, ImportFailed) else error.key
    return render(lang, key, **params)
