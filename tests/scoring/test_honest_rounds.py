"""Honest rounds of raters unlike the red-team suite's: more factors, noisier or more divided raters.

The suite's honest raters have one leniency spread (0.4) and one noise (0.8) over six factors; a
method tuned on them can take honest raters of another kind for cheats. rh-score/3 did: with eight
or ten factors and noisy raters its careless class took in a third to a half of the honest ballots
and published 0.3–0.56 hearts off (the naive mean: 0.03). Whatever the method, in a round with no
fraud it must publish about what honest raters report.
"""

import math

import numpy as np
import pytest

from scoring.attacks import human_seconds, matrix
from scoring.redteam import factors_of, naive_overall
from scoring.scorecard import score_matrix
from scoring.simulate import honest_expectation

ROUNDS = 8


def honest_round(rng: np.random.Generator, base: float, factors: int, n: int, leniency: float,
                 noise: float) -> tuple[np.ndarray, float]:
    """n honest ballots over `factors` factors (5 % "not sure") and the truth they report on average."""
    quality = np.clip(base + rng.normal(0, 0.4, factors), 1.1, 4.9)
    latent = quality[None, :] + rng.normal(0, leniency, (n, 1)) + rng.normal(0, noise, (n, factors))
    values = np.clip(np.floor(latent + 0.5), 1, 5)
    values[rng.random(values.shape) < 0.05] = np.nan
    truth = float(np.mean([honest_expectation(q, math.hypot(leniency, noise)) for q in quality]))
    return values, truth


@pytest.mark.parametrize(("factors", "n", "leniency", "noise", "base"), [
    (8, 200, 0.4, 1.1, 3.8),
    (8, 200, 0.7, 1.1, 3.8),
    (10, 200, 0.2, 1.1, 2.8),
    (10, 120, 0.7, 1.1, 3.8),
    (10, 200, 0.4, 0.8, 4.5),
    (6, 200, 0.2, 0.5, 4.5),
])
def test_an_honest_round_of_other_raters_is_published_about_as_the_naive_mean_would(
        factors: int, n: int, leniency: float, noise: float, base: float) -> None:
    rng = np.random.default_rng([factors, n, int(leniency * 10), int(noise * 10), int(base * 10)])
    ours, naive, below_half = [], [], []
    for _ in range(ROUNDS):
        values, truth = honest_round(rng, base, factors, n, leniency, noise)
        card = score_matrix(matrix(values, human_seconds(rng, n), "h"), factors_of(factors))
        assert card.overall.score is not None
        ours.append(abs(card.overall.score - truth))
        naive.append(abs(naive_overall(values) - truth))
        below_half.append(float((card.weights[card.counted] < 0.5).mean()))
    print(f"\n{factors} factors, {n} ballots, leniency {leniency}, noise {noise}, base {base}: "
          f"ours {np.mean(ours):.3f}, naive {np.mean(naive):.3f}, below half {np.mean(below_half):.3f}")
    assert np.mean(ours) <= np.mean(naive) + 0.03
    assert np.mean(below_half) <= 0.05
