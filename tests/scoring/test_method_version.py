import json
from dataclasses import fields, replace

import pytest
from scoring_helpers import shampoo_factors

from scoring.model import ALGORITHM, FactorSpec, Method, method_document, parse_method_document


def changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.9 if value else 0.5
    return value


def test_the_version_names_the_algorithm_and_a_parameter_hash():
    version = Method().version
    assert version.startswith(f"{ALGORITHM}+") and len(version.split("+")[1]) == 8


def test_equal_methods_have_equal_versions():
    assert Method().version == Method().version == Method.from_dict(Method().to_dict()).version


@pytest.mark.parametrize("name", [f.name for f in fields(Method) if f.name != "interval"])
def test_the_version_changes_when_any_threshold_changes(name):
    base = Method()
    other = replace(base, **{name: changed(getattr(base, name))})
    assert other.version != base.version


def test_the_method_round_trips_through_json():
    method = Method(speeder_median_ratio=0.4, prior_weight=2.5, leniency=True, min_ballots=12)
    again = Method.from_dict(json.loads(json.dumps(method.to_dict())))
    assert again == method and again.version == method.version


def test_unknown_method_parameters_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        Method.from_dict({"speedr_median_ratio": 0.3})


def test_missing_method_parameters_take_their_defaults():
    assert Method.from_dict({"min_ballots": 5}) == Method(min_ballots=5)


def test_nonsense_methods_are_refused():
    with pytest.raises(ValueError):
        Method(confidence=1.5)
    with pytest.raises(ValueError):
        Method(prior_weight=-1)


def test_the_method_document_carries_factors_weights_priors_and_thresholds():
    factors = [*shampoo_factors()[:2], FactorSpec("aroma2", "Aroma", "香味", weight=2.0, prior=3.7)]
    doc = json.loads(json.dumps(method_document(Method(min_ballots=10), factors), ensure_ascii=False))
    assert doc["version"] == Method(min_ballots=10).version
    assert doc["method"]["min_ballots"] == 10
    assert doc["factors"][2] == {"key": "aroma2", "label_en": "Aroma", "label_zh": "香味", "weight": 2.0, "prior": 3.7}
    method, back = parse_method_document(doc)
    assert method == Method(min_ballots=10) and back == factors


def test_an_edited_method_document_is_refused():
    doc = method_document(Method(), shampoo_factors())
    doc["method"]["speeder_median_ratio"] = 0.1
    with pytest.raises(ValueError, match="does not match"):
        parse_method_document(doc)
