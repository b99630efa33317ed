"""Config: the SPEC's keys, defaults, environment overrides, and one-line errors naming the key."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, anchor_sqlite, load_config, parse_config
from bot.domain.durations import DurationError, format_duration, parse_duration

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_the_example_config_parses_to_the_documented_defaults() -> None:
    config = load_config(EXAMPLE, env={})
    # The relative SQLite file is the one beside the config file, whatever the current folder.
    assert config.database_url == f"sqlite:///{Path(EXAMPLE).resolve().parent / 'redheart.db'}"
    assert config.rounds.default_duration == timedelta(days=7)
    assert config.rounds.tick == timedelta(seconds=30)
    assert config.eligibility.min_ownership_days == 7
    assert replace(config, database_url="sqlite:///redheart.db") == parse_config({}, env={})


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///redheart.db", "sqlite:////etc/redheart/redheart.db"),
    ("sqlite:///data/rh.db", "sqlite:////etc/redheart/data/rh.db"),
    ("sqlite:////var/lib/rh.db", "sqlite:////var/lib/rh.db"),
    ("sqlite+aiosqlite:///rh.db", "sqlite+aiosqlite:////etc/redheart/rh.db"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
])
def test_a_relative_sqlite_path_is_anchored_at_the_config_files_folder(url: str, expected: str) -> None:
    assert anchor_sqlite(url, Path("/etc/redheart")) == expected


def test_a_relative_sqlite_path_from_the_environment_stays_relative_to_the_current_folder(tmp_path: Path) -> None:
    config_file = tmp_path / "redheart.toml"
    config_file.write_text('[database]\nurl = "sqlite:///rh.db"\n', encoding="utf-8")
    assert load_config(config_file, env={}).database_url == f"sqlite:///{tmp_path.resolve() / 'rh.db'}"
    env = {"REDHEART_DATABASE_URL": "sqlite:///other.db"}
    assert load_config(config_file, env=env).database_url == "sqlite:///other.db"


def test_an_empty_admin_list_or_publish_chat_is_one_warning_line_each() -> None:
    warnings = parse_config({}, env={}).warnings()
    assert len(warnings) == 2 and all("\n" not in w for w in warnings)
    assert warnings[0].startswith("bot.admins is empty") and warnings[1].startswith("bot.publish_chat_id is empty")
    assert parse_config({"bot": {"admins": [1], "publish_chat_id": "@x"}}, env={}).warnings() == []


def test_environment_overrides_the_file() -> None:
    env = {"REDHEART_TELEGRAM_TOKEN": "1:abc", "REDHEART_DATABASE_URL": "postgresql://u@h/db",
           "REDHEART_SECRET": "s3"}
    config = parse_config({"telegram": {"token": "from-file"}}, env=env)
    assert config.telegram.token == "1:abc"
    assert (config.database_url, config.identity.secret) == ("postgresql://u@h/db", "s3")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rounds": {"default_duration": "7x"}}, "rounds.default_duration: '7x' is not a duration"),
        ({"rounds": {"min_ballots": "30"}}, "rounds.min_ballots: must be a whole number"),
        ({"bot": {"admins": ["alice"]}}, "bot.admins: must be a list of Telegram user ids"),
        ({"bot": {"default_language": "fr"}}, "bot.default_language: must be one of zh, en"),
        ({"eligibility": {"scope": "world"}}, "eligibility.scope: must be one of product, category"),
        ({"rounds": {"min_balots": 3}}, "rounds.min_balots: unknown key"),
        ({"telegram": {"mode": "webhook"}}, "telegram.webhook.url: must be set"),
        ({"database": {"url": "mysql://x"}}, "database.url: must be a sqlite:/// or postgresql:// URL"),
        # Beyond the INTEGER columns they end up in, or beyond what a round may last.
        ({"rounds": {"invitation_quota": 99999999999}}, "rounds.invitation_quota: must be at most 2147483647"),
        ({"telegram": {"webhook": {"port": 70000}}}, "telegram.webhook.port: must be at most 65535"),
        ({"rounds": {"default_duration": "999999999d"}}, "rounds.default_duration: '999999999d' is too long"),
        ({"rounds": {"default_duration": "91d"}}, "rounds.default_duration: a round lasts at most 90d"),
        ({"identity": {"link_token_ttl": "٣d"}}, "identity.link_token_ttl: '٣d' is not a duration"),
        ({"bot": {"publish_chat_id": "١٢٣"}}, "bot.publish_chat_id: must be @channelname or a numeric chat id"),
    ],
)
def test_a_wrong_value_stops_with_one_line_naming_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env={})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", env={})


def test_durations_read_as_operators_write_them() -> None:
    assert parse_duration("45s") == timedelta(seconds=45)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("7d") == timedelta(days=7)
    assert format_duration(timedelta(days=7)) == "7d"
    for bad in ("7x", "", "0d", "-1h", "1.5h", "d"):
        with pytest.raises(DurationError):
            parse_duration(bad)
