"""The honest model (scoring.latent) and what the weighting does with its judgement."""

import numpy as np

from scoring.attacks import honest_values, human_seconds, matrix
from scoring.latent import answer_probs
from scoring.redteam import factors_of, simulate
from scoring.scorecard import score_matrix
from scoring.screening import BIT, CROWDED


def test_answer_probabilities_are_a_censored_rounded_normal():
    p = answer_probs(np.array([5.6, 3.0]), np.array([0.8, 0.8]))
    assert np.allclose(p.sum(axis=-1), 1)
    assert p[0, 4] > 0.9  # far above the top: 5 almost surely, the ceiling censors
    assert np.allclose(p[1], p[1][::-1])  # the middle: symmetric


def test_copies_one_heart_out_are_weighed_down_and_named_crowded():
    ballots, n_honest, _ = simulate(np.random.default_rng(4), ("copies_push1_jitter10",), 0.3)
    card = score_matrix(ballots, factors_of())
    fraud = card.weights[n_honest:]
    assert fraud.mean() < 0.5 < card.weights[:n_honest].mean()
    assert ((card.masks[n_honest:] & BIT[CROWDED]) > 0).mean() > 0.5


def test_an_honest_round_near_the_ceiling_keeps_its_all_fives_raters():
    # 4.9 on every factor is beyond the suite's products: there a factor's latent mean, fitted
    # without a bound, went to 5.9 and made honest near-all-fives ballots look crowded.
    rng = np.random.default_rng(11)
    for top in (4.3, 4.6, 4.9):
        values = honest_values(rng, np.full(6, top), 200)
        card = score_matrix(matrix(values, human_seconds(rng, 200), "h"), factors_of())
        all_fives = (np.nan_to_num(values, nan=5) == 5).all(axis=1) & card.counted  # speeders aside
        assert all_fives.sum() >= 5 and (card.weights[all_fives] >= 0.5).all(), top
        assert ((card.masks & BIT[CROWDED]) > 0).mean() <= 0.05, top
