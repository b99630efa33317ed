"""The scorecard picture: a PNG laid out for a phone, drawn from a report dict. Its words are the
caller's (`ChartText`): the scoring library holds numbers and reason codes, never texts.

The image is 1080 px wide, the width Telegram keeps for a photo, and is read on a phone about 390 pt
wide, so one image pixel is ~0.36 pt on screen. The old side-by-side chart (labels left of bars, 8 in
at 150 dpi) set text at 8–11 pt, 4–6 pt on the phone. Here every row stacks its label, a 1–5 track
with the score bar and its 95% interval, and a note (share of 4–5 hearts, interval, n), so nothing
shares a line with a long label, and the smallest text (the footer) is 26 px ≈ 9.4 pt on screen, the
body 34–38 px ≈ 12–14 pt. Long names wrap, measured with the font, and are never clipped.

It uses matplotlib's object API (`Figure` + the Agg canvas) and never pyplot, so no global backend or
rcParams are touched and it is safe in a bot process. Text is set in the WenQuanYi Micro Hei font
shipped in `scoring/fonts/` (Apache-2.0), which covers Latin and all GBK Hanzi: Chinese labels render
on any machine, whatever fonts it has installed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

FONT_PATH = Path(__file__).parent / "fonts" / "WenQuanYiMicroHei.ttf"

HEART_RED = "#d7263d"
SOFT_RED = "#ef8a98"
TRACK = "#f6e3e6"
INK = "#1f1f1f"
MUTED = "#5c5c5c"
RULE = "#e6e6e6"

WIDTH_PX = 1080
MARGIN_PX = 60
#: Text sizes in image pixels; × 390/1080 gives points on a phone (the footer's 26 px ≈ 9.4 pt).
SIZES = {"title": 46, "overall_score": 64, "score": 42, "label": 38, "note": 32, "footer": 26}
SCORE_BOX_PX = 190  # room at the right of a label for its score
LINE = 1.3  # line height, in font sizes


@dataclass(frozen=True)
class ChartText:
    """Every word on the chart, in the reader's language. Templates name the numbers they take."""

    subtitle: str  # the round and its date
    overall: str  # the overall's label
    overall_note: str  # {low} {high} {n}: the overall's interval and the buyers it counts
    share: str  # {top}: the share of 4–5 hearts, shown before the factor's note
    factor_note: str  # {low} {high} {n}: interval, answers
    insufficient: str  # {n}: a factor without a score
    round_insufficient: str  # {n} {needed}: a round without a score
    info: str  # the ballots counted, and the response (one per line)
    rated_on: str  # the factors, in one line, for a round without a score
    legend: str  # what the bar and the line are
    method: str  # the scoring method's version
    labels: Mapping[str, str]  # factor key -> its row's label


def _font(px: float, dpi: float, weight: str = "normal") -> FontProperties:
    return FontProperties(fname=str(FONT_PATH), size=px * 72 / dpi, weight=weight)


# A token is a run of non-space Latin, one CJK character or full-width punctuation, or a space run:
# lines break between tokens, so Chinese wraps anywhere and English between words.
# Closing punctuation sticks to the character before it, so no line starts with "，" or "）".
_TOKENS = re.compile(
    r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef][，。、；：！？）」』\u3001\u3002]*"
    r"|[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+|\s+"
)


