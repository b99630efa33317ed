"""The rule of the rating conversation, without Telegram or a database."""

from __future__ import annotations

import pytest

from bot.domain.ballots import NOT_SURE, _apply
from bot.domain.errors import BadInput, StaleButton

KEYS = ["a", "b", "c"]


def test_answering_moves_to_the_next_unanswered_factor_then_the_summary() -> None:
    answers, step, outcome = _apply(KEYS, {}, 0, "4")
    assert (answers, step, outcome) == ({"a": 4}, 1, "answered")
    answers, step, _ = _apply(KEYS, answers, 1, "u")
    assert answers["b"] == NOT_SURE and step == 2
    answers, step, _ = _apply(KEYS, answers, 2, "1")
    assert step == 3  # the summary


def test_back_keeps_the_answers_and_a_changed_answer_returns_to_the_summary() -> None:
    answers, step, _ = _apply(KEYS, {"a": 4, "b": 2}, 2, "k")
    assert (answers, step) == ({"a": 4, "b": 2}, 1)
    answers, step, outcome = _apply(KEYS, {"a": 4, "b": 2, "c": 1}, 3, "e0")
    assert (step, outcome) == (0, "editing")
    answers, step, _ = _apply(KEYS, answers, 0, "5")
    assert answers["a"] == 5 and step == 3


def test_submit_needs_every_factor_and_leads_to_the_done_screen() -> None:
    assert _apply(KEYS, {"a": 1, "b": 2, "c": 3}, 3, "s")[1:] == (4, "submitted")
    with pytest.raises(BadInput):
        _apply(KEYS, {"a": 1}, 3, "s")


@pytest.mark.parametrize(("step", "action"), [(0, "k"), (0, "s"), (3, "4"), (4, "4"), (4, "s"), (1, "e0"), (3, "e7")])
def test_a_button_that_does_not_belong_to_the_current_screen_is_stale(step: int, action: str) -> None:
    with pytest.raises(StaleButton):
        _apply(KEYS, {"a": 1, "b": 2, "c": 3}, step, action)
