from scoring_helpers import KEYS, make_ballot, ordinary_round, same_answer

from scoring.model import Method
from scoring.scorecard import score_round
from scoring.screening import (
    EXCLUDED_RATER,
    MOSTLY_UNSURE,
    OFF_CONSENSUS,
    OWNED_TOO_BRIEFLY,
    SPEEDER,
    STRAIGHT_LINER,
)


def screen(ballots, factors, method):
    return list(score_round(ballots, factors, method).verdicts)


def verdict_of(target, others, factors, method=None):
    verdicts = screen([*others, target], factors, method or Method())
    return verdicts[-1]


def test_an_ordinary_ballot_is_accepted_at_nearly_full_weight_with_no_reasons_or_flags(factors):
    v = verdict_of(make_ballot("x"), ordinary_round(20), factors)
    assert v.accepted and v.reasons == () and v.flags == () and v.primary_reason is None and v.weight >= 0.9


def test_a_ballot_under_half_the_round_median_is_a_speeder(factors):
    v = verdict_of(make_ballot("x", seconds=25), ordinary_round(20, seconds=60), factors)
    assert not v.accepted and v.reasons == (SPEEDER,)


def test_a_ballot_just_over_half_the_median_is_not_a_speeder(factors):
    v = verdict_of(make_ballot("x", seconds=33), ordinary_round(20, seconds=60), factors)
    assert v.accepted


def test_a_ballot_under_the_absolute_floor_per_answered_factor_is_a_speeder_even_if_everyone_is_fast(factors):
    # Everyone took 10 s for 6 factors: the median rule cannot fire, the 2 s/factor floor does.
    v = verdict_of(make_ballot("x", seconds=10), ordinary_round(20, seconds=10), factors)
    assert v.reasons == (SPEEDER,)


def test_not_sure_answers_count_toward_the_speed_floor_but_missing_factors_do_not(factors):
    two_answered = {"cleanliness": 4, "aroma": None}
    v = verdict_of(make_ballot("x", two_answered, seconds=5), ordinary_round(20, seconds=5), factors)
    assert SPEEDER not in v.reasons  # 5 s >= 2 s × 2 answered factors


def test_a_straight_liner_on_its_own_is_only_flagged_and_keeps_its_full_weight(factors):
    # Fours everywhere on a product the round rates about four: plausible, so kept and reported.
    v = verdict_of(make_ballot("x", same_answer(4)), ordinary_round(20), factors)
    assert v.accepted and v.flags == (STRAIGHT_LINER,) and v.reasons == () and v.weight == 1.0


def test_all_fives_for_a_product_everyone_loves_are_kept(factors):
    loved = [make_ballot(f"b{i}", dict(zip(KEYS, (5, 5, 4, 5, 5, 4), strict=True))) for i in range(20)]
    v = verdict_of(make_ballot("x", same_answer(5)), loved, factors)
    assert v.accepted and v.flags[0] == STRAIGHT_LINER and v.weight >= 0.5


def test_a_straight_liner_who_is_also_a_speeder_is_excluded_and_flagged(factors):
    v = verdict_of(make_ballot("x", same_answer(4), seconds=20), ordinary_round(20), factors)
    assert not v.accepted and v.reasons == (SPEEDER,) and STRAIGHT_LINER in v.flags and v.weight == 0


def test_a_slow_brand_bomber_at_one_far_from_the_consensus_counts_for_nothing(factors):
    v = verdict_of(make_ballot("x", same_answer(1), seconds=120), ordinary_round(20), factors)
    assert v.accepted and v.weight == 0 and v.flags[:2] == (STRAIGHT_LINER, OFF_CONSENSUS)


def test_an_honest_dissenter_far_from_the_consensus_is_weighed_down_not_excluded(factors):
    dissent = dict(zip(KEYS, (1, 2, 1, 2, 1, 2), strict=True))
    v = verdict_of(make_ballot("x", dissent), ordinary_round(20), factors)
    assert v.accepted and OFF_CONSENSUS in v.flags and 0 <= v.weight < 1


def test_fewer_identical_answers_than_the_minimum_is_not_straight_lining(factors):
    four_fives = {"cleanliness": 5, "aroma": 5, "dandruff": 5, "conditioning": 5, "moisturizing": None}
    v = verdict_of(make_ballot("x", four_fives), ordinary_round(20), factors)
    assert STRAIGHT_LINER not in v.reasons + v.flags


def test_more_than_half_not_sure_is_mostly_unsure(factors):
    answers = {**same_answer(None), "cleanliness": 4, "aroma": 3}
    v = verdict_of(make_ballot("x", answers), ordinary_round(20), factors)
    assert not v.accepted and v.reasons == (MOSTLY_UNSURE,)


def test_exactly_half_not_sure_is_not_mostly_unsure(factors):
    answers = {**same_answer(None), "cleanliness": 4, "aroma": 3, "dandruff": 5}
    v = verdict_of(make_ballot("x", answers), ordinary_round(20), factors)
    assert v.accepted


def test_a_purchase_younger_than_the_minimum_is_owned_too_briefly(factors):
    v = verdict_of(make_ballot("x", owned_days=6), ordinary_round(20), factors)
    assert v.reasons == (OWNED_TOO_BRIEFLY,)
    assert verdict_of(make_ballot("y", owned_days=7), ordinary_round(20), factors).accepted


def test_unknown_ownership_is_not_held_against_the_rater(factors):
    assert verdict_of(make_ballot("x", owned_days=None), ordinary_round(20), factors).accepted


def test_a_rater_excluded_by_an_admin_is_excluded(factors):
    v = verdict_of(make_ballot("x", excluded_by_admin=True), ordinary_round(20), factors)
    assert v.reasons == (EXCLUDED_RATER,)


def test_reasons_are_listed_most_decisive_first(factors):
    v = verdict_of(
        make_ballot("x", same_answer(None), seconds=1, owned_days=1, excluded_by_admin=True),
        ordinary_round(20),
        factors,
    )
    assert v.reasons == (EXCLUDED_RATER, OWNED_TOO_BRIEFLY, SPEEDER, MOSTLY_UNSURE)
    assert v.primary_reason == EXCLUDED_RATER


def test_thresholds_come_from_the_method(factors):
    lenient = Method(speeder_median_ratio=0.3, min_ownership_days=3)
    assert verdict_of(make_ballot("x", seconds=25, owned_days=5), ordinary_round(20), factors, lenient).accepted


def test_screening_keeps_every_ballot_in_order(factors):
    ballots = [*ordinary_round(10), make_ballot("fast", seconds=1)]
    verdicts = screen(ballots, factors, Method())
    assert [v.ballot for v in verdicts] == [b.ballot for b in ballots]


def test_an_empty_round_has_no_verdicts(factors):
    assert screen([], factors, Method()) == []
