"""What interleaved pairs allow to conclude: median, min–max and its confidence, and the warning when
the pairs disagree too much (fake samples; nothing is timed here)."""

from __future__ import annotations

import random

from bot.bench.pairs import MIN_PAIRS, pair_orders, ratios_of, spread, warnings_for
from bot.bench.report import check_targets, render
from bot.bench.table import markdown
from bot.bench.throughput import interleaved_report


def _slice(taps_per_s: float, p99_ms: float, cpu_ms_per_tap: float) -> dict[str, float]:
    return {"taps": 100, "errors": 0, "seconds": 100 / taps_per_s, "cpu_seconds": cpu_ms_per_tap / 10,
            "cpu_ms_per_tap": cpu_ms_per_tap, "taps_per_s": taps_per_s, "p50_ms": p99_ms / 3, "p95_ms": p99_ms / 2,
            "p99_ms": p99_ms, "longest_loop_stall_ms": 12.0, "handler_errors": 0}


def test_the_ratio_is_ours_over_the_floor_pair_by_pair_and_its_median_is_reported() -> None:
    pairs = [{"ours": _slice(o, 100, 5), "floor": _slice(f, 100, 4)}
             for o, f in ((80, 100), (90, 100), (85, 100), (84, 100), (86, 100))]
    s = spread(ratios_of(pairs, "taps_per_s"))
    assert (s["median"], s["min"], s["max"], s["pairs"]) == (0.85, 0.8, 0.9, 5)
    # 1 - 2 * 0.5**5: with five pairs only the min–max holds the median with ~95%, whatever the noise
    assert (s["low"], s["high"], s["confidence"]) == (0.8, 0.9, 0.938)
    assert not s["wide"]


def test_with_many_pairs_the_interval_is_the_sign_tests_not_the_min_max() -> None:
    # 28 pairs: the 9th smallest and 9th largest hold the median with 96.4% (1 - 2 P(Binomial(28, ½) <= 8));
    # one wild pair moves the min–max, not the interval
    ratios = [0.5] + [0.80 + i / 1000 for i in range(26)] + [2.0]
    s = spread(ratios)
    assert (s["min"], s["max"], s["pairs"]) == (0.5, 2.0, 28)
    assert (s["low"], s["high"], s["confidence"]) == (0.807, 0.818, 0.964)
    assert s["median"] == 0.812
    assert not s["wide"]


def test_pairs_that_disagree_widely_are_flagged_as_too_noisy_to_conclude() -> None:
    noisy = spread([0.57, 0.8, 0.84, 0.78, 0.9])
    assert noisy["wide"] and noisy["median"] == 0.8
    steady = spread([0.8, 0.82, 0.79, 0.81, 0.8])
    warnings = warnings_for({"throughput": noisy, "p99": steady})
    assert len(warnings) == 1 and warnings[0].startswith("throughput: the median's 94% interval 0.57–0.9 around 0.8")


def test_a_report_of_fake_pairs_is_consistent_with_them_and_warns_only_on_the_wide_ratio() -> None:
    # throughput ratios 0.6–0.9 (wide), p99 ratios all 1.1, CPU per tap 5 ms against 4 ms
    pairs = [{"order": ["ours", "floor"], "ours": _slice(o, 110, 5), "floor": _slice(100, 100, 4)}
             for o in (60, 90, 75, 80, 85)]
    report = interleaved_report(pairs)
    assert report["throughput_ratio"] == 0.8 and report["p99_ratio"] == 1.1
    assert report["ratios"]["cpu_per_tap"]["median"] == 1.25
    assert report["ours"]["taps"] == 500 and report["ours"]["taps_per_s"] == 80
    assert [w.split(":")[0] for w in report["warnings"]] == ["throughput"]
    text = render({"sqlite": {"throughput": report | {"raters_per_window": 100, "warmup_raters": 25,
                                                      "taps_per_rater": 8, "concurrency": 50, "bots_cpu": [0]},
                              "targets_met": check_targets({"throughput": report})}})
    assert "throughput 0.8 [0.6–0.9] (too wide)" in text and "warning: throughput" in text
    assert "missed throughput_ratio" in text  # SQLite wants a median of 0.85


def test_no_pair_measured_gives_no_ratio_and_says_so() -> None:
    s = spread([])
    assert s["median"] is None and s["wide"]
    assert warnings_for({"p99": s}) == ["p99: no pair measured both sides"]


def test_each_pair_runs_both_sides_in_an_order_drawn_at_random() -> None:
    orders = pair_orders(40, random.Random(7))
    assert len(orders) == 40 and set(orders) == {("ours", "floor"), ("floor", "ours")}
    assert MIN_PAIRS == 5


def test_the_readme_table_is_rendered_from_the_bench_json_with_its_spreads() -> None:
    pairs = [{"order": ["floor", "ours"], "ours": _slice(o, 110, 5), "floor": _slice(100, 100, 4)}
             for o in (60, 90, 75, 80, 85)]
    report = interleaved_report(pairs)
    scoring = {"pairs": 5, "warnings": [], "sizes": [
        {"ballots": 100_000, "seconds": 1.2, "floor_seconds": 0.8, "longest_loop_stall_ms": 31.0,
         "idle_loop_stall_ms": 3, "ratio": spread([1.5, 1.4, 1.6, 1.5, 1.45])}]}
    memory = {"idle_rss_mb": 77.0, "rss_mb_after": 90.5, "over_idle_mb": 13.5}
    table = markdown({"sqlite": {"throughput": report, "scoring": scoring, "memory": memory},
                      "postgresql": {"scoring": scoring}})
    lines = table.splitlines()
    assert lines[0] == "| | sqlite | postgresql | target |"
    assert "| throughput ratio ours/floor | 0.8 [0.6–0.9] ? |  |" in table  # too wide: marked, not hidden
    assert "| closing / bare fetch | 1.5 [1.4–1.6] | 1.5 [1.4–1.6] | 100k ≤ 2 |" in table
    assert "| RSS idle / with 10,000 open ballots | 77.0 / 90.5 MB (+13.5) |  |" in table
