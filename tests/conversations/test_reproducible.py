"""Anyone can check a published score: export the round, score the export, get the same numbers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.cli import main
from bot.domain import rounds
from bot.domain.clock import parse_time
from bot.domain.exports import COLUMNS, export_round
from storage.models import Customer, Purchase
from tests.conversations.conftest import Harness, invitation


async def run_round(h: Harness, answers: list[str]) -> int:
    """Buyers C0001.. rate with the given answers at a human pace; the scheduler closes and publishes."""
    buyers = [await h.linked(f"C{n:04d}") for n in range(1, len(answers) + 1)]
    round_id = await h.open_round(duration="2h")
    for buyer, scores in zip(buyers, answers, strict=True):
        await invitation(buyer)
        await buyer.tap("❤️ Rate now")
        for score in scores:
            h.clock.advance(timedelta(seconds=7))
            await buyer.tap("🤷 Not sure" if score == "?" else score)
        await buyer.tap("✅ Submit")
    h.clock.advance(timedelta(hours=2, minutes=1))
    await buyers[0].wait_for(lambda u: "closed with" in u.last_message.text or "Results" in u.last_message.text)
    return round_id


async def test_export_then_score_reproduces_the_published_report(
    h: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    round_id = await run_round(h, ["453425", "554434", "4?3524", "343434", "555555"])
    published = await rounds.report(h.rt, round_id)
    assert published["status"] == "published"
    text, document = await export_round(h.rt, round_id)
    header = text.splitlines()[0].split(",")
    assert tuple(header[:6]) == COLUMNS and header[6] == "weight" and len(header) == 13
    weights = [float(line.split(",")[6]) for line in text.splitlines()[1:]]
    assert all(0 <= w <= 1 for w in weights) and len(weights) == published["ballots"]["submitted"]
    assert "C0001" not in text  # raters are per-round pseudonyms
    (tmp_path / "r.csv").write_text(text, encoding="utf-8")
    (tmp_path / "r.method.json").write_text(json.dumps(document), encoding="utf-8")
    capsys.readouterr()
    assert main(["score", str(tmp_path / "r.csv"), "--format", "json"]) == 0
    rescored = json.loads(capsys.readouterr().out)
    assert rescored == published


async def test_an_exclusion_made_after_the_close_does_not_change_the_recomputed_score(
    h: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    round_id = await run_round(h, ["453425", "554434", "4?3524", "343434"])
    published = await rounds.report(h.rt, round_id)
    async with h.rt.db.session() as s:
        await s.execute(update(Customer).where(Customer.customer_id == "C0001").values(excluded_by_admin=True))
    text, document = await export_round(h.rt, round_id)
    (tmp_path / "r.csv").write_text(text, encoding="utf-8")
    (tmp_path / "r.method.json").write_text(json.dumps(document), encoding="utf-8")
    capsys.readouterr()
    assert main(["score", str(tmp_path / "r.csv"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == published


async def test_an_export_does_not_give_away_when_a_buyer_bought(h: Harness) -> None:
    """`submitted_at − owned_days` would be the purchase date, the same in every round of the product,
    and so a key linking one buyer's rows across rounds' exports."""
    round_id = await run_round(h, ["453425", "554434", "343434"])
    text, _ = await export_round(h.rt, round_id)
    rows = [line.split(",") for line in text.splitlines()[1:]]
    owned = [int(row[4]) for row in rows]
    assert owned and all(days == 7 for days in owned)  # every buyer owned it longer: capped at the minimum
    async with h.rt.db.session() as s:
        bought = {p.date() for p in (await s.scalars(select(Purchase.purchased_at))).all()}
    derived = {(parse_time(row[3]) - timedelta(days=int(row[4]))).date() for row in rows}
    assert not derived & bought


async def test_an_export_without_the_weight_column_still_scores_to_the_same_report(
    h: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    round_id = await run_round(h, ["453425", "554434", "4?3524", "343434", "555555"])
    published = await rounds.report(h.rt, round_id)
    text, document = await export_round(h.rt, round_id)
    old = "\n".join(",".join(cells[:6] + cells[7:]) for cells in (line.split(",") for line in text.splitlines()))
    (tmp_path / "old.csv").write_text(old + "\n", encoding="utf-8")
    (tmp_path / "old.method.json").write_text(json.dumps(document), encoding="utf-8")
    capsys.readouterr()
    assert main(["score", str(tmp_path / "old.csv"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == published
