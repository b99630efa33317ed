"""Honest rankings: places as bands where the intervals say the order is not known.

A league table that prints 1, 2, 3 for 4.21, 4.19 and 4.18 claims an order its data cannot support.
Here each item's place is the range of places it could hold given the 95% intervals (Goldstein &
Spiegelhalter 1996, "League tables and their limitations"): it is certainly behind every item whose
interval lies wholly above its own, and possibly behind every item whose interval overlaps it. Two
items whose intervals overlap are *statistically tied*; the table says so instead of ordering them.

The same rule answers "is A better than B on this factor?": only when their intervals do not overlap.
Overlap is the conservative test (a difference can be real while intervals touch), chosen because it
is the one a shopper can check by eye on the published scorecards, and a ranking must never say more
than the scorecards it is built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Scored:
    """Something with a score and its interval (a product's overall, or one factor)."""

    key: str
    score: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class Place:
    """An item's place in a ranking: `best`..`worst` (1 = first); a band when they differ."""

    item: Scored
    best: int
    worst: int

    @property
    def tied(self) -> bool:
        return self.best != self.worst


def rank(items: Sequence[Scored]) -> list[Place]:
    """Items from the highest score down, each with its band of places.

    `best` is 1 + the number of items certainly ahead (interval wholly above); `worst` is the number
    of items not certainly behind (interval reaching at least this one's lower bound), itself included.
    """
    ordered = sorted(items, key=lambda s: (-s.score, s.key))
    places = []
    for item in ordered:
        low, high = item.ci
        ahead = sum(1 for other in ordered if other.ci[0] > high)
        not_behind = sum(1 for other in ordered if other.ci[1] >= low)
        places.append(Place(item, ahead + 1, not_behind))
    return places


class Verdict(StrEnum):
    """How two scores compare."""

    HIGHER = "higher"  # the first is better: its interval lies wholly above the other's
    LOWER = "lower"
    TIED = "tied"  # the intervals overlap: the data cannot tell them apart


def compare(first: Scored, second: Scored) -> Verdict:
    """Whether `first` is really higher or lower than `second`, or statistically tied."""
    if first.ci[0] > second.ci[1]:
        return Verdict.HIGHER
    if first.ci[1] < second.ci[0]:
        return Verdict.LOWER
    return Verdict.TIED
