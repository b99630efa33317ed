"""A name or question the store wrote in each language the bot speaks, and the one place that
chooses between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bilingual:
    """The same text in English and in Chinese, as a category or factor row holds it.

    Called with a language it gives that reader's text — `factor.label(lang)` — and English for any
    language but Chinese, as the texts catalog falls back.
    """

    en: str
    zh: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @classmethod
    def of(cls, fields: Mapping[str, Any], name: str) -> Bilingual:
        """The text a report or a design keeps as `{name}_en` and `{name}_zh` ("" for one it lacks)."""
        return cls(str(fields.get(f"{name}_en") or ""), str(fields.get(f"{name}_zh") or ""))
