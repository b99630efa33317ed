import warnings

import pytest
from fontTools.ttLib import TTFont
from scoring_helpers import make_ballot, ordinary_round

from scoring.chart import FONT_PATH, ChartText, render_png
from scoring.model import Method
from scoring.scorecard import score_round

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The chart's words come from its caller (the bot's catalogs); these stand in for them.
WORDS = {
    "en": ("Overall", "insufficient data (n={n})", "n = 40 accepted of 40 submitted   ·   response 50% (40/80 invited)",
           "method rh-score/1   ·   bars: 95% interval", "hearts (1–5)"),
    "zh": ("总分", "数据不足（n={n}）", "n = 有效 40 / 提交 40   ·   回复率 50%（40/80 邀请）",
           "方法 rh-score/1   ·   误差线：95% 区间", "红心（1–5）"),
}


def report_for(ballots, factors):
    return score_round(ballots, factors, Method()).to_report(5, "SKU5", "published", 80)


def words(factors, lang):
    return ChartText(*WORDS[lang], labels={f.key: f.label(lang) for f in factors})


def test_the_shipped_font_is_small_licensed_and_covers_chinese_labels(factors):
    assert FONT_PATH.is_file() and FONT_PATH.stat().st_size < 10 * 1024 * 1024
    assert (FONT_PATH.parent / "LICENSE-Apache-2.0.txt").is_file()
    cmap = TTFont(FONT_PATH).getBestCmap()
    text = "".join(f.label_zh for f in factors) + "总分数据不足（n=）回复率邀请有效提交方法误差线区间红心♥–·"
    assert [ch for ch in text if ord(ch) not in cmap] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chart_renders_a_png_with_no_missing_glyphs(factors, lang):
    ballots = [make_ballot(b.ballot, {**b.answers, "aroma": None}) for b in ordinary_round(40)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(report_for(ballots, factors), words(factors, lang), "丝滑洗发水 Silky Shampoo")
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    assert [str(w.message) for w in caught if "glyph" in str(w.message).lower()] == []


def test_an_insufficient_round_still_renders(factors):
    png = render_png(report_for(ordinary_round(3), factors), words(factors, "zh"), "小样")
    assert png.startswith(PNG_SIGNATURE)


def test_rendering_does_not_load_pyplot_or_switch_the_backend(factors):
    import sys

    import matplotlib

    before = matplotlib.get_backend() if "matplotlib.pyplot" in sys.modules else None
    render_png(report_for(ordinary_round(40), factors), words(factors, "en"), "x")
    if before is None:
        assert "matplotlib.pyplot" not in sys.modules
    else:
        assert matplotlib.get_backend() == before
