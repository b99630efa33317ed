import json

from scoring_helpers import KEYS, make_ballot, ordinary_round, same_answer

from scoring.model import FactorSpec, Method, RaterHistory
from scoring.scorecard import score_round
from scoring.screening import REASONS


def messy_round():
    """35 ordinary ballots and one of every kind of trouble."""
    return [
        *ordinary_round(35),
        make_ballot("fast", seconds=5),
        make_ballot("fast-fives", same_answer(5), seconds=5),
        make_ballot("bomber", same_answer(1), seconds=90),
        make_ballot("unsure", same_answer(None)),
        make_ballot("new-owner", owned_days=2),
        make_ballot("banned", excluded_by_admin=True),
        make_ballot("fours", same_answer(4)),
    ]


SPEC_TOP_KEYS = {"round_id", "sku", "status", "ballots", "invited", "overall", "factors", "method"}


def test_the_report_has_the_spec_shape(factors):
    report = score_round(messy_round(), factors, Method()).to_report(1, "SKU1", "published", 120)
    assert report.keys() >= SPEC_TOP_KEYS
    assert (report["round_id"], report["sku"], report["status"], report["invited"]) == (1, "SKU1", "published", 120)
    assert {"submitted", "accepted", "excluded"} <= report["ballots"].keys()
    assert all(isinstance(n, int) for n in report["ballots"]["excluded"].values())
    assert set(report["overall"]) >= {"score", "ci"}
    assert len(report["overall"]["ci"]) == 2
    for f in report["factors"]:
        assert {"key", "n", "mean", "score", "ci"} <= f.keys()
    assert [f["key"] for f in report["factors"]] == list(KEYS)
    assert isinstance(report["method"], str) and report["method"].startswith("rh-score/")
    json.dumps(report)  # plain JSON all the way down


def test_excluded_counts_add_up_to_the_ballots_not_accepted(factors):
    card = score_round(messy_round(), factors, Method())
    report = card.to_report(1, "SKU1", "published", 0)
    b = report["ballots"]
    assert b["submitted"] == 42
    assert b["accepted"] + sum(b["excluded"].values()) == b["submitted"]
    assert set(b["excluded"]) <= set(REASONS)


def test_each_excluded_ballot_is_counted_once_under_its_primary_reason(factors):
    b = score_round(messy_round(), factors, Method()).to_report(1, "SKU1", "published", 0)["ballots"]
    assert b["excluded"] == {"excluded_rater": 1, "owned_too_briefly": 1, "speeder": 2, "mostly_unsure": 1}
    # The slow bomber breaks no hard rule: it is counted, weighed to nothing, and flagged like the fours.
    assert b["flagged"] == {"straight_liner": 2}
    assert b["weight_bands"]["zero"] == 6 and sum(b["weight_bands"].values()) == b["submitted"]
    assert b["by_reason"]["straight_liner"] == 3  # the fast fives too, under every reason it has


def test_every_excluded_ballot_is_traceable_to_its_reasons(factors):
    report = score_round(messy_round(), factors, Method()).to_report(1, "SKU1", "published", 0)
    listed = {s["ballot"]: s for s in report["screening"] if not s["accepted"]}
    assert set(listed) == {"fast", "fast-fives", "unsure", "new-owner", "banned"}
    assert listed["fast-fives"]["reasons"] == ["speeder"] and listed["fast-fives"]["flags"] == ["straight_liner"]
    assert all(s["weight"] == 0 for s in listed.values())
    kept = {s["ballot"]: s for s in report["screening"] if s["accepted"]}
    assert kept["bomber"]["weight"] == 0 and kept["bomber"]["flags"][:2] == ["straight_liner", "off_consensus"]
    fours = {"ballot": "fours", "accepted": True, "weight": 1.0, "reasons": [], "flags": ["straight_liner"]}
    assert kept["fours"] == fours
    assert all(s["flags"] for s in kept.values() if s["weight"] < 0.9)  # every real down-weighting says why


def test_nothing_is_deleted_every_ballot_keeps_a_verdict(factors):
    ballots = messy_round()
    card = score_round(ballots, factors, Method())
    assert [v.ballot for v in card.verdicts] == [b.ballot for b in ballots]


def test_report_numbers_are_rounded_to_two_decimals(factors):
    report = score_round(messy_round(), factors, Method()).to_report(1, "SKU1", "published", 0)
    numbers = [report["overall"]["score"], *report["overall"]["ci"]]
    for f in report["factors"]:
        numbers += [f["mean"], f["score"], *f["ci"]]
    assert all(round(x, 2) == x for x in numbers)


