"""Dates, times, numbers and plurals as each language writes them (Babel's CLDR data), in the store's
time zone (`bot.timezone`).

Buyers in Beijing read "11月8日 20:00" and "8 Nov, 20:00", never a UTC time; the year shows only where
it may differ from this year's (a purchase date). The texts around these values are in the catalogs;
a text that counts things picks its plural form here (`plural`), so no catalog writes "rating(s)".
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

# The CLDR locale of each language we speak: simplified Chinese as in mainland China; British English
# for its day-month order ("8 Nov"), which reads unambiguously to a Chinese store's staff too.
_LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}
_WHEN = {"zh": "M月d日 HH:mm", "en": "d MMM, HH:mm"}
_DAY = {"zh": "y年M月d日", "en": "d MMM y"}


@cache
def locale(lang: str) -> Locale:
    return Locale.parse(_LOCALES.get(lang, _LOCALES["en"]))


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    # A naive time is UTC here (the database keeps UTC), never the machine's local time.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def when(moment: datetime, lang: str, zone: ZoneInfo) -> str:
    """A deadline or opening time in the store's zone: "11月8日 20:00", "8 Nov, 20:00"."""
    return format_datetime(_local(moment, zone), _WHEN.get(lang, _WHEN["en"]), locale=locale(lang))


def day(moment: datetime, lang: str, zone: ZoneInfo) -> str:
    """A calendar day with its year, in the store's zone: "2026年3月5日", "5 Mar 2026"."""
    return format_datetime(_local(moment, zone), _DAY.get(lang, _DAY["en"]), locale=locale(lang))


def number(value: int | float, lang: str) -> str:
    """A count or score with the language's grouping and decimal signs: "1,234", "4.2"."""
    return format_decimal(value, locale=locale(lang))


def percent(share: float, lang: str) -> str:
    """A share as a whole percentage: "42%"."""
    return format_percent(share, locale=locale(lang))


def plural(key: str, count: int, lang: str) -> str:
    """The catalog key of `key`'s form for `count` in `lang` ("forget.withdrawn.one" in English for 1;
    Chinese has one form, "other")."""
    return f"{key}.{locale(lang).plural_form(count)}"
