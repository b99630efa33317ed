"""A product's trend across rounds: its overall score per published round, with each interval as a band.

Drawn like the scorecard (matplotlib's object API, the bundled CJK font), sized for a phone: one
picture of about 1080×700 px whose text stays legible when the chat shows it ~390 pt wide.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the round, as the reader knows it (a date)
    score: float
    ci: tuple[float, float]


def render_trend_png(points: Sequence[TrendPoint], title: str, axis: str) -> bytes:
    """The trend of `points` (oldest first) as PNG bytes."""
    # Imported here, not with the module: the bot imports `TrendPoint` at start-up, and matplotlib
    # (~30 MB) is needed only once a trend is drawn.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    from scoring.chart import FONT_PATH, HEART_RED, SOFT_RED

    font = FontProperties(fname=str(FONT_PATH), size=15)
    fig = Figure(figsize=(7.2, 4.6), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.11, 0.16, 0.85, 0.7))
    xs = list(range(len(points)))
    ax.fill_between(xs, [p.ci[0] for p in points], [p.ci[1] for p in points], color=SOFT_RED, alpha=0.5, lw=0)
    ax.plot(xs, [p.score for p in points], color=HEART_RED, lw=2.5, marker="o", ms=8)
    for x, p in zip(xs, points, strict=True):
        ax.annotate(f"{p.score:.2f}", (x, p.score), textcoords="offset points", xytext=(0, 10), ha="center",
                    fontproperties=font)
    ax.set_ylim(1, 5.3)
    ax.set_xlim(-0.5, len(points) - 0.5)
    ax.set_xticks(xs, [p.label for p in points], fontproperties=font)
    ax.set_yticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontproperties=font)
    ax.set_ylabel(axis, fontproperties=font)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#e3e3e6")
    fig.suptitle(title, fontproperties=FontProperties(fname=str(FONT_PATH), size=18, weight="bold"), x=0.05,
                 ha="left")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
