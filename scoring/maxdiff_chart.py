"""The research result as a picture: each candidate's share of preference with its interval, ranked,
the top ones marked. Drawn for a phone: one column, each label on its own line above its bar, so
long Chinese or English labels never squeeze the bars. Words are the caller's (`ResearchChartText`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from scoring.chart import FONT_PATH, HEART_RED, MUTED, SOFT_RED

GREY = MUTED


@dataclass(frozen=True)
class ResearchChartText:
    title: str
    info: str  # respondents, and the factor set version
    footer: str  # what the bars are, and the method
    labels: Mapping[str, str]  # candidate key -> label
    top_note: str  # beside the top candidates' marker, e.g. "top 5"
    insufficient: str  # shown instead of bars when the result is insufficient


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(fname=str(FONT_PATH), size=size, weight=weight)


def _rank(c: Mapping[str, Any]) -> str:
    lo, hi = c.get("rank_band") or (c["rank"], c["rank"])
    return f"#{lo}" if lo == hi else f"#{lo}–{hi}"


def render_research_png(report: Mapping[str, Any], text: ResearchChartText, *, top: int = 5,
                        dpi: int = 180) -> bytes:
    """PNG bytes, 1080 px wide at the default dpi (a phone screen's width, so nothing is scaled down)."""
    candidates = list(report.get("candidates", []))
    insufficient = report.get("status") == "insufficient"
    row_h = 0.62
    height = 2.0 + row_h * max(len(candidates), 1)
    fig = Figure(figsize=(6, height), dpi=dpi)
    FigureCanvasAgg(fig)
    fig.text(0.04, 1 - 0.22 / height, f"♥ {text.title}", fontproperties=_font(14, "bold"), color=HEART_RED,
             va="top")
    fig.text(0.04, 1 - 0.62 / height, text.info, fontproperties=_font(10), color="#333333", va="top")
    fig.text(0.04, 0.12 / height, text.footer, fontproperties=_font(8), color=GREY, va="bottom", wrap=True)
    ax = fig.add_axes((0.04, 0.7 / height, 0.92, 1 - 1.75 / height))
    ax.set_axis_off()
    n = len(candidates)
    ax.set_ylim(-0.5, n - 0.1)
    high = max([float(c["ci"][1]) for c in candidates] + [1.0])
    ax.set_xlim(0, high * 1.22)
    if insufficient:
        ax.text(0, n / 2, text.insufficient, fontproperties=_font(12), color=GREY, va="center")
    for i, c in enumerate(candidates):
        y = n - 1 - i  # the first ranked on top
        is_top = c["rank"] <= top
        label = f"{_rank(c)}  {text.labels.get(c['key'], c['key'])}"
        ax.text(0, y + 0.2, label, fontproperties=_font(11, "bold" if is_top else "normal"),
                color="#111111" if is_top else "#444444", va="bottom")
        if insufficient:
            continue
        share, (lo, hi) = float(c["share"]), (float(c["ci"][0]), float(c["ci"][1]))
        ax.barh(y, share, height=0.32, left=0, color=HEART_RED if is_top else SOFT_RED)
        ax.errorbar(share, y, xerr=[[share - lo], [hi - share]], fmt="none", ecolor="#333333", capsize=3, lw=1)
        ax.text(hi + high * 0.02, y, f"{share:.1f}%", fontproperties=_font(10, "bold" if is_top else "normal"),
                va="center")
    if candidates and not insufficient and n > top:
        ax.axhline(n - top - 0.5 + 0.05, color=HEART_RED, lw=0.8, ls=(0, (4, 3)))
        ax.text(high * 1.2, n - top - 0.42, text.top_note, fontproperties=_font(8.5), color=HEART_RED,
                ha="right", va="bottom")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
