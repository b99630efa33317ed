"""Configuration: the SPEC's TOML keys, their defaults, and environment overrides.

A missing or wrong value stops the program with one line naming the key (`ConfigError`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.durations import DurationError, parse_duration


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class WebhookConfig:
    listen: str = "127.0.0.1"
    port: int = 8443
    url: str = ""
    secret_token: str = ""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""
    mode: str = "polling"
    paid_broadcast: bool = False
    # Messages per second overall; 0 means Telegram's ceiling (30, or 1000 with paid_broadcast).
    send_rate: float = 0.0
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


@dataclass(frozen=True)
class BotConfig:
    admins: tuple[int, ...] = ()
    publish_chat_id: str = ""
    default_language: str = "zh"
    # Flood protection (bot/flood.py): more than flood_limit updates within flood_window from one user
    # pauses them for flood_pause. 0 turns it off.
    flood_limit: int = 20
    flood_window: timedelta = timedelta(seconds=10)
    flood_pause: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class IdentityConfig:
    secret: str = ""
    link_token_ttl: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class EligibilityConfig:
    product_min_popularity: int = 100
    product_min_sales: int = 50
    scope: str = "product"
    purchase_window_days: int = 365
    min_ownership_days: int = 7
    active_within_days: int = 180


@dataclass(frozen=True)
class RoundsConfig:
    default_duration: timedelta = timedelta(days=7)
    reminder_before: timedelta = timedelta(hours=24)
    invitation_quota: int = 500
    min_ballots: int = 30
    tick: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class ScoringConfig:
    """Screening thresholds and aggregation settings; any change changes the method version."""

    speeder_median_ratio: float = 0.5
    speeder_floor_seconds_per_factor: float = 2.0
    straight_line_min_factors: int = 5
    mostly_unsure_ratio: float = 0.5
    prior_weight: float = 3.0
    min_factor_n: int = 10
    leniency: bool = False


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database_url: str = "sqlite:///redheart.db"
    bot: BotConfig = field(default_factory=BotConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    eligibility: EligibilityConfig = field(default_factory=EligibilityConfig)
    rounds: RoundsConfig = field(default_factory=RoundsConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)

    def require_secret(self) -> str:
        if not self.identity.secret:
            raise ConfigError("identity.secret: must be set (or REDHEART_SECRET); it signs link tokens")
        return self.identity.secret

    def require_token(self) -> str:
        if not self.telegram.token:
            raise ConfigError("telegram.token: must be set (or REDHEART_TELEGRAM_TOKEN); get one from @BotFather")
        return self.telegram.token


class _Section:
    """Reads one TOML table, checking types and reporting unknown keys by their full name."""

    def __init__(self, data: dict[str, Any], prefix: str) -> None:
        self.data = dict(data)
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def table(self, key: str) -> _Section:
        value = self.data.pop(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self._name(key)}: must be a table")
        return _Section(value, self._name(key))

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        value = self.data.pop(key, default)
        if isinstance(value, int) and not isinstance(value, bool) and key == "publish_chat_id":
            value = str(value)
        if not isinstance(value, str):
            raise ConfigError(f"{self._name(key)}: must be a string, got {value!r}")
        if choices and value not in choices:
            raise ConfigError(f"{self._name(key)}: must be one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.data.pop(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{self._name(key)}: must be a whole number, got {value!r}")
        if value < minimum:
            raise ConfigError(f"{self._name(key)}: must be at least {minimum}, got {value}")
        return value

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.data.pop(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{self._name(key)}: must be a number, got {value!r}")
        if value < minimum:
            raise ConfigError(f"{self._name(key)}: must be at least {minimum}, got {value}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.pop(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self._name(key)}: must be true or false, got {value!r}")
        return value

    def duration(self, key: str, default: timedelta) -> timedelta:
        value = self.data.pop(key, None)
        if value is None:
            return default
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ConfigError(f"{self._name(key)}: {exc}") from None

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self.data.pop(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(f"{self._name(key)}: must be a list of Telegram user ids, got {value!r}")
        return tuple(value)

    def done(self) -> None:
        for key in self.data:
            raise ConfigError(f"{self._name(key)}: unknown key")


def parse_config(data: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """Builds a Config from parsed TOML, applying the SPEC's environment overrides."""
    env = dict(os.environ) if env is None else env
    root = _Section(data, "")

    tg = root.table("telegram")
    wh = tg.table("webhook")
    webhook = WebhookConfig(
        listen=wh.text("listen", "127.0.0.1"),
        port=wh.integer("port", 8443, minimum=1),
        url=wh.text("url", ""),
        secret_token=wh.text("secret_token", ""),
    )
    wh.done()
    telegram = TelegramConfig(
        token=env.get("REDHEART_TELEGRAM_TOKEN") or tg.text("token", ""),
        base_url=tg.text("base_url", ""),
        mode=tg.text("mode", "polling", ("polling", "webhook")),
        paid_broadcast=tg.flag("paid_broadcast", False),
        send_rate=tg.number("send_rate", 0.0),
        webhook=webhook,
    )
    tg.data.pop("token", None)
    tg.done()
    if telegram.mode == "webhook" and not telegram.webhook.url:
        raise ConfigError("telegram.webhook.url: must be set when telegram.mode = \"webhook\"")

    db = root.table("database")
    database_url = env.get("REDHEART_DATABASE_URL") or db.text("url", "sqlite:///redheart.db")
    db.data.pop("url", None)
    db.done()
    if not database_url.startswith(("sqlite", "postgresql", "postgres://")):
        raise ConfigError(f"database.url: must be a sqlite:/// or postgresql:// URL, got {database_url!r}")

    b = root.table("bot")
    bot = BotConfig(
        admins=b.int_list("admins"),
        publish_chat_id=b.text("publish_chat_id", ""),
        default_language=b.text("default_language", "zh", ("zh", "en")),
        flood_limit=b.integer("flood_limit", 20),
        flood_window=b.duration("flood_window", timedelta(seconds=10)),
        flood_pause=b.duration("flood_pause", timedelta(seconds=60)),
    )
    b.done()

    ident = root.table("identity")
    identity = IdentityConfig(
        secret=env.get("REDHEART_SECRET") or ident.text("secret", ""),
        link_token_ttl=ident.duration("link_token_ttl", timedelta(days=30)),
    )
    ident.data.pop("secret", None)
    ident.done()

    el = root.table("eligibility")
    eligibility = EligibilityConfig(
        product_min_popularity=el.integer("product_min_popularity", 100),
        product_min_sales=el.integer("product_min_sales", 50),
        scope=el.text("scope", "product", ("product", "category")),
        purchase_window_days=el.integer("purchase_window_days", 365, minimum=1),
        min_ownership_days=el.integer("min_ownership_days", 7),
        active_within_days=el.integer("active_within_days", 180, minimum=1),
    )
    el.done()

    r = root.table("rounds")
    rounds = RoundsConfig(
        default_duration=r.duration("default_duration", timedelta(days=7)),
        reminder_before=r.duration("reminder_before", timedelta(hours=24)),
        invitation_quota=r.integer("invitation_quota", 500, minimum=1),
        min_ballots=r.integer("min_ballots", 30, minimum=1),
        tick=r.duration("tick", timedelta(seconds=30)),
    )
    r.done()

    sc = root.table("scoring")
    scoring = ScoringConfig(
        speeder_median_ratio=sc.number("speeder_median_ratio", 0.5),
        speeder_floor_seconds_per_factor=sc.number("speeder_floor_seconds_per_factor", 2.0),
        straight_line_min_factors=sc.integer("straight_line_min_factors", 5, minimum=2),
        mostly_unsure_ratio=sc.number("mostly_unsure_ratio", 0.5),
        prior_weight=sc.number("prior_weight", 3.0),
        min_factor_n=sc.integer("min_factor_n", 10, minimum=2),
        leniency=sc.flag("leniency", False),
    )
    sc.done()
    root.done()
    return Config(telegram, database_url, bot, identity, eligibility, rounds, scoring)


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
    return parse_config(data, env)
