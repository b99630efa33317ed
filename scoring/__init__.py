"""Screening and honest aggregation of rating-round ballots — a pure library (no Telegram, no I/O).

The chart lives in `scoring.chart` and is imported on demand: it is the only module needing matplotlib.
"""

from scoring.aggregate import FactorResult, OverallResult
from scoring.model import (
    ALGORITHM,
    BallotRecord,
    FactorSpec,
    Method,
    RaterHistory,
    method_document,
    parse_method_document,
)
from scoring.render import render_caption, render_text
from scoring.scorecard import Scorecard, score_round
from scoring.screening import REASONS, Verdict, screen

__all__ = [
    "ALGORITHM",
    "REASONS",
    "BallotRecord",
    "FactorResult",
    "FactorSpec",
    "Method",
    "OverallResult",
    "RaterHistory",
    "Scorecard",
    "Verdict",
    "method_document",
    "parse_method_document",
    "render_caption",
    "render_text",
    "score_round",
    "screen",
]
