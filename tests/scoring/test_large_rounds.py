"""Large honest rounds: what fits 200 ballots must still fit 100,000 of them.

A 100,000-ballot honest polarising round (each rater ±1.5 hearts, half each way) was 1.1 hearts off
under rh-score/6 (the naive mean 0.001), with 64 % of the honest ballots below half weight: the blocs'
mixture was fitted to a strided sample of the answer patterns that dropped or kept a pattern holding
thousands of ballots by chance, and the honest model's first fit counted every pattern once, so a
camp's thousands of all-fives ballots looked crowded and careless (scoring.weighting, scoring.blocs).
"""

from __future__ import annotations

import numpy as np
import pytest

from scoring.model import Method
from scoring.redteam import MIXES, factors_of, naive_overall, run_cell, simulate
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


@pytest.mark.parametrize("mix", [("targeted_2_factors_to_5",), ("copies_push1_jitter10",),
                                 MIXES["mix_all_patterns"], MIXES["mix_targeted_and_copies"]],
                         ids=["two_lifted", "copies_one_heart", "mix_all", "mix_targeted_copies"])
def test_a_20k_round_with_30_percent_fraud_is_published_within_015_and_inside_the_stated_bound(mix) -> None:
    # What holds at 200 ballots must hold when the fraud is 6,000 ballots: more of them make a bloc
    # easier to see, but the first fits count patterns differently past 400 ballots (scoring.weighting).
    # Measured (4 rounds each, seed 5): 0.071, 0.016, 0.059, 0.050 off; the naive mean 0.15, 0.32, 0.30,
    # 0.11. Two lifted factors are the weak spot (its first two rounds 0.097 off, the naive mean 0.144).
    cell = run_cell("large", mix, 0.3, rounds=2, seed=5, n_ballots=20_000)
    assert cell.within == 1.0 and cell.mae < cell.naive_mae, (cell.mae, cell.naive_mae)
    # A bloc's side of the crowd is trimmed symmetrically (scoring.weighting, step 4), so a few more honest
    # ballots than at 200 lose half their weight next to copies one heart out (6.9 %), alike on both sides.
    assert cell.bound_held and cell.honest_below_half <= 0.1
