"""Every value a status column may hold, as an Enum, and the CHECK constraint that holds the database to it.

They live beside the models (not in the domain) because both need them: the models for their
constraints, the domain for its transitions. `StrEnum` members are the strings stored, so a status
read back compares equal to its member and JSON reports stay as they were.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint


class RoundStatus(StrEnum):
    """scheduled → open → closed → published | insufficient; cancelled from scheduled or open."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    INSUFFICIENT = "insufficient"
    CANCELLED = "cancelled"


class BallotStatus(StrEnum):
    """in_progress → submitted; withdrawn when the rater asked to be forgotten while the round was open."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class InvitationStatus(StrEnum):
    """pending → sending → sent | unreachable | failed | unknown; pending → cancelled (see bot.domain.outbox)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # Telegram answered 403: never retried
    FAILED = "failed"  # Telegram refused the message, or the network kept failing before it left
    UNKNOWN = "unknown"  # the call may or may not have reached Telegram: never resent
    CANCELLED = "cancelled"  # the round was cancelled, or the buyer forgotten, before it went out


class ReminderStatus(StrEnum):
    """none → sending → sent | unreachable | failed | unknown; back to none when never sent."""

    NONE = "none"
    SENDING = "sending"
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    UNKNOWN = "unknown"


class PublishState(StrEnum):
    """Where a closed round's scorecard post stands (see `bot.domain.outbox`, "Scorecards").

    none → claimed (drawing the chart: safe to redo) → sending (the HTTP call is under way) → posted;
    sending → in_doubt (the call may have reached the channel) | failed (Telegram refused it). In doubt
    and failed wait for an admin: "Repost" goes back to none, "It's there" to posted."""

    NONE = "none"
    CLAIMED = "claimed"
    SENDING = "sending"
    POSTED = "posted"
    IN_DOUBT = "in_doubt"
    FAILED = "failed"


class ThanksStatus(StrEnum):
    """A rater's thank-you: none → claimed → sending → sent | unreachable | failed | unknown; a claim
    never sent goes back to none (see `bot.domain.outbox`, "Thanks")."""

    NONE = "none"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    UNKNOWN = "unknown"


class PurchaseStatus(StrEnum):
    """A store order's state, as the SPEC's purchases.csv gives it; only `paid` ever makes a buyer eligible."""

    PAID = "paid"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class FactorSetSource(StrEnum):
    """Where a factor set version came from."""

    IMPORT = "import"  # the factors categories.toml declares (not its candidates)
    RESEARCH = "research"  # an admin adopted a research round's top candidates


class LinkMethod(StrEnum):
    """How a Telegram user proved they are the customer."""

    TOKEN = "token"  # a signed deep link
    CONTACT = "contact"  # their own shared phone contact


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """`column` may hold only the members of `values`; named `ck_<table>_<column>`."""
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)
