"""The simulation study of issue 3: does screening + shrinkage publish the truth under fraud?"""

import random
import statistics

import pytest

from scoring.model import Method
from scoring.simulate import _answer, format_table, honest_expectation, run_study


@pytest.fixture(scope="module")
def study():
    rows = {row.fraud_share: row for row in run_study((0.0, 0.1, 0.3), rounds=200, n_ballots=200)}
    print("\n" + format_table(list(rows.values())))
    return rows


def test_the_truth_is_what_honest_raters_report_on_average():
    rng = random.Random(3)
    for q in (1.4, 3.0, 4.6):
        sample = [_answer(q + rng.gauss(0, 0.4) + rng.gauss(0, 0.8)) for _ in range(40_000)]
        assert honest_expectation(q) == pytest.approx(statistics.fmean(sample), abs=0.02)


def test_at_30_percent_fraud_the_published_overall_is_within_015_of_the_truth_in_95_percent_of_rounds(study):
    assert study[0.3].published_within_015 >= 0.95


def test_at_30_percent_fraud_the_published_overall_is_clearly_closer_than_the_naive_mean(study):
    row = study[0.3]
    assert row.published_overall_mae < 0.5 * row.naive_overall_mae
    assert row.published_factor_mae < 0.5 * row.naive_factor_mae


def test_at_10_percent_fraud_the_published_overall_beats_the_naive_mean(study):
    assert study[0.1].published_overall_mae < study[0.1].naive_overall_mae


def test_without_fraud_the_published_overall_is_no_worse_than_the_naive_mean_by_more_than_002(study):
    row = study[0.0]
    assert row.published_overall_mae <= row.naive_overall_mae + 0.02
    assert row.published_factor_mae <= row.naive_factor_mae + 0.02


def test_leniency_correction_stays_off_because_its_gain_is_below_the_published_precision(study):
    # The correction is only worth its cost (scores that depend on data outside the exported ballots)
    # if it moves the error by at least the 0.01 the report shows. In the study it does not.
    assert Method().leniency is False
    for row in study.values():
        assert abs(row.lenient_overall_mae - row.published_overall_mae) < 0.01
