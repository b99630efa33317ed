"""The rule of the rating conversation, pure: what one move on the current screen does to a ballot.

A ballot's screens are the factors in order (`step` < n), the summary (`step` == n) and the done screen
(`step` == n + 1). A move that does not belong to the screen the ballot is on is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import BadInput, StaleButton

#: The answer stored for "not sure": no score, but the question was answered.
NOT_SURE = 0
SCORES = range(1, 6)


class Action(StrEnum):
    """What a rater can ask for on a rating screen."""

    SCORE = "score"  # a factor's screen: score it 1–5 (`Move.number`)
    NOT_SURE = "not_sure"  # a factor's screen
    BACK = "back"  # a factor's screen after the first: the previous factor
    EDIT = "edit"  # the summary: change the factor at position `Move.number`
    SUBMIT = "submit"  # the summary, once every factor is answered
    REVISE = "revise"  # the done screen: back to the summary to change a submitted ballot


class Outcome(StrEnum):
    """What a move did."""

    ANSWERED = "answered"
    BACK = "back"
    EDITING = "editing"
    SUBMITTED = "submitted"
    RESUBMITTED = "resubmitted"  # a revised ballot submitted again: it still counts once
    REVISING = "revising"


@dataclass(frozen=True)
class Move:
    """One action, with its number for SCORE (the score) and EDIT (the factor's position)."""

    action: Action
    number: int = 0

    @classmethod
    def score(cls, value: int) -> Move:
        return cls(Action.SCORE, value)

    @classmethod
    def edit(cls, position: int) -> Move:
        return cls(Action.EDIT, position)


def next_step(keys: list[str], answers: dict[str, int], after: int) -> int:
    """The first unanswered factor after `after`, else the summary."""
    for position in range(after + 1, len(keys)):
        if keys[position] not in answers:
            return position
    return len(keys)


def apply(keys: list[str], answers: dict[str, int], step: int, move: Move) -> tuple[dict[str, int], int, Outcome]:
    """(answers, step, outcome) after `move` on the screen `step` of a ballot over the factors `keys`.

    `answers` is updated in place. Raises StaleButton for a move that does not belong to the screen,
    and BadInput for a submit before every factor is answered."""
    n = len(keys)
    action = move.action
    if step < n:
        if (action is Action.SCORE and move.number in SCORES) or action is Action.NOT_SURE:
            answers[keys[step]] = NOT_SURE if action is Action.NOT_SURE else move.number
            return answers, next_step(keys, answers, step), Outcome.ANSWERED
        if action is Action.BACK and step > 0:
            return answers, step - 1, Outcome.BACK
    elif step == n:
        if action is Action.EDIT and 0 <= move.number < n:
            return answers, move.number, Outcome.EDITING
        if action is Action.SUBMIT:
            if any(k not in answers for k in keys):
                raise BadInput(detail="incomplete")
            return answers, n + 1, Outcome.SUBMITTED
    elif action is Action.REVISE:
        return answers, n, Outcome.REVISING
    raise StaleButton()
