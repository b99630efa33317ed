"""The scorecard in words: text, the channel caption and the chart's labels, all from the catalogs."""

import html
import re
import warnings
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from fontTools.ttLib import TTFont

from bot.scorecard_text import CAPTION_LIMIT, chart_text, render_caption, render_text
from bot.texts import catalog, hearts
from scoring.chart import FONT_PATH, render_png
from scoring.model import FactorSpec, Method
from scoring.scorecard import score_round
from scoring.screening import REASONS
from tests.scoring.scoring_helpers import make_ballot, ordinary_round, shampoo_factors


@pytest.fixture
def factors() -> list[FactorSpec]:
    return shampoo_factors()


def report_for(ballots, factors, invited=80):
    return score_round(ballots, factors, Method()).to_report(5, "SKU5", "published", invited)


def test_hearts_fill_to_the_rounded_score():
    assert hearts(4.49) == "❤️" * 4 + "🤍"
    assert hearts(4.5) == "❤️" * 5
    assert hearts(1.0) == "❤️" + "🤍" * 4


def test_the_english_text_shows_overall_interval_counts_and_method(factors):
    ballots = [*ordinary_round(40), make_ballot("fast", seconds=2)]
    report = report_for(ballots, factors)
    text = render_text(report, "en", title="Silky Shampoo")
    assert "Silky Shampoo" in text
    assert f"Overall {hearts(report['overall']['score'])} {report['overall']['score']:.2f}" in text
    assert "95% CI" in text and "40 accepted of 41 submitted" in text and "response 51%" in text
    assert "completed too fast 1" in text and report["method"] in text
    assert "Aroma" in text


def test_the_chinese_text_uses_chinese_labels_and_words(factors):
    text = render_text(report_for(ordinary_round(40), factors), "zh")
    assert "总分" in text and "香味" in text and "置信区间" in text and "方法" in text


def test_an_insufficient_round_says_so_and_shows_no_score(factors):
    report = report_for(ordinary_round(12), factors)
    en, zh = render_text(report, "en"), render_text(report, "zh")
    assert "insufficient data (n=12)" in en and "数据不足（n=12）" in zh
    assert not re.search(r"\d\.\d\d", en) and not re.search(r"\d\.\d\d", zh)


def test_an_insufficient_factor_says_so_with_its_count(factors):
    ballots = [make_ballot(b.ballot, {**b.answers, "aroma": None}) for b in ordinary_round(40)]
    text = render_text(report_for(ballots, factors), "en")
    assert "Aroma  insufficient data (n=0)" in text


def test_labels_given_by_the_caller_win_over_the_reports(factors):
    text = render_text(report_for(ordinary_round(40), factors), "en", labels={"aroma": "Scent"})
    assert "Scent" in text and "Aroma" not in text


def test_the_caption_escapes_html_in_titles_and_labels():
    factors = [FactorSpec("a", "<b>bold</b> & co", "<i>x</i>")]
    ballots = [make_ballot(f"b{i}", {"a": 4}) for i in range(40)]
    caption = render_caption(report_for(ballots, factors), "en", title="A<script>")
    assert "<script>" not in caption and "A&lt;script&gt;" in caption
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in caption
    assert set(re.findall(r"</?(\w+)", caption)) <= {"b"}


def test_the_caption_fits_telegrams_limit_even_with_many_long_factors():
    factors = [FactorSpec(f"f{i}", "A rather long factor label " * 3, "一个相当长的因素标签" * 8) for i in range(10)]
    ballots = [make_ballot(f"b{i}", {f.key: 2 + (i + j) % 4 for j, f in enumerate(factors)}) for i in range(40)]
    for lang in ("en", "zh"):
        caption = render_caption(report_for(ballots, factors), lang, title="T" * 100)
        assert len(caption.encode("utf-16-le")) // 2 <= CAPTION_LIMIT
        assert "…" in caption and caption.count("<b>") == caption.count("</b>")
        assert "rh-score/" in caption


def test_a_caption_that_fits_keeps_every_factor(factors):
    caption = render_caption(report_for(ordinary_round(40), factors), "zh")
    assert all(html.escape(f.label_zh) in caption for f in factors) and "…" not in caption


def test_every_screening_reason_has_words_in_every_language():
    for lang in ("en", "zh"):
        assert {f"reason.{code}" for code in REASONS} <= set(catalog(lang)), lang


def test_a_reason_the_catalogs_do_not_know_yet_shows_as_its_code(factors):
    report = report_for(ordinary_round(40), factors)
    report["ballots"]["excluded"] = {"new_rule": 2}
    assert "Excluded: new_rule 2" in render_text(report, "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chart_in_the_catalogs_words_renders_with_no_missing_glyph(factors, lang):
    report = report_for([make_ballot(b.ballot, {**b.answers, "aroma": None}) for b in ordinary_round(40)], factors)
    text = chart_text(report, lang, datetime(2026, 11, 8, 12, tzinfo=UTC))
    cmap = TTFont(FONT_PATH).getBestCmap()
    words = "".join(str(getattr(text, f.name)) for f in fields(text)) + "".join(text.labels.values())
    assert [ch for ch in words if ord(ch) not in cmap and not ch.isspace()] == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(report, text, "丝滑洗发水 Silky Shampoo")
    assert png.startswith(b"\x89PNG") and [w for w in caught if "glyph" in str(w.message).lower()] == []


@pytest.mark.parametrize(("lang", "dated", "legend"), [
    ("en", "Round 5 · 8 Nov 2026", "Bar: the score, from 1 to 5 ♥."),
    ("zh", "第 5 期 · 2026年11月8日", "色条是得分（1–5 颗心）"),
])
def test_the_chart_is_dated_with_its_round_and_its_legend_says_the_bar_is_the_score(factors, lang, dated, legend):
    report = report_for(ordinary_round(40), factors)
    text = chart_text(report, lang, datetime(2026, 11, 8, 12, tzinfo=UTC))
    assert text.subtitle == dated
    assert text.legend.startswith(legend) and "95%" in text.legend
    assert "interval" not in text.legend.split(".")[0]  # the bar is the score, not the interval


def test_a_chart_of_scored_ballots_without_a_round_is_not_dated(factors):
    report = {**report_for(ordinary_round(40), factors), "round_id": None}
    assert chart_text(report, "en").subtitle == ""
