"""Configuration: the SPEC's TOML keys, their defaults, and environment overrides.

The sections are dataclasses and each key's default is written once, in its dataclass: the domain's
sections in `bot.domain.settings`, the program's own (Telegram, webhook, bot) here. The reader walks
the dataclasses' fields, checking each value against the field's type and limits, so a new key needs
nothing but its field. A missing or wrong value stops the program with one line naming the key
(`ConfigError`).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, TypeVar, get_type_hints

from bot.domain.durations import MAX_ROUND_LENGTH, DurationError, format_duration, parse_duration
from bot.domain.numbers import INT32_MAX
from bot.domain.settings import (
    LANGUAGES,
    EligibilityConfig,
    IdentityConfig,
    RoundsConfig,
    ScoringConfig,
    setting,
)
from bot.texts import error_message

C = TypeVar("C")

# The SPEC's environment overrides: they win over the file, whose value is then not even checked.
ENVIRONMENT = {
    "telegram.token": "REDHEART_TELEGRAM_TOKEN",
    "database.url": "REDHEART_DATABASE_URL",
    "identity.secret": "REDHEART_SECRET",
}


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""


# A secret anyone could guess signs nothing: link tokens and phone hashes (identity.secret) and the
# webhook's proof that a request came from Telegram (secret_token) need one nobody can. 32 characters of
# at least 8 different ones refuses the empty string, "changeme", "aaaa…" and short words, and passes
# what the one-liner below prints (43 characters of ~30 different ones, 256 bits).
STRONG_LENGTH = 32
STRONG_DISTINCT = 8
GENERATE = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
# Telegram's rule for a webhook's secret_token: 1–256 characters, only these.
_WEBHOOK_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def require_strong(name: str, value: str, *, webhook: bool = False) -> str:
    """`value` when it is a strong secret; else a ConfigError saying why and how to make one."""
    if webhook and value and not _WEBHOOK_TOKEN.fullmatch(value):
        raise ConfigError(f"{name}: Telegram takes only 1–256 characters of A-Z a-z 0-9 _ -; generate one with: "
                          f"{GENERATE}")
    if len(value) < STRONG_LENGTH or len(set(value)) < STRONG_DISTINCT:
        why = "is not set" if not value else (
            f"is too weak (at least {STRONG_LENGTH} characters, {STRONG_DISTINCT} of them different)")
        raise ConfigError(f"{name}: {why}; generate one with: {GENERATE}")
    return value


@dataclass(frozen=True)
class WebhookConfig:
    listen: str = "127.0.0.1"
    port: int = setting(8443, minimum=1, maximum=65535)
    url: str = ""
    secret_token: str = ""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""
    username: str = ""  # the bot's @username for printed deep links; empty: asked of the Bot API
    mode: str = setting("polling", choices=("polling", "webhook"))
    paid_broadcast: bool = False
    # Messages per second overall; 0 means Telegram's ceiling (30, or 1000 with paid_broadcast).
    send_rate: float = 0.0
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


class ByteSize(int):
    """A size in bytes, written in the file as "5MB", "512KB" or a whole number of bytes."""

    UNITS: ClassVar[dict[str, int]] = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}

    def __str__(self) -> str:
        for unit in ("GB", "MB", "KB"):
            if self >= self.UNITS[unit] and self % self.UNITS[unit] == 0:
                return f"{self // self.UNITS[unit]} {unit}"
        return f"{int(self)} bytes"


DEFAULT_IMPORT_SIZE = ByteSize(5 * 1024**2)


@dataclass(frozen=True)
class BotConfig:
    admins: tuple[int, ...] = ()
    publish_chat_id: str = ""
    default_language: str = setting("zh", choices=LANGUAGES)
    # Flood protection (bot/flood.py): more than flood_limit updates within flood_window from one user
    # pauses them for flood_pause. 0 turns it off.
    flood_limit: int = 20
    flood_window: timedelta = timedelta(seconds=10)
    flood_pause: timedelta = timedelta(seconds=60)
    # The largest store file an admin may send the bot as a document (Telegram lets a bot download
    # 20 MB at most); bigger ones are refused before download. `redheart import` has no such limit.
    max_import_size: ByteSize = DEFAULT_IMPORT_SIZE


@dataclass(frozen=True)
class MetricsConfig:
    """The operations endpoint (bot/ops): /metrics for Prometheus and /healthz, in any mode."""

    listen: str = "127.0.0.1"
    port: int = 0  # 0: off


@dataclass(frozen=True)
class LoggingConfig:
    format: str = setting("text", choices=("text", "json"))  # json: one object a line, for log shippers


@dataclass(frozen=True)
class SiteConfig:
    # When set, the public scorecard site (bot/site) is rebuilt here after each publication.
    out: str = ""
    # Where the site is served from (e.g. "https://ratings.example.com/"), so the badge snippet a store
    # pastes on its own pages links back absolutely; empty = links relative to the site's root.
    base_url: str = ""


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    # The SPEC's `[database] url`, the one key of its table.
    database_url: str = field(default="sqlite:///redheart.db", metadata={"toml": ("database", "url")})
    bot: BotConfig = field(default_factory=BotConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    eligibility: EligibilityConfig = field(default_factory=EligibilityConfig)
    rounds: RoundsConfig = field(default_factory=RoundsConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    @property
    def default_language(self) -> str:
        return self.bot.default_language

    def warnings(self) -> list[str]:
        """One line per setting that leaves the bot running but not doing what a store expects."""
        found = []
        if not self.bot.admins:
            found.append("bot.admins is empty: nobody can run rounds from the chat (the command line still can)")
        if not self.bot.publish_chat_id:
            found.append("bot.publish_chat_id is empty: scorecards are not posted; scored rounds stay \"closed\"")
        return found

    def require_secret(self) -> str:
        if not self.identity.secret:
            raise ConfigError("identity.secret: must be set (or REDHEART_SECRET); it signs link tokens")
        return self.identity.secret

    def secrets(self) -> tuple[str, ...]:
        """Every configured secret: what logs and error reports must never show (bot.redaction)."""
        return tuple(s for s in (self.telegram.token, self.identity.secret, self.telegram.webhook.secret_token) if s)

    def require_strong_secret(self) -> str:
        """`identity.secret`, refused when weak: `redheart run` signs real links with it."""
        return require_strong("identity.secret (or REDHEART_SECRET)", self.identity.secret)

    def require_webhook_secret(self) -> str:
        """The webhook's secret_token, refused when weak or missing: without it anyone who finds the URL
        can post updates as any user, an admin included."""
        return require_strong("telegram.webhook.secret_token", self.telegram.webhook.secret_token, webhook=True)

    def require_token(self) -> str:
        if not self.telegram.token:
            raise ConfigError("telegram.token: must be set (or REDHEART_TELEGRAM_TOKEN); get one from @BotFather")
        return self.telegram.token


class _Section:
    """One TOML table, read key by key against a dataclass; unknown keys are reported by full name."""

    def __init__(self, data: dict[str, Any], prefix: str, env: dict[str, str]) -> None:
        self.data = dict(data)
        self.prefix = prefix
        self.env = env

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def table(self, key: str) -> _Section:
        value = self.data.pop(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.name(key)}: must be a table")
        return _Section(value, self.name(key), self.env)

    def read(self, cls: type[C]) -> C:
        """The dataclass `cls` from this table: its sub-tables for its dataclass fields, else its keys."""
        values: dict[str, Any] = {}
        for f, kind in _fields(cls):
            if is_dataclass(kind):
                values[f.name] = self.table(f.name).read(kind)  # type: ignore[arg-type]
                continue
            table, key = f.metadata.get("toml", (None, f.name))
            section = self if table is None else self.table(table)
            found = section.value(key, kind, f.metadata)
            if table is not None:
                section.done()
            if found is not None:
                values[f.name] = found
        self.done()
        return cls(**values)

    def value(self, key: str, kind: object, limits: Any) -> Any:
        """The key's value checked against its type and limits; None when the file does not set it."""
        overridden = self.env.get(ENVIRONMENT.get(self.name(key), ""))
        raw = self.data.pop(key, None)
        if overridden:
            return overridden
        if raw is None:
            return None
        enum = kind if isinstance(kind, type) and issubclass(kind, StrEnum) else None
        if enum is not None:  # one of the Enum's values
            limits = {"choices": tuple(enum)}
        checked = _READERS.get(kind, _text)(self.name(key), raw)
        minimum, maximum = limits.get("minimum"), limits.get("maximum")
        if minimum is None and kind in (int, float):
            minimum = kind(0)  # counts, limits and rates are never negative
        if maximum is None and kind is int:
            maximum = INT32_MAX  # what the database's INTEGER columns hold
        if minimum is not None and checked < minimum:
            raise ConfigError(f"{self.name(key)}: must be at least {minimum}, got {raw}")
        if maximum is not None and checked > maximum:
            raise ConfigError(f"{self.name(key)}: must be at most {maximum}, got {raw}")
        choices = limits.get("choices")
        if choices and checked not in choices:
            raise ConfigError(f"{self.name(key)}: must be one of {', '.join(choices)}, got {checked!r}")
        return checked if enum is None else enum(checked)

    def done(self) -> None:
        for key in self.data:
            raise ConfigError(f"{self.name(key)}: unknown key")