def test_a_round_below_min_ballots_is_insufficient_and_shows_no_number(factors):
    card = score_round(ordinary_round(29), factors, Method(min_ballots=30))
    report = card.to_report(3, "SKU3", "published", 50)
    assert card.insufficient and report["status"] == "insufficient"
    assert report["overall"]["score"] is None and report["overall"]["ci"] is None
    for f in report["factors"]:
        assert f["score"] is None and f["ci"] is None and f["mean"] is None and f["distribution"] is None
        assert f["n"] == 29 and f["insufficient"] is True
    assert report["ballots"]["accepted"] == 29


def test_a_round_exactly_at_min_ballots_is_scored(factors):
    report = score_round(ordinary_round(30), factors, Method(min_ballots=30)).to_report(3, "S", "published", 0)
    assert report["status"] == "published" and report["overall"]["score"] is not None


def test_excluded_ballots_do_not_count_toward_min_ballots(factors):
    ballots = [*ordinary_round(29), make_ballot("banned", excluded_by_admin=True)]
    assert score_round(ballots, factors, Method(min_ballots=30)).insufficient


def test_an_open_round_keeps_its_status_while_short_of_ballots(factors):
    report = score_round(ordinary_round(5), factors, Method()).to_report(3, "S", "open", 50)
    assert report["status"] == "open" and report["overall"]["score"] is None


def test_a_factor_below_its_minimum_shows_no_number_while_the_others_do(factors):
    ballots = ordinary_round(40)
    sparse = [
        make_ballot(b.ballot, {**b.answers, "aroma": None if i >= 9 else b.answers["aroma"]})
        for i, b in enumerate(ballots)
    ]
    report = score_round(sparse, factors, Method(min_factor_n=10)).to_report(4, "S", "published", 0)
    aroma = next(f for f in report["factors"] if f["key"] == "aroma")
    assert aroma["n"] == 9 and aroma["insufficient"] is True
    assert aroma["score"] is None and aroma["mean"] is None and aroma["ci"] is None
    assert aroma["unsure"] == 31
    others = [f for f in report["factors"] if f["key"] != "aroma"]
    assert all(f["score"] is not None for f in others)
    assert "aroma" not in report["overall"]["factors"] and report["overall"]["score"] is not None


def test_the_overall_is_the_weighted_mean_of_the_factor_scores(factors):
    card = score_round(ordinary_round(60), factors, Method())
    scores = [f.score for f in card.factors]
    assert card.overall.score is not None
    assert abs(card.overall.score - sum(scores) / len(scores)) < 1e-12
    heavy = [FactorSpec(f.key, f.label_en, f.label_zh, weight=5.0 if f.key == "conditioning" else 1.0) for f in factors]
    weighted = score_round(ordinary_round(60), heavy, Method())
    expected = sum(f.score * f.weight for f in weighted.factors) / 10.0
    assert abs(weighted.overall.score - expected) < 1e-12


def test_the_same_ballots_always_give_the_same_report(factors):
    a = score_round(messy_round(), factors, Method()).to_report(1, "S", "published", 10)
    b = score_round(list(reversed(messy_round())), factors, Method()).to_report(1, "S", "published", 10)
    a.pop("screening"), b.pop("screening")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_the_leniency_correction_centres_a_rater_known_to_rate_low(factors):
    ballots = [
        *ordinary_round(40),
        # A few harsh raters, not a bloc (ten identical harsh ballots in fifty are weighed out first).
        *(make_ballot(f"h{i}", same_answer(3) | {"aroma": 4}, rater=f"harsh{i}") for i in range(4)),
    ]
    history = {f"harsh{i}": RaterHistory(offset=-1.5, count=1000) for i in range(4)}
    off = score_round(ballots, factors, Method())
    on = score_round(ballots, factors, Method(leniency=True), rater_history=history)
    assert on.overall.score > off.overall.score
    # Raw means and distributions stay as answered.
    assert [f.mean for f in on.factors] == [f.mean for f in off.factors]
    assert [f.distribution for f in on.factors] == [f.distribution for f in off.factors]


def test_the_leniency_correction_is_ignored_when_the_method_turns_it_off(factors):
    history = {b.rater: RaterHistory(offset=1.0, count=50) for b in ordinary_round(40)}
    a = score_round(ordinary_round(40), factors, Method())
    b = score_round(ordinary_round(40), factors, Method(), rater_history=history)
    assert a.overall == b.overall


def test_duplicate_factor_keys_are_refused(factors):
    import pytest

    with pytest.raises(ValueError, match="unique"):
        score_round(ordinary_round(5), [factors[0], factors[0]], Method())


def test_a_large_round_is_screened_and_counted_completely(factors):
    # Scale without a stopwatch: 20k ballots go through and every one is accounted for.
    ballots = [*ordinary_round(19_000), *(make_ballot(f"s{i}", seconds=3) for i in range(1000))]
    report = score_round(ballots, factors, Method()).to_report(9, "S", "published", 0)
    assert report["ballots"]["accepted"] == 19_000 and report["ballots"]["excluded"] == {"speeder": 1000}