def wrap(text: str, width: float, measure: Any) -> list[str]:
    """`text` broken into lines no wider than `width` as `measure(str) -> px` says; a word wider than
    a line is cut by characters."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        if measure(line + token) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if token.isspace() else token
        while measure(line) > width and len(line) > 1:  # one word wider than the line
            cut = len(line) - 1
            while cut > 1 and measure(line[:cut]) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # the line's top, px from the image's top
    text: str
    px: float
    colour: str = INK
    bold: bool = False
    align: str = "left"


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float
    colour: str


class _Layout:
    """Texts and boxes placed top to bottom, in pixels from the top left."""

    def __init__(self, dpi: float) -> None:
        self.dpi = dpi
        self.y = float(MARGIN_PX)
        self.texts: list[_Text] = []
        self.boxes: list[_Box] = []
        scratch = Figure(figsize=(WIDTH_PX / dpi, 1), dpi=dpi)
        self._renderer: RendererAgg = FigureCanvasAgg(scratch).get_renderer()  # type: ignore[no-untyped-call]

    def measure(self, text: str, px: float, bold: bool = False) -> float:
        font = _font(px, self.dpi, "bold" if bold else "normal")
        size = self._renderer.get_text_width_height_descent(text, font, ismath=False)  # type: ignore[no-untyped-call]
        return float(size[0])

    def paragraph(self, text: str, px: float, *, width: float | None = None, colour: str = INK,
                  bold: bool = False, x: float = MARGIN_PX) -> None:
        """Wrapped lines of `text` from the current height down."""
        width = width if width is not None else WIDTH_PX - 2 * MARGIN_PX
        for part in text.splitlines() or [""]:
            for line in wrap(part, width, lambda s: self.measure(s, px, bold)):
                self.texts.append(_Text(x, self.y, line, px, colour, bold))
                self.y += px * LINE

    def scale(self, px: float) -> None:
        """The whole hearts 1–5 over the tracks below, each at its place on them."""
        span = WIDTH_PX - 2 * MARGIN_PX
        for whole, align in ((1, "left"), (2, "center"), (3, "center"), (4, "center"), (5, "right")):
            x = MARGIN_PX + span * (whole - 1) / 4
            self.texts.append(_Text(x, self.y, f"{whole} ♥" if whole == 5 else str(whole), px, MUTED, False, align))
        self.y += px * LINE

    def right(self, text: str, px: float, y: float, colour: str, bold: bool = True) -> None:
        self.texts.append(_Text(WIDTH_PX - MARGIN_PX, y, text, px, colour, bold, "right"))

    def space(self, px: float) -> None:
        self.y += px

    def rule(self) -> None:
        self.boxes.append(_Box(MARGIN_PX, self.y, WIDTH_PX - 2 * MARGIN_PX, 2, RULE))

    def track(self, score: float, ci: Sequence[float] | None, *, height: float, colour: str) -> None:
        """The 1–5 track: the score as a filled bar from 1, its interval as a dark line with caps."""
        left, span = float(MARGIN_PX), float(WIDTH_PX - 2 * MARGIN_PX)

        def at(value: float) -> float:
            return left + span * (min(5.0, max(1.0, value)) - 1) / 4

        top = self.y
        self.boxes.append(_Box(left, top, span, height, TRACK))
        self.boxes.append(_Box(left, top, at(score) - left, height, colour))
        for whole in (2, 3, 4):  # the whole hearts, as thin white gaps across the bar
            self.boxes.append(_Box(at(whole) - 1.5, top, 3, height, "white"))
        if ci:
            mid, cap = top + height / 2, height * 0.8
            self.boxes.append(_Box(at(ci[0]), mid - 2.5, at(ci[1]) - at(ci[0]), 5, INK))
            for end in ci:
                self.boxes.append(_Box(at(end) - 2.5, mid - cap / 2 - height * 0.1, 5, cap + height * 0.2, INK))
        self.y += height


def _top_share(factor: Mapping[str, Any]) -> int | None:
    """The share of 4–5 hearts among the factor's answers, in whole percent; None without answers."""
    counts = factor.get("distribution")
    if not counts or sum(counts) <= 0:
        return None
    return round(100 * (int(counts[3]) + int(counts[4])) / sum(int(c) for c in counts))


def _num(x: float) -> str:
    return f"{x:.2f}"


