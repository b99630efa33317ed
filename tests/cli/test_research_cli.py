"""`redheart research …` as an operator uses it, over a research round its buyers answered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from tests.research.helpers import published_research


@pytest.fixture
def cli(rt: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """The CLI over the test's own SQLite database (the `rt` fixture's)."""
    if not rt.db.is_sqlite:
        pytest.skip("the CLI is exercised once, over SQLite")
    config = tmp_path / "redheart.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/test.db"\n[identity]\nsecret = "test-secret"\n',
                      encoding="utf-8")

    async def run(*args: str) -> tuple[int, str, str]:
        # main() runs its own event loop, so it goes to a thread of its own, as from a shell.
        code = await asyncio.to_thread(main, [*args[:2], "--config", str(config), *args[2:]])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def test_an_operator_reports_exports_rescores_and_adopts_a_research_result(
    cli, rt: Runtime, clock: ManualClock, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    research_id = await published_research(rt, clock, buyers=12)
    rid = str(research_id)
    code, out, err = await cli("research", "list")
    assert code == 0 and "shampoo" in out and "published" in out, err
    code, out, _ = await cli("research", "show", rid)
    assert code == 0 and "factor set:  v1" in out and "submitted 12" in out
    code, out, _ = await cli("research", "report", rid)
    assert code == 0 and "factor set v1 in force" in out and "Cleansing" in out
    code, published, _ = await cli("research", "report", rid, "--format", "json")
    png = tmp_path / "c.png"
    code, out, _ = await cli("research", "report", rid, "--format", "png", "--lang", "zh", "--out", str(png))
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG")

    export = tmp_path / "r.csv"
    code, out, err = await cli("research", "export", rid, "--out", str(export))
    assert code == 0 and "72 answered sets" in out, err
    code, rescored, err = await cli("research", "score", str(export), "--format", "json")
    assert code == 0, err
    expected = json.loads(published)
    expected.pop("adopted_version")
    assert json.loads(rescored) == expected

    code, _, err = await cli("research", "adopt", rid, "--top", "4")
    assert code == 1 and "--top must be between 5 and 10" in err and err.count("\n") == 1
    code, _, err = await cli("research", "adopt", rid, "--keys", "aroma,nope,lather,packaging,moisturizing")
    assert code == 1 and "Not candidates of this research: nope" in err
    code, out, err = await cli("research", "adopt", rid, "--top", "5")
    assert code == 0 and out.startswith("factor set v2: "), err
    code, out, _ = await cli("research", "report", rid)
    assert "Adopted as factor set v2" in out
    code, out, _ = await cli("audit", "--since=2000-01-01T00:00Z")
    assert "research.adopt" in out and "factor set v2" in out and "research.export" in out


@pytest.mark.parametrize(("args", "message"), [
    (("research", "new", "lotion"), "There is no category lotion."),
    (("research", "new", "shampoo", "--duration", "7x"), "--duration: '7x' is not a duration"),
    (("research", "show", "42"), "There is no research round 42."),
    (("research", "adopt", "42"), "There is no research round 42."),
    (("research", "score", "/nonexistent.csv"), "/nonexistent.csv: no such file"),
])
async def test_wrong_research_input_exits_non_zero_with_one_line_on_stderr(cli, args: tuple[str, ...],  # type: ignore[no-untyped-def]
                                                                    message: str) -> None:
    code, _, err = await cli(*args)
    assert code == 1 and message in err and err.count("\n") == 1


async def test_a_research_round_is_scheduled_from_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = await cli("research", "new", "shampoo", "--duration", "2d", "--quota", "50")
    assert code == 0 and out.strip().isdigit(), err
    code, out, _ = await cli("research", "show", out.strip())
    assert "scheduled" in out and "quota:       50" in out
