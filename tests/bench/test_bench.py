"""`redheart bench`: a tiny run of each part completes and reports what it should, its ratios
consistent with its pairs (speed is never asserted here; the figures live in the README)."""

from __future__ import annotations

import json
import pstats
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "redheart.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n[identity]\nsecret = "s"\n', encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def sqlite_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """One backend keeps these quick; the bench itself adds PostgreSQL when the variable is set."""
    monkeypatch.delenv("REDHEART_TEST_DATABASE_URL", raising=False)


def bench(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = main(["bench", "--config", str(config), "--json", *args])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def test_a_small_throughput_run_measures_both_sides_on_one_cpu_over_the_same_windows(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = bench(config, capsys, "--part", "throughput", "--raters", "20", "--concurrency", "5",
                              "--pairs", "5")
    assert code == 0, err
    t = result["sqlite"]["throughput"]
    assert len(t["pairs"]) == 5 and t["raters_per_window"] == 4 and t["warmup_raters"] == 1
    assert len(t["bots_cpu"]) == 1
    for pair in t["pairs"]:
        # one window of time for both sides, which together made 2 x 4 raters' worth of taps in it,
        # give or take the 2 x 5 raters tapping when it opened and closed
        assert pair["ours"]["seconds"] == pair["floor"]["seconds"] > 0
        assert abs(pair["ours"]["taps"] + pair["floor"]["taps"] - 2 * 4 * 8) <= 10
        for side in ("ours", "floor"):
            assert pair[side]["taps"] > 0
            assert pair[side]["errors"] == pair[side]["handler_errors"] == 0
            assert 0 < pair[side]["p50_ms"] <= pair[side]["p95_ms"] <= pair[side]["p99_ms"]
            assert pair[side]["cpu_ms_per_tap"] > 0 and pair[side]["longest_loop_stall_ms"] >= 0
    for side in ("ours", "floor"):
        assert t[side]["taps"] == sum(p[side]["taps"] for p in t["pairs"])
        assert t[side]["errors"] == 0 and t[side]["handler_errors"] == 0
    # the raters who reached Submit, each ballot once: never more than the raters who started
    assert 0 < t["ours"]["ballots_submitted"] <= t["ours"]["taps"] // 8 + 1 + 5 + 5
    per_pair = sorted(p["ours"]["taps_per_s"] / p["floor"]["taps_per_s"] for p in t["pairs"])
    assert t["throughput_ratio"] == t["ratios"]["throughput"]["median"] == round(per_pair[2], 3)
    assert t["ratios"]["throughput"]["min"] == round(per_pair[0], 3)
    assert t["p99_ratio"] == t["ratios"]["p99"]["median"] and t["ratios"]["p99"]["pairs"] == 5
    assert len(t["warnings"]) == sum(s["wide"] for s in t["ratios"].values())
    assert set(result["sqlite"]["targets_met"]) == {"throughput_ratio", "p99_ratio", "loop_stall"}


def test_scoring_sets_each_size_against_the_bare_fetch_of_the_same_rows(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = bench(config, capsys, "--part", "scoring", "--sizes", "100,400")
    assert code == 0, err
    sizes = result["sqlite"]["scoring"]["sizes"]
    assert [r["ballots"] for r in sizes] == [100, 400]
    for r in sizes:
        assert r["seconds"] > 0 and r["floor_seconds"] > 0 and r["us_per_ballot"] > 0
        assert r["floor_rows"] == r["ballots"]  # the floor fetched every submitted ballot
        assert 0 < r["accepted"] < r["ballots"]  # the synthetic round has its share of 4-second ballots
        assert len(r["runs"]) == r["ratio"]["pairs"] == 5
        ratios = sorted(run["ours"]["seconds"] / run["floor"]["seconds"] for run in r["runs"])
        assert r["ratio"]["median"] == round(ratios[2], 3) and r["ratio"]["max"] == round(ratios[-1], 3)
        assert r["longest_loop_stall_ms"] == max(run["ours"]["stall_ms"] for run in r["runs"])
        assert r["idle_loop_stall_ms"] >= 0


def test_memory_reads_the_bot_process_idle_and_with_its_ballots_in_progress(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = bench(config, capsys, "--part", "memory", "--open-ballots", "120")
    assert code == 0, err
    m = result["sqlite"]["memory"]
    assert m["open_ballots"] == 120 and m["errors"] == 0 and m["taps"] == 120 * 3
    assert m["idle_rss_mb"] > 0 and 0 < m["rss_mb_before"] <= m["peak_rss_mb"]
    assert m["over_idle_mb"] == pytest.approx(m["rss_mb_after"] - m["idle_rss_mb"], abs=0.11)
    assert "over_idle" in result["sqlite"]["targets_met"]


def test_the_bench_refuses_fewer_than_five_pairs(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = bench(config, capsys, "--part", "scoring", "--pairs", "4")
    assert code == 2 and "at least 5" in err


def test_the_bench_refuses_nonsense_sizes(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = bench(config, capsys, "--part", "scoring", "--sizes", "0,x")
    assert code == 2 and "must be positive" in err


def test_profile_writes_a_profile_of_our_bot_process(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "ours.pstats"
    code, _, err = bench(config, capsys, "--part", "throughput", "--raters", "5", "--concurrency", "5",
                         "--profile", str(out))
    assert code == 0, err
    functions = {name for _, _, name in pstats.Stats(str(out)).stats}
    assert "ballot_button" in functions and "press" in functions  # our handler, in the bot's own process


def test_where_processes_cannot_be_pinned_the_throughput_part_still_runs_and_says_so(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delattr(os, "sched_getaffinity")  # as on macOS
    code = main(["bench", "--config", str(config), "--part", "throughput", "--raters", "10", "--concurrency", "5",
                 "--pairs", "5"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "not pinned: no CPU affinity here" in out.out
