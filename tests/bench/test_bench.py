"""`redheart bench`: a tiny run of each part completes and reports what it should (speed is never
asserted here; the figures live in the README)."""

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


def test_a_small_throughput_run_counts_every_tap_on_both_sides_without_errors(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = bench(config, capsys, "--part", "throughput", "--raters", "20", "--concurrency", "5")
    assert code == 0, err
    t = result["sqlite"]["throughput"]
    for side in ("ours", "floor"):
        assert t[side]["taps"] == 20 * 8 and t[side]["errors"] == 0
        assert 0 < t[side]["p50_ms"] <= t[side]["p95_ms"] <= t[side]["p99_ms"]
        assert t[side]["longest_loop_stall_ms"] >= 0
    assert t["ours"]["ballots_submitted"] == 20 and t["ours"]["handler_errors"] == t["floor"]["handler_errors"] == 0
    assert t["throughput_ratio"] > 0 and t["p99_ratio"] > 0
    assert set(result["sqlite"]["targets_met"]) == {"throughput_ratio", "p99_ratio", "loop_stall"}


def test_scoring_reports_time_per_ballot_for_each_size_and_screens_out_the_speeders(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = bench(config, capsys, "--part", "scoring", "--sizes", "100,400")
    assert code == 0, err
    sizes = result["sqlite"]["scoring"]["sizes"]
    assert [r["ballots"] for r in sizes] == [100, 400]
    for r in sizes:
        assert r["seconds"] > 0 and r["us_per_ballot"] > 0 and r["longest_loop_stall_ms"] >= 0
        assert 0 < r["accepted"] < r["ballots"]  # the synthetic round has its share of 4-second ballots


def test_memory_reads_the_bot_process_with_its_ballots_in_progress(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = bench(config, capsys, "--part", "memory", "--open-ballots", "120")
    assert code == 0, err
    m = result["sqlite"]["memory"]
    assert m["open_ballots"] == 120 and m["errors"] == 0 and m["taps"] == 120 * 3
    assert 0 < m["rss_mb_before"] <= m["peak_rss_mb"]


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
