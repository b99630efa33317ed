"""The command line as an operator uses it: one entry point, clear one-line errors, exit codes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.sampledata import ANCHOR, write_sample_files


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    config = tmp_path / "redheart.toml"
    config.write_text(f'[telegram]\nusername = "redheart_test_bot"\n'
                      f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n[identity]\nsecret = "s"\n'
                      '[eligibility]\nactive_within_days = 100000\npurchase_window_days = 100000\n',
                      encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        words = 2 if args[0] == "round" else 1  # --config follows the (sub)command it belongs to
        code = main([*args[:words], "--config", str(config), *args[words:]])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_import_loads_the_sample_files_and_a_second_import_changes_nothing(cli, tmp_path: Path) -> None:
    files = [str(p) for p in write_sample_files(tmp_path / "data", anchor=ANCHOR)]
    code, out, _ = cli("import", *files)
    assert code == 0 and "customers.csv: customers: 60 added" in out
    code, out, _ = cli("import", *files)
    assert code == 0 and "0 added, 0 updated" in out


def test_a_bad_row_is_reported_as_file_and_line_and_nothing_is_loaded(cli, tmp_path: Path) -> None:
    bad = tmp_path / "products.csv"
    bad.write_text("sku,name,category,popularity,sales_volume\nX1,Thing,shampoo,lots,5\n", encoding="utf-8")
    code, _, err = cli("import", str(bad))
    assert code == 1 and f"{bad}:2:" in err
    # A first import that loads nothing leaves no database (nor its staging files) behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products.csv", "redheart.toml"]


def test_rounds_are_scheduled_listed_shown_reported_and_cancelled(cli, tmp_path: Path) -> None:
    cli("import", *[str(p) for p in write_sample_files(tmp_path / "data", anchor=ANCHOR)])
    code, out, err = cli("round", "new", "SHAMPOO-001", "--duration", "2h", "--quota", "10")
    assert code == 0, err
    round_id = int(out.strip())
    code, out, _ = cli("round", "list")
    assert code == 0 and "SHAMPOO-001" in out and "scheduled" in out
    code, out, _ = cli("round", "close", str(round_id))
    assert code == 0
    code, out, _ = cli("report", str(round_id), "--format", "json")
    report = json.loads(out)
    assert report["round_id"] == round_id and report["status"] == "insufficient" and report["overall"]["score"] is None
    png = tmp_path / "card.png"
    code, out, _ = cli("report", str(round_id), "--format", "png", "--out", str(png))
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG")
    code, _, err = cli("round", "cancel", str(round_id))
    assert code == 1 and "can't be cancelled" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("round", "new", "NOPE"), "There is no product with SKU NOPE."),
        (("round", "new", "SHAMPOO-001", "--duration", "7x"), "--duration: '7x' is not a duration"),
        (("round", "new", "SHAMPOO-003"), "Product SHAMPOO-003 can't have a round yet: popularity 65 (needs ≥ 100)"),
        (("round", "show", "42"), "There is no round 42."),
        (("link", "C9999"), "There is no customer C9999."),
        # Before: OverflowError tracebacks, and a round closing in the year 2300 accepted.
        (("round", "new", "SHAMPOO-001", "--opens-at", "9999-12-31"), "A round can open at most 365 days from now"),
        (("round", "new", "SHAMPOO-001", "--opens-at", "9999-12-31T23:00-05:00"), "--opens-at: '9999-12-31T23:00"),
        (("round", "new", "SHAMPOO-001", "--duration", "999999999d"), "--duration: '999999999d' is too long: at most"),
        (("round", "new", "SHAMPOO-001", "--duration", "99999d"), "--duration: '99999d' is too long: at most 90d"),
    ],
)
def test_wrong_input_exits_non_zero_with_one_line_on_stderr(cli, tmp_path: Path, args: tuple[str, ...],
                                                            message: str) -> None:
    cli("import", *[str(p) for p in write_sample_files(tmp_path / "data", anchor=ANCHOR)])
    code, _, err = cli(*args)
    assert code == 1 and message in err and err.count("\n") == 1


def test_link_prints_a_deep_link_and_its_payload(cli, tmp_path: Path) -> None:
    cli("import", *[str(p) for p in write_sample_files(tmp_path / "data", anchor=ANCHOR)])
    code, out, _ = cli("link", "C0001")
    payload = out.splitlines()[1].removeprefix("payload: ")
    assert code == 0 and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    assert out.startswith("https://t.me/redheart_test_bot?start=")


@pytest.mark.parametrize("args", [("round", "show", "99999999999"), ("round", "new", "SHAMPOO-001", "--quota", "²"),
                                  ("round", "close", "١"), ("report", "2147483648"), ("export", "-1", "--out", "x"),
                                  ("round", "new", "SHAMPOO-001", "--quota", "99999999999")])
def test_a_number_out_of_its_range_is_refused_before_anything_runs(cli, args: tuple[str, ...]) -> None:
    """Before: `int()` took `١` and 99999999999, which PostgreSQL then refused mid-command."""
    with pytest.raises(SystemExit) as stopped:
        cli(*args)
    assert stopped.value.code == 2



def _plain_export(path: Path) -> None:
    """A 40-ballot CSV in the export's shape, as an outside tool would write it (no weight column)."""
    rows = ["ballot,rater,started_at,submitted_at,owned_days,excluded_by_admin,taste,price"]
    for i in range(40):
        answers = "1,1" if i < 4 else f"{3 + i % 3},{2 + i % 4}"
        rows.append(f"{i},r{i},2026-01-01T10:00:00+00:00,2026-01-01T10:01:{i:02d}+00:00,30,0,{answers}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize("lang, words", [("en", ("How this score is made", "weight from 0 to 1", "at most")),
                                         ("zh", ("这个分数是怎么算的", "0 到 1 的权重", "最多只能"))])
