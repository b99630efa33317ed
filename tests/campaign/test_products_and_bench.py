"""Eligible products from the command line and the admin chat, and the benchmark's command line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.demo.sampledata import ANCHOR, write_sample_files
from bot.jobs import CLAIM_SECONDS
from tests.conversations.conftest import Harness, h  # noqa: F401  (the conversation harness fixture)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "redheart.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n[identity]\nsecret = "s"\n', encoding="utf-8")
    return path


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([args[0], "--config", str(config), *args[1:]])
    out = capsys.readouterr()
    return code, out.out, out.err


def campaign(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """`redheart bench --invitations ... --json`, which must succeed; what it measured."""
    code, out, err = run(config, capsys, "bench", "--json", "--invitations", *args)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def test_products_are_ranked_by_popularity_and_the_eligible_flag_hides_the_rest(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(config, capsys, "import", *[str(p) for p in write_sample_files(tmp_path / "data", anchor=ANCHOR)])
    code, out, _ = run(config, capsys, "products")
    lines = out.splitlines()[1:]
    assert code == 0 and lines
    popularity = [int(line.split("popularity ")[1].split(" ")[0]) for line in lines]
    assert popularity == sorted(popularity, reverse=True)
    assert any(line.startswith("✗") and "(needs ≥" in line for line in lines), "the sample has an ineligible product"
    code, out, _ = run(config, capsys, "products", "--eligible")
    eligible = out.splitlines()[1:]
    assert code == 0 and eligible == [line for line in lines if line.startswith("✓")]


def test_the_invitation_part_of_the_bench_needs_a_count_and_exits_2_without_one(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(config, capsys, "bench", "--part", "invitations")
    assert code == 2 and "--invitations N" in err


def test_a_small_bench_loses_and_duplicates_nothing_and_never_exceeds_the_limit(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = campaign(config, capsys, "300", "--limit", "300", "--restart-at", "150")
    assert (result["sent"], result["lost"], result["duplicates"]) == (300, 0, 0)
    assert result["restarts"] == 1 and result["ratio"] <= 1.0


def test_a_bot_killed_mid_campaign_invites_nobody_twice_and_counts_every_miss_as_in_doubt(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = campaign(config, capsys, "160", "--limit", "40", "--kill-at", "80")
    assert result["killed"] and result["sent_before_restart"] >= 80 and result["duplicates"] == 0
    assert result["sent"] + result["lost"] == 160
    assert 0 < result["in_doubt"] <= math.ceil(40 * CLAIM_SECONDS)  # one claimed batch at most, never a pile
    assert result["lost"] <= result["in_doubt"] == result["outbox"].get("unknown", 0)
    assert result["outbox"].get("pending", 0) == result["outbox"].get("sending", 0) == 0  # the rest went out


def test_kill_and_restart_are_separate_runs(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(config, capsys, "bench", "--invitations", "50", "--restart-at", "10", "--kill-at", "10")
    assert code == 2 and "choose one" in err
    code, _, err = run(config, capsys, "bench", "--invitations", "50", "--kill-at", "50")
    assert code == 2 and "fewer than --invitations" in err


async def test_the_admin_sees_eligible_products_and_what_the_others_miss(h: Harness) -> None:  # noqa: F811
    await h.admin.send("/eligible")
    text = h.admin.last_message.text
    assert "SHAMPOO-001" in text and "✅" in text and "✗" in text and "popularity" in text


async def test_a_buyer_who_sends_eligible_gets_the_unknown_command_answer(h: Harness) -> None:  # noqa: F811
    buyer = h.person("Nosy")
    await buyer.send("/eligible")
    assert "SHAMPOO-001" not in buyer.last_message.text
