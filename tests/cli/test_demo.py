"""`redheart demo`: what a shop owner reads. One buyer's screens are printed, one seed prints one
round, and the story's counts are the database's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main


def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str], run: str, seed: int = 5) -> str:
    out = tmp_path / run
    code = main(["demo", "--out", str(out), "--seed", str(seed)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    # What may differ between two runs: the sandbox's port, the folder, and the seconds it took.
    printed = printed.replace(str(out), "OUT")
    printed = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", printed)
    return re.sub(r"demo finished in [\d.]+ s", "demo finished in N s", printed)


def test_two_runs_with_one_seed_print_the_same_round_with_one_buyers_screens_and_true_counts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = demo(tmp_path, capsys, "a")
    assert demo(tmp_path, capsys, "b") == first
    screens = first.split("— what a buyer sees —")[1]
    assert "Buyer1's phone: the invitation" in screens and "[ ❤️ Rate now ]" in screens
    for position in range(1, 7):
        assert f"─ question {position} " in screens and f"{position}/6 · " in screens
    assert "[ ✅ Submit ]" in screens and "Thank you!" in screens
    assert re.search(r"Buyer3's phone, in Chinese.*\n│ .*\n│ 第 1/6 题 · 洁净力", screens)
    story = re.search(r"(\d+) submitted .*?; (\d+) abandoned after two questions; (\d+) stopped invitations", first)
    told = re.search(r"invited (\d+), started (\d+) .*, submitted (\d+) .* as the story says", first)
    assert story and told, first
    submitted, abandoned, stopped = map(int, story.groups())
    invited, started, counted = map(int, told.groups())
    assert (counted, started, invited) == (submitted, submitted + abandoned, started + stopped)
    assert "Overall ❤️" in first and "demo failed" not in first
