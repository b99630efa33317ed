"""Screening: the hard rules, vectorised. Any one sets a ballot's weight to 0; the rest is weighting.

Hard evidence is what a ballot cannot argue with: `excluded_rater` (an admin excluded the customer),
`owned_too_briefly`, `speeder` (under half the round's median time, or under the per-factor floor)
and `mostly_unsure` (more than half the factors without a rating). Everything softer — same answer
everywhere, far from the consensus, one answer that contradicts the rater's others, one of far more
near-identical ballots than honest raters would send (`crowded`) — is a weight in
[0, 1] decided by `scoring.weighting`, never an exclusion on its own.

Nothing is deleted: every ballot keeps its weight and reasons, and the report counts them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scoring.matrix import BallotMatrix, Bools
from scoring.model import Method

EXCLUDED_RATER = "excluded_rater"
OWNED_TOO_BRIEFLY = "owned_too_briefly"
SPEEDER = "speeder"
MOSTLY_UNSURE = "mostly_unsure"
STRAIGHT_LINER = "straight_liner"
OFF_CONSENSUS = "off_consensus"
ODD_ANSWERS = "odd_answers"
OUTSIZED_PULL = "outsized_pull"
CROWDED = "crowded"

#: Every reason code, most decisive first: a ballot is counted under the first of its reasons here.
REASONS: tuple[str, ...] = (
    EXCLUDED_RATER,
    OWNED_TOO_BRIEFLY,
    SPEEDER,
    MOSTLY_UNSURE,
    STRAIGHT_LINER,
    OFF_CONSENSUS,
    ODD_ANSWERS,
    OUTSIZED_PULL,
    CROWDED,
)
HARD_REASONS: tuple[str, ...] = REASONS[:4]
SOFT_REASONS: tuple[str, ...] = REASONS[4:]
#: The bit of each reason in a ballot's reason mask.
BIT = {code: 1 << i for i, code in enumerate(REASONS)}

Ints = npt.NDArray[np.int64]


def hard_rules(m: BallotMatrix, method: Method) -> Ints:
    """A reason mask per ballot with the bits of the hard rules it breaks (0 = none)."""
    n, n_factors = m.values.shape
    mask = np.zeros(n, dtype=np.int64)
    if n == 0:
        return mask
    mask |= np.where(m.excluded, BIT[EXCLUDED_RATER], 0)
    mask |= np.where(m.owned_days < method.min_ownership_days, BIT[OWNED_TOO_BRIEFLY], 0)  # NaN: unknown, kept
    speed_cut = method.speeder_median_ratio * float(np.median(m.seconds))
    floor = method.speeder_floor_seconds_per_factor
    # The floor counts answered factors, "not sure" included: each was a click to make.
    clicks = m.present.sum(axis=1)
    fast = (m.seconds < speed_cut) | ((m.seconds < floor * n_factors) & (m.seconds < floor * clicks))
    mask |= np.where(fast, BIT[SPEEDER], 0)
    rated = np.isfinite(m.values).sum(axis=1)
    if n_factors:
        mask |= np.where(n_factors - rated > method.mostly_unsure_ratio * n_factors, BIT[MOSTLY_UNSURE], 0)
    return mask


def straight_lines(m: BallotMatrix, method: Method) -> Bools:
    """Ballots giving one and the same rating to at least `straight_line_min_factors` factors and no
    other rating: reported, and weighted only through what they pull (see `scoring.weighting`)."""
    values = m.values
    if values.size == 0:
        return np.zeros(len(m), dtype=np.bool_)
    rated = np.isfinite(values).sum(axis=1)
    low = np.nanmin(np.where(np.isfinite(values), values, np.inf), axis=1)
    high = np.nanmax(np.where(np.isfinite(values), values, -np.inf), axis=1)
    result: Bools = (rated >= method.straight_line_min_factors) & (low == high)
    return result
