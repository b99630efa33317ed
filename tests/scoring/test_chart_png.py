"""The scorecard picture, read as a phone shows it: 1080 px wide on a ~390 pt screen."""

import struct
import warnings

import pytest
from fontTools.ttLib import TTFont
from scoring_helpers import make_ballot, ordinary_round

from scoring.chart import FONT_PATH, MARGIN_PX, WIDTH_PX, ChartText, layout_chart, render_png, wrap
from scoring.model import FactorSpec, Method
from scoring.scorecard import score_round

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHONE_POINTS_PER_PIXEL = 390 / 1080
LONG_NAME = "Silky Smooth Daily Moisture Repair Shampoo for Dry and Damaged Hair 丝滑修护洗发水 500ml"
LONG_LABEL = "Cleansing power without stripping natural oils from the scalp"
# The chart's words come from its caller (the bot's catalogs); these stand in for them.
WORDS = {
    "en": ("Round 5 · 8 Nov 2026", "Overall", "95% interval {low}–{high} · {n} buyers counted",
           "{top}% gave 4–5 ♥", "95% interval {low}–{high} · {n} answers", "Too few answers ({n})",
           "Too few ballots: {n} counted, {needed} needed", "40 of 40 ballots counted\n50% of 80 replied",
           "Rated on: everything", "Bar: the score. Line: its 95% interval.", "Method rh-score/1"),
    "zh": ("第 5 期 · 2026年11月8日", "综合评分", "95% 区间 {low}–{high} · 共 {n} 位买家",
           "{top}% 打了 4–5 颗心", "95% 区间 {low}–{high} · {n} 人作答", "作答人数太少（{n} 人）",
           "有效评价太少：已有 {n} 份，至少需要 {needed} 份",
           "有效评价 40 份（共收到 40 份）\n邀请 80 位买家，50% 参与了评价",
           "评价维度：清洁力、香味", "色条是得分；黑线是 95% 区间。", "评分方法 rh-score/1"),
}


def report_for(ballots, factors):
    return score_round(ballots, factors, Method()).to_report(5, "SKU5", "published", 80)


def words(factors, lang):
    return ChartText(*WORDS[lang], labels={f.key: f.label(lang) for f in factors})


def long_factors(factors):
    return [FactorSpec(factors[0].key, LONG_LABEL, "清洁力强但不会带走头皮的天然油脂，洗后清爽不紧绷"), *factors[1:]]


def png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def test_the_shipped_font_is_small_licensed_and_covers_chinese_labels(factors):
    assert FONT_PATH.is_file() and FONT_PATH.stat().st_size < 10 * 1024 * 1024
    assert (FONT_PATH.parent / "LICENSE-Apache-2.0.txt").is_file()
    cmap = TTFont(FONT_PATH).getBestCmap()
    text = "".join(f.label_zh for f in factors) + "".join("".join(w) for w in WORDS["zh"])
    assert [ch for ch in text if ord(ch) not in cmap and not ch.isspace()] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chart_is_a_phone_wide_png_with_no_missing_glyphs(factors, lang):
    ballots = [make_ballot(b.ballot, {**b.answers, "aroma": None}) for b in ordinary_round(40)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(report_for(ballots, factors), words(factors, lang), LONG_NAME)
    assert png.startswith(PNG_SIGNATURE)
    width, height = png_size(png)
    assert width == WIDTH_PX and height > width
    assert [str(w.message) for w in caught if "glyph" in str(w.message).lower()] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_text_reads_at_nine_points_or_more_on_a_phone(factors, lang):
    layout = layout_chart(report_for(ordinary_round(40), factors), words(factors, lang), LONG_NAME)
    assert min(item.px for item in layout.texts) * PHONE_POINTS_PER_PIXEL >= 9


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_long_names_wrap_inside_the_image_and_no_two_texts_overlap(factors, lang):
    factors = long_factors(factors)
    layout = layout_chart(report_for(ordinary_round(40), factors), words(factors, lang), LONG_NAME)
    boxes = []
    for item in layout.texts:
        width = layout.measure(item.text, item.px, item.bold)
        left = item.x if item.align == "left" else item.x - width if item.align == "right" else item.x - width / 2
        assert left + 0.5 >= MARGIN_PX and left + width <= WIDTH_PX - MARGIN_PX + 0.5, item.text
        boxes.append((left, item.y, left + width, item.y + item.px, item.text))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a[4], b[4])
    shown = "".join(item.text for item in layout.texts).replace(" ", "")
    assert LONG_NAME.replace(" ", "") in shown  # wrapped, nothing cut off
    assert factors[0].label(lang).replace(" ", "") in shown


