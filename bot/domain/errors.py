"""Domain errors: each carries its context; handlers and the CLI turn them into messages.

`key` names the text in the catalogs (bot/texts); `params` fill its placeholders.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    key = "error.generic"

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.describe())

    def describe(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{type(self).__name__}({details})" if details else type(self).__name__


class NotFound(DomainError):
    key = "error.not_found"


class UnknownProduct(NotFound):
    key = "error.unknown_product"


class UnknownRound(NotFound):
    key = "error.unknown_round"


class UnknownCustomer(NotFound):
    key = "error.unknown_customer"


class ProductNotEligible(DomainError):
    key = "error.product_not_eligible"


class RoundStateError(DomainError):
    """The round is not in a state that allows this (e.g. closing a cancelled round)."""

    key = "error.round_state"


class BadInput(DomainError):
    key = "error.bad_input"


class LinkRefused(DomainError):
    """A link attempt refused; `reason` picks the message (forged, expired, used, taken, ...)."""

    key = "link.refused.forged"


class NotLinked(DomainError):
    key = "error.not_linked"


class Forgotten(NotLinked):
    """Not linked because they used /forgetme: asking them to link would be asking the impossible."""

    key = "error.forgotten"


class StaleButton(DomainError):
    key = "alert.stale"


class ForeignButton(DomainError):
    key = "alert.foreign"


class RoundClosed(DomainError):
    key = "alert.closed"


class NotInvited(DomainError):
    key = "error.not_invited"


class BadNumber(BadInput):
    """Not a whole number in the range a field takes (`what`, `value`, `minimum`, `maximum`)."""

    key = "error.bad_number"


class DurationError(BadInput, ValueError):
    """Not a duration as operators write them ("45s", "15m", "2h", "7d"); `text` is what was written."""

    key = "error.bad_duration"


class DurationTooLong(DurationError):
    """A duration over its ceiling (`text`, `maximum`)."""

    key = "error.duration_too_long"


class OpensTooFar(BadInput):
    """A round's opening time too far from now (`opens_at`, `maximum`): past it, dates stop meaning much
    and far enough out they overflow."""

    key = "error.opens_too_far"


class UnknownCategory(NotFound):
    key = "error.unknown_category"


class UnknownResearch(NotFound):
    key = "error.unknown_research"


class AdoptRefused(DomainError):
    """A research result that cannot be adopted as asked; `reason` picks the message."""

    def __init__(self, reason: str, **params: object) -> None:
        self.key = f"error.adopt.{reason}"
        super().__init__(**params)
