"""The stated bound: the most that a share p of the counted ballots can move a round's overall.

Each factor's score is a weighted mean with the prior as w pseudo-answers:
``s_f = (Σ_i u_if·x_if + w·prior_f) / (U_f + w)``. Taking any set A of ballots out (or putting it
in) changes it by exactly ``Σ_{i∈A} u_if (x_if − s_f) / (U_f − U_f(A) + w)``, and the overall
``Σ_f W_f s_f`` by at most

    Σ_{i∈A} pull_i / min_f (U_f − U_f(A) + w),    pull_i = Σ_f W_f·u_if·|x_if − s_f|,

with the weights as the method gave them. So the bound for a share p of N counted ballots is the
sum of the k = ⌈pN⌉ largest pulls over the smallest weight that can remain in a factor once the k
heaviest answers there are gone. The weighting caps every pull at `pull_cap` × the round's median
pull (scoring/weighting.py), which is what keeps this number small: without the cap, one ballot at
the far end of the scale is worth four hearts of pull divided by the round's weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scoring.matrix import Bools, Floats

#: The shares of ballots the report states the bound for.
BOUND_SHARES = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class BoundInputs:
    """What the bound is computed from: the answers as aggregated, their weights, the priors and the
    factors' shares of the overall (0 for a factor not in it)."""

    x: Floats
    rated: Bools
    u: Floats
    priors: Floats
    share: Floats
    prior_weight: float
    counted: int

    def at(self, p: float) -> float | None:
        return stated_bound(self, p)

    def at_scores(self) -> Floats:
        """The factor scores (before clipping) the bound is measured around."""
        u = np.where(self.rated, self.u, 0.0)
        out: Floats = ((np.where(self.rated, self.x, 0.0) * u).sum(axis=0) + self.prior_weight * self.priors) / (
            u.sum(axis=0) + self.prior_weight)
        return out


def stated_bound(b: BoundInputs, p: float) -> float | None:
    """The most, in hearts, that any ⌈p·counted⌉ ballots move the overall; None without an overall."""
    x, rated, share, prior_weight, counted = b.x, b.rated, b.share, b.prior_weight, b.counted
    used = share > 0
    if not used.any() or counted == 0:
        return None
    k = min(counted, math.ceil(p * counted - 1e-9))
    if k == 0:
        return 0.0
    u = np.where(rated, b.u, 0.0)
    total = u.sum(axis=0)
    scores = b.at_scores()
    pull = (np.where(rated, np.abs(x - scores), 0.0) * u * share).sum(axis=1)
    top_pull = float(np.sort(pull)[::-1][:k].sum())
    heaviest = np.sort(u[:, used], axis=0)[::-1][:k].sum(axis=0)
    remaining = float((total[used] - heaviest).min()) + prior_weight
    if remaining <= 0:
        return 4.0  # the whole scale: nothing would be left to anchor the score
    return min(4.0, top_pull / remaining)


#: The median pull of an honest ballot in the red-team's honest rounds (6 equal factors, leniency
#: 0.4 and noise 0.8 hearts): 0.66 hearts on average over 50 rounds, 0.58–0.71 between them.
TYPICAL_PULL = 0.66


def typical_bound(pull_cap: float, p: float) -> float:
    """The bound in a typical round, before any is scored (what `/method` promises): a share p of the
    ballots, each pulling at most `pull_cap` × the typical pull, against the other 1 − p at full
    weight."""
    return p / (1 - p) * pull_cap * TYPICAL_PULL


def overall_without(b: BoundInputs, drop: Bools) -> float:
    """The overall with the `drop` ballots taken out and every other weight as it was: the quantity
    the bound is about (the red-team test checks it against the bound in every round)."""
    u = np.where(b.rated & ~drop[:, None], b.u, 0.0)
    scores = ((np.where(b.rated, b.x, 0.0) * u).sum(axis=0) + b.prior_weight * b.priors) / (
        u.sum(axis=0) + b.prior_weight)
    return float((np.clip(scores, 1.0, 5.0) * b.share).sum())
