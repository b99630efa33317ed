"""The README's performance table, from the JSON `redheart bench --json` printed.

    redheart bench --json > bench.json && python -m bot.bench.table bench.json

Every cell is a median of interleaved pairs with its [sign-test interval] (see `bot.bench.pairs`); a ratio whose
interval was too wide to conclude is marked with "?".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cell = Callable[[dict[str, Any]], str | None]


def _spread(s: dict[str, Any]) -> str:
    return f"{s['median']} [{s['low']}–{s['high']}]" + (" ?" if s["wide"] else "")


def _scoring(results: dict[str, Any], field: Callable[[dict[str, Any]], str]) -> str | None:
    sizes = results.get("scoring", {}).get("sizes")
    return " / ".join(field(r) for r in sizes) if sizes else None


ROWS: list[tuple[str, Cell, str]] = [
    ("rating taps/s on half a CPU: ours / floor", lambda r: f"{r['throughput']['ours']['taps_per_s']} / "
     f"{r['throughput']['floor']['taps_per_s']}" if "throughput" in r else None, ""),
    ("throughput ratio ours/floor", lambda r: _spread(r["throughput"]["ratios"]["throughput"])
     if "throughput" in r else None, "≥ 0.85 (PG ≥ 0.8)"),
    ("p99 latency on half a CPU: ours / floor", lambda r: f"{r['throughput']['ours']['p99_ms']:.0f} / "
     f"{r['throughput']['floor']['p99_ms']:.0f} ms" if "throughput" in r else None, ""),
    ("p99 ratio ours/floor", lambda r: _spread(r["throughput"]["ratios"]["p99"]) if "throughput" in r else None,
     "≤ 1.2 (PG ≤ 1.3)"),
    ("CPU per tap ours / floor", lambda r: f"{r['throughput']['ours']['cpu_ms_per_tap']:.2f} / "
     f"{r['throughput']['floor']['cpu_ms_per_tap']:.2f} ms" if "throughput" in r else None, ""),
    ("longest loop stall, taps (less the other bot's turns): ours (floor)",
     lambda r: f"{r['throughput']['ours']['longest_loop_stall_ms']:.0f} "
     f"({r['throughput']['floor']['longest_loop_stall_ms']:.0f}) ms" if "throughput" in r else None, "< 50 ms"),
    ("scoring sizes (ballots)", lambda r: _scoring(r, lambda s: f"{s['ballots']:,}"), ""),
    ("closing: ours, s", lambda r: _scoring(r, lambda s: f"{s['seconds']:.3f}"), ""),
    ("bare fetch (floor), s", lambda r: _scoring(r, lambda s: f"{s['floor_seconds']:.3f}"), ""),
    ("closing / bare fetch", lambda r: _scoring(r, lambda s: _spread(s["ratio"])), "100k ≤ 2"),
    ("longest loop stall while closing, ms", lambda r: _scoring(r, lambda s: f"{s['longest_loop_stall_ms']:.0f}"),
     "100k < 50 ms"),
    ("longest stall of the idle loop (the machine's), ms",
     lambda r: _scoring(r, lambda s: f"{s['idle_loop_stall_ms']:.0f}"), ""),
    ("RSS idle / with 10,000 open ballots", lambda r: f"{r['memory']['idle_rss_mb']} / {r['memory']['rss_mb_after']} "
     f"MB (+{r['memory']['over_idle_mb']})" if "memory" in r else None, "≤ 15 MB over idle"),
]


def markdown(results: dict[str, Any]) -> str:
    """One column per backend, one row per figure the results hold."""
    backends = list(results)
    lines = ["| | " + " | ".join(backends) + " | target |", "|---" * (len(backends) + 2) + "|"]
    for label, cell, target in ROWS:
        cells = [cell(results[b]) for b in backends]
        if any(c is not None for c in cells):
            lines.append(f"| {label} | " + " | ".join(c or "" for c in cells) + f" | {target} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
