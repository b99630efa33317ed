"""The rule of the research conversation, pure: what one move on the current screen does to a response.

A response's screens are, for each set k of its design, "which matters MOST" (`step` 2k) and "which
matters LEAST among the rest" (`step` 2k + 1); then the summary (`step` 2n) and the done screen
(2n + 1). `picks[str(k)]` holds [most position, least position] in the set's display order (the least
is None until chosen). A move that does not belong to the screen the response is on is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import BadInput, StaleButton

Picks = dict[str, list[int | None]]


class ResearchAction(StrEnum):
    PICK = "pick"  # a set's screen: the candidate at `ResearchMove.position`
    BACK = "back"  # any screen after the first, and the summary
    SUBMIT = "submit"  # the summary, once every set is answered
    REVISE = "revise"  # the done screen: answer again from the first set, until the round closes


class ResearchOutcome(StrEnum):
    PICKED = "picked"
    BACK = "back"
    SUBMITTED = "submitted"
    RESUBMITTED = "resubmitted"
    REVISING = "revising"


@dataclass(frozen=True)
class ResearchMove:
    action: ResearchAction
    position: int = 0


def complete(picks: Picks, sets: int) -> bool:
    return all(len(picks.get(str(k)) or []) == 2 and None not in picks[str(k)] for k in range(sets))


def apply(set_sizes: list[int], picks: Picks, step: int, move: ResearchMove) -> tuple[Picks, int, ResearchOutcome]:
    """(picks, step, outcome) after `move` on screen `step`; `picks` is updated in place. Raises
    StaleButton for a move that does not belong to the screen, BadInput for an early submit."""
    n = len(set_sizes)
    action = move.action
    if step < 2 * n:
        k, least = divmod(step, 2)
        size = set_sizes[k]
        current = picks.get(str(k)) or [None, None]
        if action is ResearchAction.PICK and 0 <= move.position < size:
            if not least:
                # A new most pick that was the least pick clears it: one candidate cannot be both.
                worst = current[1] if current[1] != move.position else None
                picks[str(k)] = [move.position, worst]
                return picks, step + 1, ResearchOutcome.PICKED
            if current[0] is not None and move.position != current[0]:
                picks[str(k)] = [current[0], move.position]
                return picks, step + 1, ResearchOutcome.PICKED
        if action is ResearchAction.BACK and step > 0:
            return picks, step - 1, ResearchOutcome.BACK
    elif step == 2 * n:
        if action is ResearchAction.SUBMIT:
            if not complete(picks, n):
                raise BadInput(detail="incomplete")
            return picks, step + 1, ResearchOutcome.SUBMITTED
        if action is ResearchAction.BACK:
            return picks, step - 1, ResearchOutcome.BACK
    elif action is ResearchAction.REVISE:
        return picks, 0, ResearchOutcome.REVISING
    raise StaleButton()
