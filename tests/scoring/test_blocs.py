"""Blocs of offsets (scoring.blocs): groups of ballots standing apart from the crowd, found by mixtures."""

import numpy as np

from scoring.blocs import sample_rows, side_blocs


def _offsets(rng: np.random.Generator, crowd: int, *blocs: tuple[float, int]) -> np.ndarray:
    parts = [rng.normal(0.0, 0.5, crowd)] + [rng.normal(at, 0.08, k) for at, k in blocs]
    return np.concatenate(parts)


def test_blocs_pushing_both_ways_at_once_are_found_by_the_three_group_fit():
    rng = np.random.default_rng(5)
    # 150 honest offsets, 30 ballots two hearts below, 10 near-straight fives 1.7 above (a mixed attack).
    z = _offsets(rng, 150, (-2.0, 30), (1.7, 10))
    post, found, center, spread = side_blocs(z, np.ones(len(z)), 0.4, 3.0)
    assert found and abs(center) < 0.15 and 0.4 < spread < 0.65
    # Both blocs set aside (a member far out in its bloc's tail may read as the crowd's: the offsets'
    # biweight around the crowd weighs it down then).
    assert post[150:180].mean() < 0.1 and post[180:].mean() < 0.1
    assert np.mean(post[:150] > 0.9) >= 0.97  # honest raters keep their place in the crowd


def test_an_honest_crowd_has_no_side_blocs_even_with_its_tails():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        z = _offsets(rng, 200)
        post, found, _, _ = side_blocs(z, np.ones(200), 0.4, 3.0)
        assert not found and (post == 1).all(), seed


def test_a_lone_bloc_on_one_side_is_found_too():
    rng = np.random.default_rng(8)
    z = _offsets(rng, 170, (2.0, 30))
    post, found, _, _ = side_blocs(z, np.ones(len(z)), 0.4, 3.0)
    assert found and post[170:].mean() < 0.1 and np.mean(post[:170] > 0.9) >= 0.97


def test_two_comparable_camps_are_left_alone():
    rng = np.random.default_rng(9)
    z = np.concatenate([rng.normal(-1.5, 0.5, 100), rng.normal(1.5, 0.5, 100)])
    post, found, _, _ = side_blocs(z, np.ones(200), 0.4, 3.0)
    assert not found and (post == 1).all()


def test_a_pattern_standing_for_many_ballots_counts_with_its_weight():
    rng = np.random.default_rng(6)
    z = _offsets(rng, 150)
    # One distinct pattern of 60 identical ballots two hearts below: a bloc by its weight alone.
    z, w = np.append(z, -2.0), np.append(np.ones(150), 60.0)
    post, found, _, _ = side_blocs(z, w, 0.4, 3.0)
    assert found and post[-1] < 0.05


def test_a_fit_sample_reads_every_heavy_pattern_at_its_weight_and_the_rest_unbiased():
    rng = np.random.default_rng(4)
    weights = rng.integers(1, 4, 9_000).astype(float)
    weights[[1, 5_001]] = 3_000.0  # two patterns each held by thousands of ballots
    rows, times = sample_rows(weights, 1_000)
    assert len(rows) < 1_200 and {1, 5_001} <= set(rows.tolist())
    heavy = np.isin(rows, [1, 5_001])
    assert (times[heavy] == 1).all() and (times[~heavy] == 9).all()
    # The sample stands for the whole round: within a few percent of its total weight.
    assert abs((weights[rows] * times).sum() / weights.sum() - 1) < 0.03
