"""Interleaved measurement: ours and its floor in alternating pairs, and what the pairs allow to say.

Run once each, ours then the floor, whatever load the machine took during one half landed on one side
of the ratio: the same commit measured a throughput ratio of 0.78–0.84 on a quiet machine and
0.57–0.58 with other work running. So both sides run in short, equal slices, a pair at a time (ours
then the floor, or the floor then ours, at random), and every figure is a ratio *within* a pair: a
load that lasts longer than a pair weighs on both sides of it alike. The report is the median of the
pairs' ratios, with their min–max: for n pairs the median lies between the smallest and the largest
ratio with probability 1 − 2·0.5ⁿ (94% for 5 pairs, 98% for 7) whatever their distribution (the sign
test), so that range is a confidence interval that assumes nothing about the noise.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import Any

MIN_PAIRS = 5
# Throughput's slices are short (~4 s of steady load each): seven pairs hold the median with 98%
# confidence, and a load that starts or stops partway moves at most a pair or two of them.
THROUGHPUT_PAIRS = 7
# The interval is "too wide to conclude" when it spans more than this share of the median: the issue's
# acceptance compares runs to within 0.05 on a ratio near 0.8 (~6%), and targets sit ~10% apart.
WIDE_SPREAD = 0.15


def pair_orders(pairs: int, rng: random.Random) -> list[tuple[str, str]]:
    """For each pair, which side runs first: ("ours", "floor") or ("floor", "ours"), at random."""
    return [("ours", "floor") if rng.random() < 0.5 else ("floor", "ours") for _ in range(pairs)]


def spread(ratios: Sequence[float]) -> dict[str, Any]:
    """The median of the pairs' ratios, its min–max interval with that interval's confidence, and
    whether the interval is too wide to conclude."""
    if not ratios:
        return {"median": None, "min": None, "max": None, "pairs": 0, "confidence": 0.0, "wide": True}
    median = statistics.median(ratios)
    low, high = min(ratios), max(ratios)
    width = (high - low) / median if median else float("inf")
    return {"median": round(median, 3), "min": round(low, 3), "max": round(high, 3), "pairs": len(ratios),
            "confidence": round(1 - 2 * 0.5 ** len(ratios), 3), "wide": width > WIDE_SPREAD}


def ratio(ours: float, floor: float) -> float | None:
    """ours / floor, or None when the floor measured nothing."""
    return ours / floor if floor else None


def ratios_of(pairs: Sequence[dict[str, Any]], key: str) -> list[float]:
    """`ours[key] / floor[key]` of every pair where both sides measured it."""
    found = (ratio(p["ours"][key], p["floor"][key]) for p in pairs)
    return [r for r in found if r is not None]


def warnings_for(spreads: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per ratio whose interval is too wide to conclude anything from its median."""
    return [f"{name}: pairs range {s['min']}–{s['max']} around a median of {s['median']}, wider than "
            f"{WIDE_SPREAD:.0%} of it — the machine was too noisy to conclude; run again on a quieter one"
            if s["pairs"] else f"{name}: no pair measured both sides"
            for name, s in spreads.items() if s["wide"]]