def test_score_as_text_says_in_plain_words_what_the_method_does_and_its_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str, words: tuple[str, ...]
) -> None:
    _plain_export(tmp_path / "f.csv")
    assert main(["score", str(tmp_path / "f.csv"), "--format", "text", "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert all(w in out for w in words)


def test_score_without_a_method_file_weighs_every_ballot_and_counts_the_bands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _plain_export(tmp_path / "f.csv")
    assert main(["score", str(tmp_path / "f.csv"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    ballots = report["ballots"]
    assert report["method"].startswith("rh-score/8+") and sum(ballots["weight_bands"].values()) == 40
    assert set(report["stated_bound"]) == {"0.1", "0.2", "0.3"}
    assert all(0 <= s["weight"] < 1 and (s["flags"] or s["weight"] >= 0.9) for s in report["screening"])


def test_opens_at_without_a_zone_is_read_in_the_stores_zone_and_the_output_says_so(cli, tmp_path: Path) -> None:
    cli("import", *[str(p) for p in write_sample_files(tmp_path / "data", anchor=ANCHOR)])
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    code, out, err = cli("round", "new", "SHAMPOO-001", "--opens-at", f"{day}T20:00")
    assert code == 0 and out.strip().isdigit()  # stdout stays the id alone
    assert f"opens {day} 20:00+08:00" in err and "bot.timezone = Asia/Shanghai" in err
    _, shown, _ = cli("round", "show", out.strip())
    assert f"opens:       {day} 20:00+08:00" in shown
    code, out, _ = cli("round", "new", "SHAMPOO-002", "--opens-at", f"{day}T12:00Z")
    _, shown, _ = cli("round", "show", out.strip())
    assert f"opens:       {day} 20:00+08:00" in shown  # the same instant, given in UTC


def test_round_new_help_says_how_a_time_without_a_zone_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["round", "new", "--help"])
    assert "without a zone" in capsys.readouterr().out.replace("\n", " ")