def _fields(cls: type) -> list[tuple[Any, object]]:
    hints = get_type_hints(cls)
    return [(f, hints[f.name]) for f in fields(cls)]


def _text(name: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and name == "bot.publish_chat_id":
        value = str(value)  # a channel's numeric id, written without quotes
    if not isinstance(value, str):
        raise ConfigError(f"{name}: must be a string, got {value!r}")
    return value


def _whole(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name}: must be a whole number, got {value!r}")
    return value


def _number(name: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigError(f"{name}: must be a number, got {value!r}")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: must be true or false, got {value!r}")
    return value


def _duration(name: str, value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise ConfigError(f"{name}: {error_message(exc, 'en', plain=True)}") from None


def _size(name: str, value: Any) -> ByteSize:
    found = re.fullmatch(r"\s*([0-9]{1,6})\s*(B|KB|MB|GB)?\s*", value.upper()) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**40:
        return ByteSize(value)
    if found is None or int(found.group(1)) == 0:
        raise ConfigError(f"{name}: must be a size such as \"5MB\" or \"512KB\", got {value!r}")
    return ByteSize(int(found.group(1)) * ByteSize.UNITS[found.group(2) or "B"])


def _user_ids(name: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{name}: must be a list of Telegram user ids, got {value!r}")
    return tuple(value)


_READERS: dict[object, Any] = {
    str: _text, int: _whole, float: _number, bool: _flag, timedelta: _duration, tuple[int, ...]: _user_ids,
    ByteSize: _size,
}


def parse_config(data: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """Builds a Config from parsed TOML, applying the SPEC's environment overrides."""
    env = dict(os.environ) if env is None else env
    config = _Section(data, "", env).read(Config)
    if config.telegram.mode == "webhook" and not config.telegram.webhook.url:
        raise ConfigError("telegram.webhook.url: must be set when telegram.mode = \"webhook\"")
    if config.rounds.default_duration > MAX_ROUND_LENGTH:
        raise ConfigError(f"rounds.default_duration: a round lasts at most {format_duration(MAX_ROUND_LENGTH)}")
    if not re.fullmatch(r"(@[A-Za-z0-9_]{1,64}|-?[0-9]{1,20})?", config.bot.publish_chat_id):
        raise ConfigError(f"bot.publish_chat_id: must be @channelname or a numeric chat id, got "
                          f"{config.bot.publish_chat_id!r}")
    if not config.database_url.startswith(("sqlite", "postgresql", "postgres://")):
        raise ConfigError(f"database.url: must be a sqlite:/// or postgresql:// URL, got {config.database_url!r}")
    return config


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Loads the config file named by `path`, else REDHEART_CONFIG, else defaults only."""
    env = dict(os.environ) if env is None else env
    chosen = path or env.get("REDHEART_CONFIG")
    data: dict[str, Any] = {}
    if chosen:
        file = Path(chosen)
        if not file.is_file():
            raise ConfigError(f"config: no such file {file}")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {file} is not valid TOML ({exc})") from None
    config = parse_config(data, env)
    if chosen and not env.get(ENVIRONMENT["database.url"]):
        config = replace(config, database_url=anchor_sqlite(config.database_url, Path(chosen).resolve().parent))
    return config


def anchor_sqlite(url: str, folder: Path) -> str:
    """A SQLite URL with a relative file path made relative to `folder` (the config file's), so the
    bot and the command line use one database whatever folder they are started from."""
    scheme, sep, path = url.partition(":///")
    if not scheme.startswith("sqlite") or not sep or not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return f"{scheme}:///{folder / path}"
