"""Screening: a verdict for every ballot, each exclusion traceable to named reasons.

Signals come in two strengths:

* **hard** — `excluded_rater`, `owned_too_briefly`, `speeder`, `mostly_unsure`: any one excludes the ballot;
* **soft** — `straight_liner`, `off_consensus`: alone they are only *flagged* (a great product can
  deserve all fives; an honest rater may disagree with everyone), two together exclude.

A straight-liner is therefore excluded when it is also a speeder, mostly unsure, owned too briefly,
from an excluded rater, or far from what the rest of the round said — survey research finds bogus
respondents straight-line at an extreme that the real buyers do not share.

Nothing is deleted: excluded ballots keep their verdict and reasons, and the report lists them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import NamedTuple

from scoring.model import BallotRecord, FactorSpec, Method

EXCLUDED_RATER = "excluded_rater"
OWNED_TOO_BRIEFLY = "owned_too_briefly"
SPEEDER = "speeder"
MOSTLY_UNSURE = "mostly_unsure"
STRAIGHT_LINER = "straight_liner"
OFF_CONSENSUS = "off_consensus"

#: Every reason code, most decisive first: a ballot's primary reason is the first of its reasons here.
REASONS: tuple[str, ...] = (
    EXCLUDED_RATER,
    OWNED_TOO_BRIEFLY,
    SPEEDER,
    MOSTLY_UNSURE,
    STRAIGHT_LINER,
    OFF_CONSENSUS,
)
HARD_REASONS = frozenset({EXCLUDED_RATER, OWNED_TOO_BRIEFLY, SPEEDER, MOSTLY_UNSURE})
SOFT_REASONS = frozenset({STRAIGHT_LINER, OFF_CONSENSUS})
#: Soft signals needed together to exclude a ballot that has no hard signal.
SOFT_SIGNALS_TO_EXCLUDE = 2

#: Share of answers cut from each end when computing the consensus that `off_consensus` compares to.
CONSENSUS_TRIM = 0.2

class Verdict(NamedTuple):
    """The screening outcome of one ballot. `reasons` explain an exclusion (empty when accepted);
    `flags` are soft signals on an accepted ballot, reported but not acted on.

    A NamedTuple rather than a frozen dataclass: a 100k-ballot round builds 100k of them.
    """

    ballot: str
    accepted: bool
    reasons: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def primary_reason(self) -> str | None:
        """The reason the ballot is counted under in the report, None when accepted."""
        return self.reasons[0] if self.reasons else None


def _ordered(codes: set[str]) -> tuple[str, ...]:
    return tuple(code for code in REASONS if code in codes)


def _trimmed_mean(values: list[int], trim: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    cut = int(len(values) * trim)
    kept = values[cut : len(values) - cut] or values
    return sum(kept) / len(kept)


def screen(ballots: Sequence[BallotRecord], factors: Sequence[FactorSpec], method: Method) -> list[Verdict]:
    """Screen every ballot of one round; verdicts come back in the ballots' order."""
    if not ballots:
        return []
    keys = [f.key for f in factors]
    n_factors = len(keys)
    durations = [b.duration_seconds for b in ballots]
    speed_cut = method.speeder_median_ratio * statistics.median(durations)
    floor = method.speeder_floor_seconds_per_factor
    max_unsure = method.mostly_unsure_ratio * n_factors
    min_straight = method.straight_line_min_factors

    # Hot loop (a round may hold 100k ballots): plain lists and booleans, no per-ballot sets.
    signals: list[list[str]] = []
    rows: list[list[int | None]] = []
    for b, duration in zip(ballots, durations, strict=True):
        answers = b.answers
        row = [answers.get(k) for k in keys]
        codes: list[str] = []
        if b.excluded_by_admin:
            codes.append(EXCLUDED_RATER)
        if b.owned_days is not None and b.owned_days < method.min_ownership_days:
            codes.append(OWNED_TOO_BRIEFLY)
        # The floor counts answered factors, "not sure" included: each was a click to make.
        if duration < speed_cut or (
            duration < floor * n_factors and duration < floor * sum(1 for k in keys if k in answers)
        ):
            codes.append(SPEEDER)
        unrated = row.count(None)  # "not sure" and unanswered both leave a factor without a rating
        if n_factors and unrated > max_unsure:
            codes.append(MOSTLY_UNSURE)
        if n_factors - unrated >= min_straight and len({v for v in row if v is not None}) == 1:
            codes.append(STRAIGHT_LINER)
        signals.append(codes)
        rows.append(row)

    # The consensus is what ballots without a hard signal said, trimmed so that the very straight-
    # liners being judged cannot drag it toward themselves.
    per_factor: list[list[int]] = [[] for _ in keys]
    for codes, row in zip(signals, rows, strict=True):
        if codes and codes[0] in HARD_REASONS:  # hard codes are appended first
            continue
        for column, v in zip(per_factor, row, strict=True):
            if v is not None:
                column.append(v)
    consensus = [_trimmed_mean(values, CONSENSUS_TRIM) for values in per_factor]

    limit = method.off_consensus_distance
    verdicts: list[Verdict] = []
    for b, codes, row in zip(ballots, signals, rows, strict=True):
        total, count = 0.0, 0
        for v, c in zip(row, consensus, strict=True):
            if v is not None and c is not None:
                total += abs(v - c)
                count += 1
        if count and total / count > limit:
            codes.append(OFF_CONSENSUS)
        if not codes:
            verdicts.append(Verdict(b.ballot, True))
            continue
        soft = [c for c in codes if c in SOFT_REASONS]
        if len(soft) < len(codes) or len(soft) >= SOFT_SIGNALS_TO_EXCLUDE:
            verdicts.append(Verdict(b.ballot, False, reasons=_ordered(set(codes))))
        else:
            verdicts.append(Verdict(b.ballot, True, flags=_ordered(set(soft))))
    return verdicts