def _row(layout: _Layout, label: str, score: float | None, note: str, *, overall: bool,
         ci: Sequence[float] | None) -> None:
    label_px = SIZES["label"]
    top = layout.y
    layout.paragraph(label, label_px, width=WIDTH_PX - 2 * MARGIN_PX - SCORE_BOX_PX, bold=overall)
    if score is None:
        layout.paragraph(note, SIZES["note"], colour=MUTED)
        return
    score_px = SIZES["overall_score" if overall else "score"]
    layout.right(_num(score), score_px, top - (score_px - label_px) * 0.6, HEART_RED)
    layout.y = max(layout.y, top + score_px * 1.05) + 8
    layout.track(score, ci, height=34 if overall else 26, colour=HEART_RED if overall else SOFT_RED)
    layout.space(10)
    layout.paragraph(note, SIZES["note"], colour=MUTED)


def _factor_row(layout: _Layout, factor: Mapping[str, Any], text: ChartText) -> None:
    label = text.labels.get(str(factor["key"]), str(factor["key"]))
    score, ci, n = factor.get("score"), factor.get("ci"), factor.get("n", 0)
    if score is None:
        note = text.insufficient.format(n=n)
    else:
        top = _top_share(factor)  # a report without `distribution` shows the interval alone
        note = text.factor_note.format(low=_num(ci[0]) if ci else "–", high=_num(ci[1]) if ci else "–", n=n)
        if top is not None:
            note = f"{text.share.format(top=top)} · {note}"
    _row(layout, label, score, note, overall=False, ci=ci)


def layout_chart(report: Mapping[str, Any], text: ChartText, title: str | None = None, *,
                 dpi: int = 150) -> _Layout:
    """Where every text and box of the scorecard goes (also what the tests measure)."""
    layout = _Layout(dpi)
    ballots = report["ballots"]
    overall = report.get("overall") or {}
    layout.paragraph(f"♥ {title or report.get('sku', '')}", SIZES["title"], colour=HEART_RED, bold=True)
    layout.space(4)
    layout.paragraph(text.subtitle, SIZES["note"], colour=MUTED)
    layout.paragraph(text.info, SIZES["note"], colour=MUTED)
    layout.space(30)
    score, ci = overall.get("score"), overall.get("ci")
    n = overall.get("n", ballots["accepted"])
    if score is None:
        needed = report.get("min_ballots")  # not a SPEC key: without it, just the count
        note = (text.insufficient.format(n=ballots["accepted"]) if needed is None
                else text.round_insufficient.format(n=ballots["accepted"], needed=needed))
    else:
        note = text.overall_note.format(low=_num(ci[0]) if ci else "–", high=_num(ci[1]) if ci else "–", n=n)
    _row(layout, text.overall, score, note, overall=True, ci=ci)
    layout.space(30)
    layout.rule()
    layout.space(24)
    if score is None:  # no factor has a score either: name them, and draw no empty tracks
        layout.paragraph(text.rated_on, SIZES["note"], colour=MUTED)
        layout.space(24)
    else:
        layout.scale(SIZES["footer"])
        layout.space(22)
        for f in report.get("factors", []):
            _factor_row(layout, f, text)
            layout.space(34)
    layout.rule()
    layout.space(20)
    layout.paragraph(text.method if score is None else f"{text.legend}\n{text.method}", SIZES["footer"],
                     colour=MUTED)
    layout.space(MARGIN_PX - 20)
    return layout


def render_png(report: Mapping[str, Any], text: ChartText, title: str | None = None, *, dpi: int = 150) -> bytes:
    """The scorecard of `report` as PNG bytes, 1080 px wide, in the words of `text`."""
    layout = layout_chart(report, text, title, dpi=dpi)
    height = layout.y
    fig = Figure(figsize=(WIDTH_PX / dpi, height / dpi), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH_PX)
    ax.set_ylim(height, 0)  # y grows downwards, as the layout counts
    ax.axis("off")
    for box in layout.boxes:
        ax.add_patch(Rectangle((box.x, box.y), box.w, box.h, color=box.colour, lw=0))
    for item in layout.texts:
        ax.text(item.x, item.y, item.text, ha=item.align, va="top", color=item.colour,
                fontproperties=_font(item.px, dpi, "bold" if item.bold else "normal"))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