def test_chinese_wraps_between_characters_and_never_starts_a_line_with_a_comma():
    measure = len  # one unit a character
    # 16 characters fit a line; the comma would be the 17th, so it goes down with the character it follows.
    lines = wrap("清洁力强但不会带走头皮的天然油脂，洗后清爽", 16, measure)
    assert lines == ["清洁力强但不会带走头皮的天然油", "脂，洗后清爽"]
    assert wrap("a verylongwordthatcannotfit here", 10, measure) == ["a", "verylongwo", "rdthatcann", "otfit here"]


def test_each_factor_shows_the_share_of_four_and_five_hearts_beside_its_interval(factors):
    report = report_for(ordinary_round(40), factors)
    report["factors"][0]["distribution"] = [1, 1, 2, 3, 3]
    layout = layout_chart(report, words(factors, "en"), "x")
    notes = [item.text for item in layout.texts if "gave 4–5" in item.text]
    low, high = report["factors"][0]["ci"]
    assert notes[0] == f"60% gave 4–5 ♥ · 95% interval {low:.2f}–{high:.2f} · 40 answers"
    assert len(notes) == len(factors)


def test_a_report_without_the_optional_keys_still_reads_well(factors):
    report = report_for(ordinary_round(40), factors)
    for f in report["factors"]:
        del f["distribution"]
    texts = [item.text for item in layout_chart(report, words(factors, "en"), "x").texts]
    low, high = report["factors"][0]["ci"]
    assert f"95% interval {low:.2f}–{high:.2f} · 40 answers" in texts and not any("gave" in t for t in texts)
    short = report_for(ordinary_round(3), factors)
    del short["min_ballots"]
    texts = [item.text for item in layout_chart(short, words(factors, "en"), "x").texts]
    assert "Too few answers (3)" in texts and not any("?" in t for t in texts)


def test_the_overall_says_how_many_buyers_it_counts(factors):
    report = report_for(ordinary_round(40), factors)
    texts = [item.text for item in layout_chart(report, words(factors, "en"), "x").texts]
    low, high = report["overall"]["ci"]
    assert f"95% interval {low:.2f}–{high:.2f} · 40 buyers counted" in texts
    assert "Round 5 · 8 Nov 2026" in texts


def test_an_insufficient_round_draws_no_empty_tracks_and_names_its_factors(factors):
    report = report_for(ordinary_round(3), factors)
    layout = layout_chart(report, words(factors, "zh"), "小样")
    texts = [item.text for item in layout.texts]
    assert "有效评价太少：已有 3 份，至少需要 30 份" in texts and "评价维度：清洁力、香味" in texts
    assert all(box.h <= 2 for box in layout.boxes)  # only the two rules: no bar, no track, no interval
    assert not any("♥" in text and "4–5" in text for text in texts)
    assert png_size(render_png(report, words(factors, "zh"), "小样"))[0] == WIDTH_PX


def test_rendering_does_not_load_pyplot_or_switch_the_backend(factors):
    import sys

    import matplotlib

    before = matplotlib.get_backend() if "matplotlib.pyplot" in sys.modules else None
    render_png(report_for(ordinary_round(40), factors), words(factors, "en"), "x")
    if before is None:
        assert "matplotlib.pyplot" not in sys.modules
    else:
        assert matplotlib.get_backend() == before
