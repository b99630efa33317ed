"""The three measured parts on every backend, checked against the performance issue's targets, and
their printout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.bench.fixtures import backends
from bot.bench.memory import run_memory
from bot.bench.pairs import MIN_PAIRS
from bot.bench.scoring import run_scoring
from bot.bench.throughput import run_throughput

PARTS = ("throughput", "scoring", "memory")

# The acceptance targets of the performance issues (#10, #16): the medians of the interleaved pairs.
TARGETS = {
    "loop_stall_ms_max": 50.0, "scoring_100k_ratio_max": 2.0, "peak_rss_mb_max": 200.0, "over_idle_mb_max": 15.0,
}
# PostgreSQL shares the two CPUs with both bot processes, so its throughput targets are looser.
THROUGHPUT_TARGETS = {"sqlite": {"throughput_ratio_min": 0.85, "p99_ratio_max": 1.2},
                      "postgresql": {"throughput_ratio_min": 0.8, "p99_ratio_max": 1.3}}


def check_targets(parts: dict[str, Any], backend: str = "sqlite") -> dict[str, bool]:
    """Which targets one backend's results meet (only for the parts that ran)."""
    met: dict[str, bool] = {}
    if "throughput" in parts:
        t, target = parts["throughput"], THROUGHPUT_TARGETS[backend]
        met["throughput_ratio"] = (t["throughput_ratio"] or 0) >= target["throughput_ratio_min"]
        met["p99_ratio"] = (t["p99_ratio"] or 1e9) <= target["p99_ratio_max"]
        met["loop_stall"] = t["ours"]["longest_loop_stall_ms"] < TARGETS["loop_stall_ms_max"]
    if "scoring" in parts:
        big = [r for r in parts["scoring"]["sizes"] if r["ballots"] >= 100_000]
        if big:
            met["scoring_100k"] = (big[-1]["ratio"]["median"] or 1e9) <= TARGETS["scoring_100k_ratio_max"]
            met["scoring_loop_stall"] = big[-1]["longest_loop_stall_ms"] < TARGETS["loop_stall_ms_max"]
    if "memory" in parts:
        met["peak_rss"] = parts["memory"]["peak_rss_mb"] < TARGETS["peak_rss_mb_max"]
        met["over_idle"] = parts["memory"]["over_idle_mb"] <= TARGETS["over_idle_mb_max"]
    return met


async def run_parts(parts: tuple[str, ...], *, raters: int, concurrency: int,
                    sizes: tuple[int, ...] = (1_000, 10_000, 100_000), open_ballots: int = 10_000,
                    pairs: int = MIN_PAIRS, throughput_pairs: int = MIN_PAIRS, profile: str | None = None
                    ) -> dict[str, Any]:
    """The chosen parts on every backend; one dict keyed by backend, then part."""
    out: dict[str, Any] = {}
    for name, pg_url in backends():
        results: dict[str, Any] = {}
        if "throughput" in parts:
            results["throughput"] = await run_throughput(raters, concurrency, pg_url, pairs=throughput_pairs,
                                                         profile=profile if name == "sqlite" else None)
        if "scoring" in parts:
            results["scoring"] = await run_scoring(sizes, pg_url, pairs=pairs)
        if "memory" in parts:
            results["memory"] = await run_memory(open_ballots, min(1_000, open_ballots), concurrency, pg_url)
        results["targets_met"] = check_targets(results, name)
        out[name] = results
    return out


def _spread(s: dict[str, Any]) -> str:
    return f"{s['median']} [{s['low']}–{s['high']}]" + (" (too wide)" if s["wide"] else "")


def _throughput(t: dict[str, Any]) -> Iterator[str]:
    where = f"on CPU {','.join(map(str, t['bots_cpu']))}" if t["bots_cpu"] else "(not pinned: no CPU affinity here)"
    yield (f"throughput: both bots at once {where}, each with {t['concurrency']} "
           f"raters tapping at all times; {len(t['pairs'])} windows of {t['raters_per_window']} raters' worth of taps "
           f"a side (x {t['taps_per_rater']}) after a warm-up of {t['warmup_raters']} raters' worth; "
           f"medians over the windows (a bot has half a CPU: taps/s and latencies are half-CPU figures)")
    for side in ("ours", "floor"):
        r = t[side]
        yield (f"  {side:5} {r['taps_per_s']:8.1f} taps/s  {r['cpu_ms_per_tap']:.2f} ms CPU/tap  "
               f"p50 {r['p50_ms']:.1f} ms  p95 {r['p95_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  "
               f"stall {r['longest_loop_stall_ms']:.1f} ms  errors {r['errors']}")
    ratios = t["ratios"]
    yield (f"  ours/floor, median [its {ratios['throughput']['confidence']:.0%} interval, the sign test's]: "
           f"throughput {_spread(ratios['throughput'])}, p99 {_spread(ratios['p99'])}, "
           f"CPU per tap {_spread(ratios['cpu_per_tap'])}")
    yield from (f"  warning: {w}" for w in t["warnings"])


def _scoring(sc: dict[str, Any]) -> Iterator[str]:
    yield (f"scoring: ours = load + screen + weight + score as closing does; floor = the bare fetch of the same "
           f"rows; medians of {sc['pairs']} interleaved pairs")
    yield from (f"  {row['ballots']:>7} ballots  ours {row['seconds']:.3f} s  floor {row['floor_seconds']:.3f} s  "
                f"ratio {_spread(row['ratio'])}  {row['us_per_ballot']:.1f} µs/ballot  ({row['accepted']} accepted)  "
                f"loop stall {row['longest_loop_stall_ms']:.0f} ms (floor {row['floor_longest_loop_stall_ms']:.0f} ms, "
                f"idle loop {row['idle_loop_stall_ms']:.0f} ms)" for row in sc["sizes"])
    yield from (f"  warning: {w}" for w in sc["warnings"])


def _memory(m: dict[str, Any]) -> Iterator[str]:
    yield (f"memory: idle RSS {m['idle_rss_mb']} MB; with {m['open_ballots']} open ballots {m['rss_mb_after']} MB "
           f"({m['over_idle_mb']} MB over idle), peak {m['peak_rss_mb']} MB, growth "
           f"{m['growth_bytes_per_open_ballot']} B per open ballot")


_PARTS_TEXT = {"throughput": _throughput, "scoring": _scoring, "memory": _memory}


def render(results: dict[str, Any]) -> str:
    """What `redheart bench` prints without --json: per database, each part it ran, then the targets."""
    lines = []
    for backend, parts in results.items():
        lines.append(f"== {backend}")
        for name, text in _PARTS_TEXT.items():
            if name in parts:
                lines.extend(text(parts[name]))
        missed = [k for k, ok in parts.get("targets_met", {}).items() if not ok]
        lines.append("targets: " + (f"missed {', '.join(missed)}" if missed else "all met"))
    return "\n".join(lines)
