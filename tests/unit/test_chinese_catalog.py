"""The Chinese catalog is Chinese: no English word outside a short allow-list, Chinese punctuation, one
form of address; and no catalog shows buyers statistical jargon."""

from __future__ import annotations

import re

import pytest

from bot.texts import catalog

# Words a Chinese shopping app shows as they are: product codes, file formats, the platform, the name
# of the other language on the language button, and the unit of file sizes.
ALLOWED = {"SKU", "CSV", "TOML", "JSON", "Telegram", "English", "MB"}
# Duration units in the duration error ("45s", "s（秒）") and "n" as a count are the only single letters.
ALLOWED_LETTERS = {"s", "m", "h", "d", "n"}

_STRIPPED = [
    re.compile(r"<code>.*?</code>", re.S),  # a command line is code, not copy
    re.compile(r"<[^>]+>"),  # HTML tags
    re.compile(r"\{[^}]*\}"),  # placeholders
    re.compile(r"/[a-z_]+"),  # bot commands
    re.compile(r"--[a-z-]+"),  # command-line options
    re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)*\d[A-Z0-9-]*"),  # example codes: SKU1, SHAMPOO-001, C0042
    re.compile(r"\d+[smhd]\b"),  # example durations: 45s, 7d
]


def english_words(text: str) -> list[str]:
    for pattern in _STRIPPED:
        text = pattern.sub(" ", text)
    words = re.findall(r"[A-Za-z]+", text)
    return [w for w in words if w not in ALLOWED and w not in ALLOWED_LETTERS]


def test_the_detector_finds_english_in_chinese_and_lets_the_allowed_words_through() -> None:
    assert english_words("第 2 轮当前状态为 cancelled，无法cancelled。") == ["cancelled", "cancelled"]
    assert english_words("热度 65 ‹ 100 — sales 12 < 50") == ["sales"]
    assert english_words("以 excluded_rater 被筛除") == ["excluded", "rater"]
    assert english_words("用法：/newround SKU [时长]，例如 /newround SHAMPOO-001 7d 500") == []
    assert english_words("<b>{product}</b> 超过 20 MB，请用 <code>redheart import</code>") == []


@pytest.mark.parametrize("key", sorted(catalog("zh")))
def test_every_chinese_text_is_chinese(key: str) -> None:
    assert english_words(catalog("zh")[key]) == [], catalog("zh")[key]


@pytest.mark.parametrize("key", sorted(catalog("zh")))
def test_chinese_texts_use_chinese_punctuation_and_address_the_reader_as_nin(key: str) -> None:
    text = catalog("zh")[key]
    prose = re.sub(r"<[^>]+>|\{[^}]*\}|<code>.*?</code>", "", text)
    assert "你" not in prose, text
    # An ASCII comma, colon, semicolon, question mark or parenthesis next to a Chinese character.
    han = r"[\u4e00-\u9fff]"
    assert not re.search(rf"{han}\s*[,;:?!()]|[,;:?!()]\s*{han}", prose), text


# What a buyer reads: their chat with the bot, apart from the admin texts and the public scorecard.
BUYER_PREFIXES = ("help.purchaser", "start.", "link.", "error.not_", "error.forgotten", "error.text_",
                  "error.apology", "alert.", "rate.", "invite.", "remind.", "stop.", "thanks.", "myratings.",
                  "forget.", "flood.", "profile.", "menu.rate", "menu.my", "menu.stop", "menu.forgetme")
JARGON = re.compile(r"\bn\s*=|\bCI\b|interval|hash|method|rh-score|置信|区间|哈希|方法")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_buyers_never_read_statistical_jargon(lang: str) -> None:
    buyer_texts = {key: text for key, text in catalog(lang).items() if key.startswith(BUYER_PREFIXES)}
    assert len(buyer_texts) > 30
    assert {key: text for key, text in buyer_texts.items() if JARGON.search(text)} == {}
