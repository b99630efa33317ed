"""Best–worst scaling: the design, the screening, the fit and the simulation study of issue 12."""

import random
from collections import Counter

import pytest

from scoring.maxdiff import (
    SAME_POSITION,
    SPEEDER,
    MaxDiffMethod,
    Response,
    Task,
    analyse,
    pair_counts,
    respondent_sets,
    screen,
    to_report,
    versions_per_block,
)
from scoring.maxdiff_simulate import KEYS, format_table, run_study, simulate_responses


@pytest.fixture(scope="module")
def study():
    rows = [run_study(150, 0.0, 100), run_study(150, 0.1, 200), run_study(75, 0.1, 100)]
    print("\n" + format_table(rows))
    return rows


def test_with_150_respondents_and_10_candidates_the_true_top_five_is_found_in_90_percent_of_studies(study):
    row = study[1]
    assert (row.respondents, row.careless) == (150, 0.1)
    assert row.top5_exact >= 0.9


def test_with_150_respondents_the_ranking_correlates_with_the_truth_at_rho_09_on_average(study):
    assert study[1].mean_rho >= 0.9
    assert study[0].mean_rho >= study[2].mean_rho  # more careful respondents, a truer ranking


def test_a_block_of_respondents_sees_every_candidate_equally_often_and_pairs_almost_evenly():
    n, versions = 10, versions_per_block(10, 6, 4)
    assert versions == 5
    sets = [s for r in range(versions) for s in respondent_sets(n, 42, r)]
    shown = Counter(i for s in sets for i in s)
    assert set(shown.values()) == {12}
    pairs = pair_counts(sets, n)
    # 30 sets x 6 pairs = 180 pair slots over 45 pairs: 4 each on average, every pair met.
    assert len(pairs) == 45 and min(pairs) >= 2 and max(pairs) - min(pairs) <= 3


def test_each_respondent_gets_six_sets_of_four_distinct_candidates_in_a_reproducible_shuffled_order():
    first = respondent_sets(10, 7, 3)
    assert first == respondent_sets(10, 7, 3)
    assert len(first) == 6 and all(len(set(s)) == 4 for s in first)
    assert respondent_sets(10, 8, 3) != first
    # Order differs between respondents of the same version in different blocks.
    assert respondent_sets(10, 7, 3 + 5) != first


def test_fewer_candidates_than_a_set_is_refused():
    with pytest.raises(ValueError):
        respondent_sets(3, 1, 0)


def _response(best: int, worst: int, seconds: float = 60.0, name: str = "x") -> Response:
    tasks = tuple(Task(("a", "b", "c", "d"), best, worst) for _ in range(6))
    return Response(name, tasks, seconds)


def test_a_speeder_and_a_one_position_clicker_are_screened_out_with_their_reasons():
    method = MaxDiffMethod()
    assert screen(_response(0, 1, seconds=5), method).reasons == (SPEEDER, SAME_POSITION)
    assert screen(_response(0, 1), method).reasons == (SAME_POSITION,)
    varied = Response("y", (Task(("a", "b", "c", "d"), 0, 3), Task(("b", "a", "c", "d"), 2, 0),
                            Task(("d", "c", "b", "a"), 1, 3)), 40.0)
    assert screen(varied, method).accepted


def test_the_fit_ranks_by_what_respondents_chose_and_bootstrap_intervals_are_reproducible():
    method = MaxDiffMethod(bootstrap=60)
    responses = simulate_responses(60, 0.0, random.Random(5), method)
    one = analyse(KEYS, responses, method)
    again = analyse(KEYS, list(responses), method)
    assert one == again
    top = one.candidates[0]
    assert top.key in KEYS[:3] and top.ci[0] <= top.share <= top.ci[1]
    assert abs(sum(c.share for c in one.candidates) - 100) < 1e-6
    # Best-minus-worst counts agree with the fit's order at the ends.
    assert one.candidates[0].bw > 0 > one.candidates[-1].bw


def test_candidates_whose_intervals_overlap_share_a_rank_band():
    method = MaxDiffMethod(bootstrap=60)
    result = analyse(KEYS, simulate_responses(20, 0.0, random.Random(9), method), method)
    bands = {c.key: c.rank_band for c in result.candidates}
    assert any(lo < hi for lo, hi in bands.values())
    for c in result.candidates:
        assert c.rank_band[0] <= c.rank <= c.rank_band[1]


def test_the_report_counts_screened_respondents_and_names_the_method():
    method = MaxDiffMethod(bootstrap=20)
    responses = [*simulate_responses(30, 0.0, random.Random(2), method), _response(0, 1, seconds=3, name="bot")]
    report = to_report(analyse(KEYS, responses, method), method)
    assert report["respondents"] == {"submitted": 31, "accepted": 30, "excluded": {"speeder": 1}}
    assert MaxDiffMethod.from_document(report["method"]) == method
    assert [c["rank"] for c in report["candidates"]] == list(range(1, 11))


def test_no_accepted_respondent_gives_a_result_in_catalog_order_with_zero_counts():
    result = analyse(["a", "b", "c", "d"], [_response(0, 1, seconds=1)], MaxDiffMethod())
    assert result.accepted == 0 and result.ranking() == ["a", "b", "c", "d"]
