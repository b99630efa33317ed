"""The command line fuzzed end to end (hypothesis): whatever an operator types for a round's duration,
quota and opening time, `redheart` exits 0, or non-zero with one line on stderr — never a traceback."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.demo.sampledata import ANCHOR, write_sample_files


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "redheart.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder}/fuzz.db"\n[identity]\nsecret = "s"\n', encoding="utf-8")
    assert main(["import", "--config", str(path), *map(str, write_sample_files(folder / "data", anchor=ANCHOR))]) == 0
    return path


def run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(argv))
        except SystemExit as stopped:  # argparse's own exit (a wrong argument, or --help)
            code = int(stopped.code or 0)
    return code, err.getvalue()


VALUES = st.text(max_size=25) | st.from_regex(r"[0-9]{1,15}[smhd]?", fullmatch=True) | st.sampled_from(
    ["9999-12-31", "0001-01-01T00:00+01:00", "2026-11-02T10:00Z", "999999999d", "90d", "-1"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(duration=VALUES, quota=VALUES, opens_at=VALUES)
def test_round_new_with_fuzzed_arguments_succeeds_or_fails_in_one_line(config: Path, duration: str, quota: str,
                                                                       opens_at: str) -> None:
    code, err = run("round", "new", "--config", str(config), "SHAMPOO-001", f"--duration={duration}",
                    f"--quota={quota}", f"--opens-at={opens_at}")
    if code:
        assert code in (1, 2) and err.count("\n") == 1 and err.startswith("redheart"), err
