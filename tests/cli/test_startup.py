"""Start-up failures end in one line on stderr and a non-zero exit, never a traceback: Telegram or the
database unreachable, a bad database path, a refused token, a weak secret (`--debug` shows the trace)."""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import GENERATE
from bot.demo.sampledata import ANCHOR, write_sample_files
from bot.sandbox import BotApiSandbox
from tests.conftest import PG_URL

STRONG = secrets.token_urlsafe(32)
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def write_config(tmp_path: Path, *, db: str | None = None, token: str = TOKEN, base_url: str | None = None,
                 secret: str = STRONG, extra: str = "") -> Path:
    config = tmp_path / "redheart.toml"
    config.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base_url or f"http://127.0.0.1:{closed_port()}/bot"}"\n{extra}'
        f'[database]\nurl = "{db or f"sqlite:///{tmp_path}/run.db"}"\n[identity]\nsecret = "{secret}"\n',
        encoding="utf-8")
    return config


def one_line_failure(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert code == 1 and "Traceback" not in err and last.startswith("redheart: "), err
    # `run` logs its progress (migrations) at INFO; the reason itself is the one line of ours.
    assert [line for line in err.splitlines() if line.startswith("redheart: ")] == [last], err
    return last


def test_run_with_telegram_unreachable_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: PTB's NetworkError reached the terminal as a 100-line traceback."""
    line = one_line_failure(capsys, main(["run", "--config", str(write_config(tmp_path))]))
    assert "telegram: cannot use the Bot API at http://127.0.0.1:" in line
    assert TOKEN not in line and TOKEN.split(":")[1] not in line


async def test_run_with_a_token_telegram_refuses_names_the_key(tmp_path: Path) -> None:
    async with BotApiSandbox() as sandbox:
        config = write_config(tmp_path, base_url=sandbox.base_url)  # TOKEN is not the sandbox bot's
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--config", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await process.communicate()
    text = err.decode()
    assert process.returncode == 1 and "Traceback" not in text, text
    assert text.strip().splitlines()[-1].startswith("redheart: telegram.token: the Bot API at"), text
    assert TOKEN.split(":")[1] not in text


UNREACHABLE_PG = f"postgresql://someone:hunter2@127.0.0.1:{closed_port()}/redheart"
COMMANDS = [("run",), ("round", "list"), ("round", "show", "1"), ("report", "1"), ("audit",), ("products",),
            ("link", "C0001"), ("export", "1", "--out", "x.csv")]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("db", [UNREACHABLE_PG, "sqlite:////proc/no/such/dir/redheart.db"], ids=["pg-down", "bad-path"])
def test_every_command_that_opens_the_database_fails_in_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...], db: str) -> None:
    words = 2 if command[0] == "round" else 1
    code = main([*command[:words], "--config", str(write_config(tmp_path, db=db)), *command[words:]])
    line = one_line_failure(capsys, code)
    assert "database " in line and "cannot open it" in line
    assert "hunter2" not in line  # the password never


@pytest.mark.skipif(not PG_URL, reason="REDHEART_TEST_DATABASE_URL is not set")
def test_a_postgresql_database_that_does_not_exist_is_one_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    missing = PG_URL.rsplit("/", 1)[0] + "/rh_no_such_database"
    line = one_line_failure(capsys, main(["round", "list", "--config", str(write_config(tmp_path, db=missing))]))
    assert 'database "rh_no_such_database" does not exist' in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from bot.startup import StartupError

    with pytest.raises(StartupError):
        main(["round", "list", "--debug", "--config", str(write_config(tmp_path, db=UNREACHABLE_PG))])


@pytest.mark.parametrize("secret", ["", "s", "changeme", "a" * 64, "ab" * 20, "short-but-varied-123"])
def test_run_refuses_a_weak_identity_secret_and_says_how_to_make_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str) -> None:
    line = one_line_failure(capsys, main(["run", "--config", str(write_config(tmp_path, secret=secret))]))
    assert line.startswith("redheart: config error: identity.secret") and GENERATE in line


@pytest.mark.parametrize("secret_token",
                         ["", "webhook-secret_123", "x" * 40, "has spaces but is long enough 0123456789", "ü" * 40])
def test_run_refuses_webhook_mode_without_a_strong_secret_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], secret_token: str) -> None:
    """Before: an empty secret_token started a webhook that answered 200 to anyone's forged updates."""
    webhook = (f'mode = "webhook"\n[telegram.webhook]\nurl = "https://bot.example.com/tg"\n'
               f'secret_token = "{secret_token}"\n')
    line = one_line_failure(capsys, main(["run", "--config", str(write_config(tmp_path, extra=webhook))]))
    assert line.startswith("redheart: config error: telegram.webhook.secret_token") and GENERATE in line


def test_commands_other_than_run_take_a_short_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tests and the demo use short secrets on purpose: only `run` (and a webhook's start) enforce strength."""
    config = write_config(tmp_path, secret="s")
    assert main(["import", "--config", str(config), *map(str, write_sample_files(tmp_path / "d", anchor=ANCHOR))]) == 0
    assert main(["round", "list", "--config", str(config)]) == 0
    assert "no rounds yet" in capsys.readouterr().out
