"""The red-team suite (issue 10): seeded rounds with a known truth, honest raters and attackers.

`pytest -s` prints the table (30 % fraud, 200-ballot rounds; `python -m scoring.redteam` prints the
10/20/30 % table). The issue's bars that the method meets are asserted; the ones it does not yet
meet are shown by the table and named here, in scoring/weighting.py and in README, not asserted away.

Asserted: the stated bound in every round; honest, polarising, niche-factor and 30-ballot rounds
within 0.01 of the naive mean's error, polarising and niche rounds with at most 5 % of honest ballots
below half weight; mimics and the adaptive attacker no worse than the naive mean; every strategy and
mix closer than the naive mean; and the full bar — at 30 %, 95 % of rounds within 0.15 and a mean
error at most 0.06 — for `MEETS_THE_BAR`.

Not met yet (at 30 %, 20 rounds): the mix of mimics and targeted blocs (0.150, 50 %: what is left of it
is 15 % mimics, which alone at 15 % are 0.114 off). rh-score/8 brought the mix of all patterns to the
bar (0.087, 90 % under rh-score/6; 0.057, 100 %; seeds 7 and 11: 0.061, 95 % and 0.057, 95 %): a
three-group fit of the offsets finds blocs pushing both ways at once, and a bloc's side is trimmed
symmetrically. rh-score/6's targeted class (scoring.targeted) brought two sunk factors (0.066, 95 % →
0.049, 100 %) and two lifted (0.071, 90 % → 0.047, 100 %) to the bar; seeds 7 and 11 agree (0.044–0.049,
95–100 %). rh-score/5 brought near-straight fives (0.096 → 0.041), near-straight ones (0.079 → 0.054),
straight fives (0.061 → 0.045) and copies one heart out (0.063 → 0.058). The mix of targeted blocs and
copies meets it with little to spare (0.045, 95 %; seed 7: 0.050, 90 %).

Rounds per cell: 20 where the 95 % bar is asserted, in the honest cases and for mimics (whose margin
over the naive mean is thin); fewer where the margin is wide, to keep CI fast."""

import random
import statistics

import pytest

from scoring.attacks import STRATEGIES, UNSTOPPABLE
from scoring.redteam import HONEST_CASES, MIXES, format_table, run_cell
from scoring.simulate import _answer, honest_expectation

#: Strategies that meet the issue's full bar at 30 %: 95 % of rounds within 0.15, mean error ≤ 0.06.
MEETS_THE_BAR = ("straight_1_slow_bomber", "copies_push2_jitter20", "random_clicker_human_time",
                 "unsure_half_plus_1s", "targeted_1_factor_to_1", "mix_targeted_and_copies",
                 "near_straight_5_vary1", "near_straight_1_vary2", "straight_5_human_time", "copies_push1_jitter10",
                 "targeted_2_factors_to_1", "targeted_2_factors_to_5", "mix_all_patterns")
#: Fewer rounds where the table's margin is wide (the adaptive attacker scores 15 blocs a round).
ROUNDS = {"adaptive": 8, **{name: 12 for name in MIXES if name not in MEETS_THE_BAR}}
SEED = 20261207


@pytest.fixture(scope="module")
def table():
    cells = [run_cell(case, (), 0.0, rounds=20, seed=SEED, case=case,
                      n_ballots=30 if case == "honest_30_ballots" else 200) for case in HONEST_CASES]
    plans = [(name, (name,)) for name in STRATEGIES] + list(MIXES.items())
    cells += [run_cell(name, mix, 0.3, rounds=ROUNDS.get(name, 20), seed=SEED) for name, mix in plans]
    print("\n" + format_table(cells))
    return {c.strategy: c for c in cells}


def test_the_truth_is_what_honest_raters_report_on_average():
    rng = random.Random(3)
    for q in (1.4, 3.0, 4.6):
        sample = [_answer(q + rng.gauss(0, 0.4) + rng.gauss(0, 0.8)) for _ in range(40_000)]
        assert honest_expectation(q) == pytest.approx(statistics.fmean(sample), abs=0.02)


def test_the_suite_has_at_least_ten_strategies_and_an_adaptive_attacker():
    assert len(STRATEGIES) >= 10 and "adaptive" in STRATEGIES and set(STRATEGIES) >= UNSTOPPABLE


def test_the_stated_bound_holds_in_every_simulated_round(table):
    for name, cell in table.items():
        assert cell.bound_held, (name, cell.worst_move_over_bound)


def test_without_fraud_the_published_overall_is_within_001_of_the_naive_means_error(table):
    for case in HONEST_CASES:
        assert table[case].mae <= table[case].naive_mae + 0.01, case


def test_polarising_and_niche_rounds_weigh_few_honest_ballots_below_half(table):
    for case in ("honest_polarising", "honest_niche_factor"):
        assert table[case].honest_below_half <= 0.05, case


def test_mimics_and_the_adaptive_attacker_do_no_more_harm_than_in_the_naive_mean(table):
    for name in UNSTOPPABLE:
        assert table[name].mae <= table[name].naive_mae, name


def test_at_30_percent_every_strategy_and_mix_is_published_closer_than_the_naive_mean(table):
    for name in [*STRATEGIES, *MIXES]:
        assert table[name].mae < table[name].naive_mae, name


@pytest.mark.parametrize("name", MEETS_THE_BAR)
def test_at_30_percent_these_strategies_meet_the_full_bar(table, name):
    cell = table[name]
    assert cell.rounds >= 20 and cell.within >= 0.95 and cell.mae <= 0.06, (name, cell.within, cell.mae)



def test_at_20_percent_copies_one_heart_out_do_not_push_the_round_the_other_way():
    # The honest raters nearest the copies share their side and were set aside with them; the rest of
    # the crowd then pulled the round the other way (rh-score/7: 0.107 off, 80 % within 0.15). A bloc's
    # side is now trimmed symmetrically (scoring.weighting, step 4): 0.070, 100 %.
    cell = run_cell("copies_push1_jitter10", ("copies_push1_jitter10",), 0.2, rounds=20, seed=SEED)
    assert cell.within >= 0.95 and cell.mae <= 0.08 and cell.bound_held, (cell.mae, cell.within)
