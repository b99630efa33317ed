"""The scorecard picture: a PNG of factor scores with their intervals, the overall, n, response rate
and method version, drawn from a report dict. Its words are the caller's (`ChartText`): the scoring
library holds numbers and reason codes, never texts.

It uses matplotlib's object API (`Figure` + the Agg canvas) and never pyplot, so no global backend or
rcParams are touched and it is safe in a bot process. Text is set in the WenQuanYi Micro Hei font
shipped in `scoring/fonts/` (Apache-2.0), which covers Latin and all GBK Hanzi: Chinese labels render
on any machine, whatever fonts it has installed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

FONT_PATH = Path(__file__).parent / "fonts" / "WenQuanYiMicroHei.ttf"

HEART_RED = "#d7263d"
SOFT_RED = "#f4a3ad"
GREY = "#8a8a8a"

@dataclass(frozen=True)
class ChartText:
    """Every word on the chart, in the reader's language."""

    overall: str  # the overall's row
    insufficient: str  # a row without a score, with {n}
    info: str  # under the title: the ballots, and the response
    footer: str  # the method, and what the bars are
    axis: str
    labels: Mapping[str, str]  # factor key -> its row's label


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(fname=str(FONT_PATH), size=size, weight=weight)


def render_png(report: Mapping[str, Any], text: ChartText, title: str | None = None, *, dpi: int = 150) -> bytes:
    """The scorecard of `report` as PNG bytes, in the words of `text`."""
    factors = list(report.get("factors", []))
    overall = report.get("overall") or {}
    ballots = report["ballots"]
    rows = [(text.overall, overall.get("score"), overall.get("ci"), ballots["accepted"], True)]
    rows += [(text.labels.get(f["key"], f["key"]), f.get("score"), f.get("ci"), f.get("n", 0), False)
             for f in factors]
    rows.reverse()  # matplotlib draws y = 0 at the bottom; the overall belongs on top

    height = 2.2 + 0.45 * len(rows)
    fig = Figure(figsize=(8, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.28, 0.95 / height, 0.62, 1 - 2.25 / height))

    for y, (_label, score, ci, n, is_overall) in enumerate(rows):
        if score is None:
            ax.text(
                1.05, y, text.insufficient.format(n=n), va="center", ha="left", color=GREY, fontproperties=_font(10)
            )
            continue
        colour = HEART_RED if is_overall else SOFT_RED
        ax.barh(
            y,
            score - 1,
            left=1,
            height=0.6 if is_overall else 0.5,
            color=colour,
            edgecolor=HEART_RED if is_overall else "none",
        )
        if ci:
            ax.errorbar(
                score, y, xerr=[[score - ci[0]], [ci[1] - score]], fmt="none", ecolor="#333333", capsize=4, lw=1.2
            )
        text_x = min(5.02, (ci[1] if ci else score) + 0.06)
        ax.text(
            text_x,
            y,
            f"{score:.2f}" + ("" if is_overall else f"  n={n}"),
            va="center",
            ha="left",
            fontproperties=_font(10, "bold" if is_overall else "normal"),
        )

    ax.set_xlim(1, 5)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xticks([1, 2, 3, 4, 5])
    for tick in ax.get_xticklabels():
        tick.set_fontproperties(_font(9))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        tick.set_fontproperties(_font(11, "bold") if row[4] else _font(10))
    ax.set_xlabel(text.axis, fontproperties=_font(9))
    ax.grid(axis="x", color="#e5e5e5", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    fig.text(
        0.03,
        1 - 0.3 / height,
        f"♥ {title or report.get('sku', '')}",
        fontproperties=_font(15, "bold"),
        color=HEART_RED,
        va="top",
    )
    fig.text(0.03, 1 - 0.72 / height, text.info, fontproperties=_font(9.5), color="#333333", va="top")
    fig.text(
        0.03,
        0.15 / height,
        text.footer,
        fontproperties=_font(8),
        color=GREY,
        va="bottom",
    )

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
