"""Interleaved measurement: ours and its floor in pairs, and what the pairs allow to say.

Run once each, ours then the floor, whatever load the machine took during one half landed on one side
of the ratio: the same commit measured a throughput ratio of 0.78–0.84 on a quiet machine and
0.57–0.58 with other work running. So every figure is a ratio *within* a pair, measured under the same
conditions: for throughput a pair is a window of time in which both bots, sharing one CPU, take their
loads at once (`bot.bench.throughput` says why: alternating ~1 s slices could not agree to within 0.05
between runs on this VM); for scoring, a close of ours and a bare fetch run back to back, the order
within the pair at random. The report is the median of the pairs' ratios with a distribution-free
interval for it (the sign test): the k-th smallest and k-th largest ratio hold the true median with
probability 1 − 2·P(Binomial(n, ½) < k) whatever the noise, and k is the largest that keeps that at
95% or more (for 5–7 pairs k = 1, the min–max: 94% and 98%).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from typing import Any

MIN_PAIRS = 5
# Throughput's windows are short (~1.5 s of both loads): many pairs narrow the median, and a load that
# starts or stops partway moves only the few pairs it overlaps.
THROUGHPUT_PAIRS = 28
CONFIDENCE = 0.95
# The interval is "too wide to conclude" when it spans more than this share of the median: the issue's
# acceptance compares runs to within 0.05 on a ratio near 0.8 (~6%), and targets sit ~10% apart.
WIDE_SPREAD = 0.15


def pair_orders(pairs: int, rng: random.Random) -> list[tuple[str, str]]:
    """For each pair, which side runs first: ("ours", "floor") or ("floor", "ours"), at random."""
    return [("ours", "floor") if rng.random() < 0.5 else ("floor", "ours") for _ in range(pairs)]


def median_interval(n: int) -> tuple[int, float]:
    """The sign test's interval for the median of n samples: (k, coverage), where the k-th smallest and
    k-th largest hold the median with `coverage` — the largest k whose coverage is at least CONFIDENCE,
    or k = 1 (the min–max) when no k reaches it."""
    def coverage(k: int) -> float:
        return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / float(2 ** n)

    k = 1
    while k + 1 <= (n + 1) // 2 and coverage(k + 1) >= CONFIDENCE:
        k += 1
    return k, coverage(k)


def spread(ratios: Sequence[float]) -> dict[str, Any]:
    """The median of the pairs' ratios, its sign-test interval [low, high] with that interval's
    confidence, the min–max, and whether the interval is too wide to conclude."""
    if not ratios:
        return {"median": None, "low": None, "high": None, "min": None, "max": None, "pairs": 0,
                "confidence": 0.0, "wide": True}
    ordered = sorted(ratios)
    median = statistics.median(ordered)
    k, confidence = median_interval(len(ordered))
    low, high = ordered[k - 1], ordered[-k]
    width = (high - low) / median if median else float("inf")
    return {"median": round(median, 3), "low": round(low, 3), "high": round(high, 3), "min": round(ordered[0], 3),
            "max": round(ordered[-1], 3), "pairs": len(ordered), "confidence": round(confidence, 3),
            "wide": width > WIDE_SPREAD}


def ratio(ours: float, floor: float) -> float | None:
    """ours / floor, or None when the floor measured nothing."""
    return ours / floor if floor else None


def ratios_of(pairs: Sequence[dict[str, Any]], key: str) -> list[float]:
    """`ours[key] / floor[key]` of every pair where both sides measured it."""
    found = (ratio(p["ours"][key], p["floor"][key]) for p in pairs)
    return [r for r in found if r is not None]


def warnings_for(spreads: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per ratio whose interval is too wide to conclude anything from its median."""
    return [f"{name}: the median's {s['confidence']:.0%} interval {s['low']}–{s['high']} around {s['median']} "
            f"is wider than {WIDE_SPREAD:.0%} of it — the machine was too noisy to conclude; run again on a quieter one"
            if s["pairs"] else f"{name}: no pair measured both sides"
            for name, s in spreads.items() if s["wide"]]
