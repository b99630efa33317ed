"""Screening and honest aggregation of rating-round ballots — a pure library (no Telegram, no I/O).

It returns numbers, weights and reason codes; words are the caller's (the bot's catalogs). The chart lives in
`scoring.chart` and is imported on demand: it is the only module needing matplotlib.
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
from scoring.scorecard import Scorecard, Verdict, score_matrix, score_round
from scoring.screening import REASONS

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
    "score_matrix",
    "score_round",
]
