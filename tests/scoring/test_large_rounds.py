"""Large honest rounds: what fits 200 ballots must still fit 100,000 of them.

A 100,000-ballot honest polarising round (each rater ±1.5 hearts, half each way) was 1.1 hearts off
under rh-score/6 (the naive mean 0.001), with 64 % of the honest ballots below half weight: the blocs'
mixture was fitted to a strided sample of the answer patterns that dropped or kept a pattern holding
thousands of ballots by chance, and the honest model's first fit counted every pattern once, so a
camp's thousands of all-fives ballots looked crowded and careless (scoring.weighting, scoring.blocs).
"""

from __future__ import annotations

import numpy as np

from scoring.model import Method
from scoring.redteam import factors_of, naive_overall, simulate
from scoring.scorecard import score_matrix


def test_a_100k_honest_polarising_round_is_scored_like_its_naive_mean() -> None:
    rng = np.random.default_rng([1, 100_000])
    ballots, n_honest, truth = simulate(rng, (), 0.0, n_ballots=100_000, case="honest_polarising")
    card = score_matrix(ballots, factors_of(), Method())
    assert card.overall.score is not None
    assert abs(naive_overall(ballots.values) - truth) < 0.01
    assert abs(card.overall.score - truth) <= 0.1
    honest = card.weights[:n_honest][card.counted[:n_honest]]
    assert float((honest < 0.5).mean()) <= 0.05
