import math
import random

import pytest
from scoring_helpers import KEYS, aggregate_all, make_ballot

from scoring.intervals import t_cdf, t_quantile
from scoring.model import FactorSpec, Method


def single_factor_round(values, key="aroma"):
    return [make_ballot(f"b{i}", {key: v}) for i, v in enumerate(values)]


AROMA = [FactorSpec("aroma", "Aroma", "香味")]


def test_the_score_is_the_bayesian_average_toward_the_prior():
    values = [5] * 10 + [4] * 10
    spec = [FactorSpec("aroma", "Aroma", "香味", prior=3.6)]
    (f,), _ = aggregate_all(single_factor_round(values), spec, Method(prior_weight=3))
    assert f.mean == 4.5 and f.n == 20
    assert f.score == pytest.approx((20 * 4.5 + 3 * 3.6) / 23)


def test_without_a_prior_the_score_shrinks_toward_the_scale_midpoint():
    (f,), _ = aggregate_all(single_factor_round([5] * 12), AROMA, Method(prior_weight=3))
    assert f.prior == 3.0 and f.score == pytest.approx((12 * 5 + 3 * 3) / 15)


def test_a_prior_weight_of_zero_publishes_the_raw_mean():
    (f,), _ = aggregate_all(single_factor_round([5, 4, 4, 3] * 5), AROMA, Method(prior_weight=0))
    assert f.score == f.mean == 4.0


def test_the_distribution_counts_each_heart_and_leaves_not_sure_out():
    ballots = single_factor_round([1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5]) + single_factor_round([None, None])
    (f,), _ = aggregate_all(ballots, AROMA, Method())
    assert f.distribution == (1, 2, 3, 4, 1) and f.n == 11 and f.unsure == 2


def test_the_factor_interval_is_the_posterior_t_interval():
    values = [5, 4, 4, 3, 5, 4, 2, 5, 4, 4, 3, 5]
    (f,), _ = aggregate_all(single_factor_round(values), AROMA, Method(prior_weight=3))
    n, m = len(values), sum(values) / len(values)
    ss = sum((x - m) ** 2 for x in values)
    sigma = math.sqrt((ss + 3 * 1.0) / (n - 1 + 3))
    half = t_quantile(0.975, n - 1) * sigma / math.sqrt(n + 3)
    assert f.ci == pytest.approx((f.score - half, f.score + half))


def test_identical_answers_still_get_an_honest_interval():
    (f,), _ = aggregate_all(single_factor_round([4] * 10), AROMA, Method())
    lo, hi = f.ci
    assert lo < f.score < hi and hi - lo > 0.3


def test_intervals_stay_on_the_one_to_five_scale():
    (f,), overall = aggregate_all(single_factor_round([5] * 10 + [4]), AROMA, Method(prior_weight=0))
    assert 1 <= f.ci[0] <= f.score <= f.ci[1] <= 5
    assert 1 <= overall.ci[0] <= overall.score <= overall.ci[1] <= 5


def test_intervals_narrow_as_ballots_accumulate():
    rng = random.Random(5)
    widths = []
    for n in (20, 80, 320):
        (f,), o = aggregate_all(single_factor_round([rng.randint(2, 5) for _ in range(n)]), AROMA, Method())
        widths.append((f.ci[1] - f.ci[0], o.ci[1] - o.ci[0]))
    assert widths[0][0] > widths[1][0] > widths[2][0]
    assert widths[0][1] > widths[1][1] > widths[2][1]


def test_the_overall_interval_widens_when_raters_answers_move_together():
    # Same per-factor spreads; in one round each rater is uniformly high or low (correlated answers),
    # in the other the highs and lows are mixed across factors. Only the first should be less certain.
    keys = KEYS[:4]
    specs = [FactorSpec(k, k, k) for k in keys]
    correlated = [make_ballot(f"c{i}", dict.fromkeys(keys, 5 if i % 2 else 3)) for i in range(40)]
    mixed = [make_ballot(f"m{i}", {k: 5 if (i + j) % 2 else 3 for j, k in enumerate(keys)}) for i in range(40)]
    _, oc = aggregate_all(correlated, specs, Method())
    _, om = aggregate_all(mixed, specs, Method())
    assert oc.score == pytest.approx(om.score)
    assert (oc.ci[1] - oc.ci[0]) > 3 * (om.ci[1] - om.ci[0])


def test_the_factor_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = random.Random(11)
    truth_probs = [0.05, 0.1, 0.25, 0.35, 0.25]
    truth = sum((k + 1) * p for k, p in enumerate(truth_probs))
    spec = [FactorSpec("aroma", "Aroma", "香味", prior=truth)]  # an honest prior: only coverage is measured
    hits = 0
    for _ in range(400):
        values = rng.choices([1, 2, 3, 4, 5], weights=truth_probs, k=40)
        (f,), _ = aggregate_all(single_factor_round(values), spec, Method())
        hits += f.ci[0] <= truth <= f.ci[1]
    assert 0.92 <= hits / 400 <= 0.99


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (9, 2.262), (29, 2.045), (30, 2.042), (120, 1.980)],
)
def test_t_quantiles_match_the_printed_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-3)


def test_t_quantiles_are_symmetric_and_invert_the_cdf():
    for df in (1, 4, 17):
        q = t_quantile(0.9, df)
        assert t_quantile(0.1, df) == pytest.approx(-q)
        assert t_cdf(q, df) == pytest.approx(0.9)


def test_weighted_answers_count_by_their_weight_and_the_interval_by_the_effective_number():
    values = [5] * 10 + [1] * 10
    half = [1.0] * 10 + [0.25] * 10
    (_full,), _ = aggregate_all(single_factor_round(values), AROMA, Method(prior_weight=0))
    (weighted,), _ = aggregate_all(single_factor_round(values), AROMA, Method(prior_weight=0), half)
    assert weighted.score == pytest.approx((10 * 5 + 2.5 * 1) / 12.5)
    assert weighted.n == 20 and weighted.n_eff == pytest.approx(12.5**2 / (10 + 10 * 0.0625))
    assert weighted.ci[1] - weighted.ci[0] > 0
