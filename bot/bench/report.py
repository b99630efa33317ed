"""The three measured parts on every backend, checked against the performance issue's targets, and
their printout."""

from __future__ import annotations

from typing import Any

from bot.bench.fixtures import backends
from bot.bench.memory import run_memory
from bot.bench.scoring import run_scoring
from bot.bench.throughput import run_throughput

PARTS = ("throughput", "scoring", "memory")

# The acceptance targets of the performance issue, checked on SQLite.
TARGETS = {
    "throughput_ratio_min": 0.7, "p99_ratio_max": 1.5, "loop_stall_ms_max": 50.0,
    "scoring_100k_seconds_max": 3.0, "peak_rss_mb_max": 200.0,
}


def check_targets(parts: dict[str, Any]) -> dict[str, bool]:
    """Which targets one backend's results meet (only for the parts that ran)."""
    met: dict[str, bool] = {}
    if "throughput" in parts:
        t = parts["throughput"]
        met["throughput_ratio"] = (t["throughput_ratio"] or 0) >= TARGETS["throughput_ratio_min"]
        met["p99_ratio"] = (t["p99_ratio"] or 1e9) <= TARGETS["p99_ratio_max"]
        met["loop_stall"] = t["ours"]["longest_loop_stall_ms"] < TARGETS["loop_stall_ms_max"]
    if "scoring" in parts:
        big = [r for r in parts["scoring"]["sizes"] if r["ballots"] >= 100_000]
        if big:
            met["scoring_100k"] = big[-1]["seconds"] < TARGETS["scoring_100k_seconds_max"]
    if "memory" in parts:
        met["peak_rss"] = parts["memory"]["peak_rss_mb"] < TARGETS["peak_rss_mb_max"]
    return met


async def run_parts(parts: tuple[str, ...], *, raters: int, concurrency: int,
                    sizes: tuple[int, ...] = (1_000, 10_000, 100_000), open_ballots: int = 10_000,
                    profile: str | None = None) -> dict[str, Any]:
    """The chosen parts on every backend; one dict keyed by backend, then part."""
    out: dict[str, Any] = {}
    for name, pg_url in backends():
        results: dict[str, Any] = {}
        if "throughput" in parts:
            results["throughput"] = await run_throughput(raters, concurrency, pg_url,
                                                         profile=profile if name == "sqlite" else None)
        if "scoring" in parts:
            results["scoring"] = await run_scoring(sizes, pg_url)
        if "memory" in parts:
            results["memory"] = await run_memory(open_ballots, min(1_000, open_ballots), concurrency, pg_url)
        results["targets_met"] = check_targets(results)
        out[name] = results
    return out


def render(results: dict[str, Any]) -> str:
    lines = []
    for backend, parts in results.items():
        lines.append(f"== {backend}")
        if "throughput" in parts:
            t = parts["throughput"]
            lines.append(f"throughput: {t['raters']} raters x {t['taps_per_rater']} taps, {t['concurrency']} at a time")
            for side in ("ours", "floor"):
                r = t[side]
                lines.append(f"  {side:5} {r['taps_per_s']:8.1f} taps/s  p50 {r['p50_ms']:.1f} ms  "
                             f"p95 {r['p95_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  "
                             f"stall {r['longest_loop_stall_ms']:.1f} ms  errors {r['errors']}")
            lines.append(f"  ours/floor: throughput {t['throughput_ratio']}, p99 {t['p99_ratio']}")
        if "scoring" in parts:
            lines.append("scoring (load from the database + screen + score, as closing does):")
            for row in parts["scoring"]["sizes"]:
                lines.append(f"  {row['ballots']:>7} ballots  {row['seconds']:.3f} s  "
                             f"{row['us_per_ballot']:.1f} µs/ballot  ({row['accepted']} accepted)  "
                             f"loop stall {row['longest_loop_stall_ms']:.0f} ms")
        if "memory" in parts:
            m = parts["memory"]
            lines.append(f"memory: {m['open_ballots']} open ballots, peak RSS {m['peak_rss_mb']} MB, "
                         f"growth {m['growth_bytes_per_open_ballot']} B per open ballot")
        missed = [k for k, ok in parts.get("targets_met", {}).items() if not ok]
        lines.append("targets: " + (f"missed {', '.join(missed)}" if missed else "all met"))
    return "\n".join(lines)
