"""Phones as Chinese stores and Telegram write them; dates, numbers and plurals per language and zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.phones import normalise_phone
from bot.formats import day, number, percent, when
from bot.texts import tn


@pytest.mark.parametrize("written", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                     "+8613800138000", "8613800138000", "0086 138 0013 8000"])
def test_a_store_writes_one_chinese_mobile_many_ways_and_all_are_one_e164_number(written: str) -> None:
    assert normalise_phone(written, "CN") == "+8613800138000"


def test_telegram_digits_without_plus_are_international_first() -> None:
    assert normalise_phone("8613800138000", "CN", international=True) == "+8613800138000"
    assert normalise_phone("12025550123", "CN", international=True) == "+12025550123"  # a US buyer
    # Read as a Chinese number, the same digits are not valid: the store's file is read locally first.
    assert normalise_phone("12025550123", "CN") == "+12025550123"
    assert normalise_phone("2025550123", "US") == "+12025550123"


@pytest.mark.parametrize("wrong", ["", "abc", "1380013800", "+86 138", "+999 1234567", "138001380001234"])
def test_a_number_that_is_not_valid_is_refused_not_guessed(wrong: str) -> None:
    assert normalise_phone(wrong, "CN") is None
    assert normalise_phone(wrong, "CN", international=True) is None


SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON_UTC = datetime(2026, 11, 8, 12, 0, tzinfo=UTC)


def test_times_are_the_stores_local_time_written_as_each_language_writes_it() -> None:
    assert when(NOON_UTC, "zh", SHANGHAI) == "11月8日 20:00"
    assert when(NOON_UTC, "en", SHANGHAI) == "8 Nov, 20:00"
    assert when(NOON_UTC, "en", ZoneInfo("Europe/London")) == "8 Nov, 12:00"
    # Past midnight in Beijing is the next day there.
    assert when(datetime(2026, 3, 4, 17, 30, tzinfo=UTC), "zh", SHANGHAI) == "3月5日 01:30"
    assert day(datetime(2025, 12, 31, 18, 0, tzinfo=UTC), "zh", SHANGHAI) == "2026年1月1日"
    assert day(datetime(2025, 12, 31, 18, 0, tzinfo=UTC), "en", SHANGHAI) == "1 Jan 2026"
    # The database's naive times are UTC, never the machine's local time.
    assert when(NOON_UTC.replace(tzinfo=None), "zh", SHANGHAI) == "11月8日 20:00"


def test_numbers_and_plurals_follow_the_language() -> None:
    assert number(12345, "zh") == "12,345" and number(4.25, "en") == "4.25"
    assert percent(0.425, "en") == "42%" and percent(0.425, "zh") == "42%"
    assert tn("en", "forget.withdrawn", 1) == "1 open rating withdrawn"
    assert tn("en", "forget.withdrawn", 2) == "2 open ratings withdrawn"
    assert tn("en", "forget.withdrawn", 0) == "0 open ratings withdrawn"
    assert tn("zh", "forget.withdrawn", 1) == "撤回进行中的评分 1 条"


def test_no_catalog_writes_a_plural_with_parentheses() -> None:
    from bot.texts import catalog

    for lang in ("en", "zh"):
        assert [key for key, text in catalog(lang).items() if "(s)" in text or "(es)" in text] == []
