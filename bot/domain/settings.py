"""The settings the rules of the round read, each default written once, here.

These are the config sections the domain needs (`[identity]`, `[eligibility]`, `[rounds]`, `[scoring]`)
and the languages people are spoken to in. `bot.config` reads them from TOML by walking these
dataclasses, so a key's default, its type and its limits (`setting(minimum=…, choices=…)`, or an
Enum's values) live in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from scoring.model import Method

T = TypeVar("T")

#: The languages the bot speaks, the configured default first among equals.
LANGUAGES = ("zh", "en")


def setting(default: T, *, minimum: float | None = None, maximum: float | None = None,
            choices: tuple[str, ...] = ()) -> T:
    """A dataclass field with its default and the limits the config reader checks."""
    limits: dict[str, Any] = {"minimum": minimum, "maximum": maximum, "choices": choices}
    return field(default=default, metadata=limits)


def pick_language(telegram_code: str | None, chosen: str | None, default: str) -> str:
    """The user's own choice first, then their Telegram language, then the configured default."""
    if chosen in LANGUAGES:
        return chosen
    if telegram_code:
        code = telegram_code.lower()
        for lang in LANGUAGES:
            if code.startswith(lang):
                return lang
    return default


class Scope(StrEnum):
    """Whose purchases make a buyer eligible for a product's round."""

    PRODUCT = "product"  # buyers of the product itself
    CATEGORY = "category"  # buyers of any product of its category


@dataclass(frozen=True)
class IdentityConfig:
    secret: str = ""
    link_token_ttl: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class EligibilityConfig:
    product_min_popularity: int = 100
    product_min_sales: int = 50
    scope: Scope = Scope.PRODUCT
    # SPEC: a paid purchase counts when made within this many days before the round opens.
    purchase_window_days: int = setting(365, minimum=1)
    # Also the screening rule `owned_too_briefly` of the scoring method, hence its default.
    min_ownership_days: int = Method.min_ownership_days
    active_within_days: int = setting(180, minimum=1)


@dataclass(frozen=True)
class RoundsConfig:
    default_duration: timedelta = timedelta(days=7)
    reminder_before: timedelta = timedelta(hours=24)
    invitation_quota: int = setting(500, minimum=1)
    min_ballots: int = setting(Method.min_ballots, minimum=1)
    tick: timedelta = timedelta(seconds=30)
    # A claim on a message (an invitation's, a thank-you's, a scorecard's) older than this belongs to a
    # process that stopped: what it had not started sending is sent again, what it was sending is in
    # doubt and never resent (bot.domain.outbox). Five minutes is far past the longest batch (a batch
    # is half a second of sends, plus any flood wait Telegram asks for).
    claim_timeout: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class ScoringConfig:
    """Screening thresholds and aggregation settings; any change changes the method version.

    Their defaults are the scoring method's own (`scoring.model.Method`)."""

    speeder_median_ratio: float = Method.speeder_median_ratio
    speeder_floor_seconds_per_factor: float = Method.speeder_floor_seconds_per_factor
    straight_line_min_factors: int = setting(Method.straight_line_min_factors, minimum=2)
    mostly_unsure_ratio: float = Method.mostly_unsure_ratio
    prior_weight: float = Method.prior_weight
    min_factor_n: int = setting(Method.min_factor_n, minimum=2)
    leniency: bool = Method.leniency


class Settings(Protocol):
    """What the domain reads of the configuration; `bot.config.Config` is the one the program builds."""

    @property
    def identity(self) -> IdentityConfig: ...

    @property
    def eligibility(self) -> EligibilityConfig: ...

    @property
    def rounds(self) -> RoundsConfig: ...

    @property
    def scoring(self) -> ScoringConfig: ...

    @property
    def default_language(self) -> str: ...

    def require_secret(self) -> str:
        """`identity.secret`, or a config error saying it must be set."""
        ...


def scoring_method(settings: Settings, *, min_ballots: int) -> Method:
    """The published scoring method: the configured thresholds, with `min_ballots` (a round's own, frozen
    when it was scheduled, or the configured one for a round not yet made). The one place config becomes
    a `Method`."""
    return Method(min_ownership_days=settings.eligibility.min_ownership_days, min_ballots=min_ballots,
                  **asdict(settings.scoring))
