"""The rule of the rating conversation, without Telegram or a database."""

from __future__ import annotations

import pytest

from bot.domain.ballot_rule import NOT_SURE, Action, Move, Outcome, apply
from bot.domain.errors import BadInput, StaleButton

KEYS = ["a", "b", "c"]
BACK, NOT_SURE_MOVE, SUBMIT, REVISE = (Move(a) for a in (Action.BACK, Action.NOT_SURE, Action.SUBMIT, Action.REVISE))


def test_answering_moves_to_the_next_unanswered_factor_then_the_summary() -> None:
    answers, step, outcome = apply(KEYS, {}, 0, Move.score(4))
    assert (answers, step, outcome) == ({"a": 4}, 1, Outcome.ANSWERED)
    answers, step, _ = apply(KEYS, answers, 1, NOT_SURE_MOVE)
    assert answers["b"] == NOT_SURE and step == 2
    answers, step, _ = apply(KEYS, answers, 2, Move.score(1))
    assert step == 3  # the summary


def test_back_keeps_the_answers_and_a_changed_answer_returns_to_the_summary() -> None:
    answers, step, _ = apply(KEYS, {"a": 4, "b": 2}, 2, BACK)
    assert (answers, step) == ({"a": 4, "b": 2}, 1)
    answers, step, outcome = apply(KEYS, {"a": 4, "b": 2, "c": 1}, 3, Move.edit(0))
    assert (step, outcome) == (0, Outcome.EDITING)
    answers, step, _ = apply(KEYS, answers, 0, Move.score(5))
    assert answers["a"] == 5 and step == 3


def test_submit_needs_every_factor_and_leads_to_the_done_screen() -> None:
    assert apply(KEYS, {"a": 1, "b": 2, "c": 3}, 3, SUBMIT)[1:] == (4, Outcome.SUBMITTED)
    with pytest.raises(BadInput):
        apply(KEYS, {"a": 1}, 3, SUBMIT)


def test_a_submitted_ballot_is_revised_from_the_summary() -> None:
    assert apply(KEYS, {"a": 1, "b": 2, "c": 3}, 4, REVISE)[1:] == (3, Outcome.REVISING)


@pytest.mark.parametrize(
    ("step", "move"),
    [(0, BACK), (0, SUBMIT), (3, Move.score(4)), (4, Move.score(4)), (4, SUBMIT), (1, Move.edit(0)),
     (3, Move.edit(7)), (0, Move.score(6)), (3, REVISE)],
)
def test_a_move_that_does_not_belong_to_the_current_screen_is_stale(step: int, move: Move) -> None:
    with pytest.raises(StaleButton):
        apply(KEYS, {"a": 1, "b": 2, "c": 3}, step, move)
