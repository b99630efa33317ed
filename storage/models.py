"""SQLAlchemy models for every domain word of the SPEC.

The invariants that matter are enforced by the database, not only by code: one account link per
Telegram user and per customer, one ballot per round x customer, one invitation per round x customer,
and every status one of its Enum's values (`storage.statuses`).
Times are stored as naive UTC (`UtcDateTime`) so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false

from storage.statuses import (
    BallotStatus,
    FactorSetSource,
    InvitationStatus,
    LinkMethod,
    PublishState,
    PurchaseStatus,
    ReminderStatus,
    RoundStatus,
    ThanksStatus,
    one_of,
)

E = TypeVar("E", bound=StrEnum)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Status(TypeDecorator[E]):
    """A status column: its Enum's members in Python, their strings (at most 16 characters) in the
    database, where a CHECK constraint (`storage.statuses.one_of`) admits nothing else."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), int: Integer()}  # noqa: RUF012


class Category(Base):
    __tablename__ = "categories"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))


class FactorColumns:
    """A factor as raters see it: its place in the list, key, and label and question per language."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(200))
    label_zh: Mapped[str] = mapped_column(String(200))
    question_en: Mapped[str] = mapped_column(String(500))
    question_zh: Mapped[str] = mapped_column(String(500))


class Factor(FactorColumns, Base):
    """A category's factors and research candidates (replaced by each import of its categories.toml);
    which of them are rated is the category's latest `FactorSet`."""

    __tablename__ = "factors"
    __table_args__ = (UniqueConstraint("category_key", "key"),)
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key", ondelete="CASCADE"))
    # A research candidate only, not in the factor set categories.toml declares.
    candidate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FactorSet(Base):
    """Version N of a category's rated factors: v1 from categories.toml, each adopted research result the
    next. Rounds rate the latest version at their opening and keep it."""

    __tablename__ = "factor_sets"
    __table_args__ = (UniqueConstraint("category_key", "version"), one_of("source", FactorSetSource))
    id: Mapped[int] = mapped_column(primary_key=True)
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key", ondelete="CASCADE"))
    version: Mapped[int]
    keys: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[FactorSetSource] = mapped_column(Status(FactorSetSource))
    research_round_id: Mapped[int | None] = mapped_column(ForeignKey("research_rounds.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class Product(Base):
    __tablename__ = "products"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key"))
    popularity: Mapped[int]
    sales_volume: Mapped[int]


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Keyed HMAC of the E.164 phone; the phone itself is never stored.
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    last_active_at: Mapped[datetime | None]
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded_by_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    forgotten_at: Mapped[datetime | None]


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (one_of("status", PurchaseStatus),)
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), index=True)
    purchased_at: Mapped[datetime]
    status: Mapped[PurchaseStatus] = mapped_column(Status(PurchaseStatus))


class TelegramUser(Base):
    """A Telegram user the bot has seen; holds what must survive restarts (language choice)."""

    __tablename__ = "telegram_users"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The language the user chose with /language; None = follow their Telegram language.
    language: Mapped[str | None] = mapped_column(String(8))
    # Their Telegram client's language, remembered for messages the bot starts (invitations).
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    # When they used /forgetme: their link is gone, and this says why (they cannot link that customer again).
    forgotten_at: Mapped[datetime | None]


class AccountLink(Base):
    __tablename__ = "account_links"
    __table_args__ = (one_of("method", LinkMethod),)
    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), unique=True)
    method: Mapped[LinkMethod] = mapped_column(Status(LinkMethod))
    linked_at: Mapped[datetime]


class LinkToken(Base):
    __tablename__ = "link_tokens"
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class RoundColumns:
    """What a rating round and a research round both have: a life from scheduled to published
    (`bot.domain.lifecycle` runs it for both), and the factor set version in force when it opened."""

    status: Mapped[RoundStatus] = mapped_column(Status(RoundStatus))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    quota: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # What the opening found: counts per eligibility rule, the sampling seed, etc.
    eligibility: Mapped[dict[str, Any] | None]
    report: Mapped[dict[str, Any] | None]
    # Claimed by the process that posts the result, so several processes never all post it.
    publish_claimed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    publish_message_id: Mapped[int | None] = mapped_column(BigInteger)
    factor_set: Mapped[int | None]


class Round(RoundColumns, Base):
    __tablename__ = "rounds"
    __table_args__ = (Index("ix_rounds_status_opens_at", "status", "opens_at"), one_of("status", RoundStatus),
                      one_of("publish_state", PublishState))
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key"))
    min_ballots: Mapped[int]
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    # How far the scorecard's post got (bot.domain.outbox, "Scorecards").
    publish_state: Mapped[PublishState] = mapped_column(Status(PublishState), default=PublishState.NONE,
                                                        server_default=PublishState.NONE.value)
    # When the admins were asked about a post in doubt or refused, and what went wrong.
    publish_reported_at: Mapped[datetime | None]
    publish_error: Mapped[str | None] = mapped_column(String(300))
    reminders_queued_at: Mapped[datetime | None]
    # `factor_set`: the category's factor set version the round rates, frozen when it opens.


class RoundFactor(FactorColumns, Base):
    """The factor set of a round, frozen when it opens."""

    __tablename__ = "round_factors"
    __table_args__ = (UniqueConstraint("round_id", "key"),)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))


class Invitation(Base):
    """Outbox row: written when a round (or a research round) opens, drained by the sender, one per
    round x customer."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("round_id", "customer_id"),
        UniqueConstraint("research_round_id", "customer_id"),
        Index("ix_invitations_status", "status", "id"),
        one_of("status", InvitationStatus),
        one_of("reminder_status", ReminderStatus),
        CheckConstraint("(round_id IS NULL) <> (research_round_id IS NULL)", name="one_round"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    research_round_id: Mapped[int | None] = mapped_column(ForeignKey("research_rounds.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    purchased_at: Mapped[datetime | None]
    status: Mapped[InvitationStatus] = mapped_column(Status(InvitationStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(300))
    reminder_status: Mapped[ReminderStatus] = mapped_column(Status(ReminderStatus), default=ReminderStatus.NONE)
    declined_at: Mapped[datetime | None]


class SheetColumns:
    """Where a rater's sheet (a ballot, a research response) stands in their chat: the message it is
    drawn in, the screen it shows (`step`, whose meaning each sheet gives) and its revision, bumped on
    every change, which its buttons carry so that a stale button can be told apart."""

    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(default=0)
    rev: Mapped[int] = mapped_column(default=0)


class Ballot(SheetColumns, Base):
    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("round_id", "customer_id"), one_of("status", BallotStatus),
                      one_of("thanks_status", ThanksStatus), Index("ix_ballots_thanks_status", "thanks_status", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"))
    # Per-round pseudonym; what exports and scoring see instead of the customer.
    rater: Mapped[str] = mapped_column(String(32))
    # `step`: the factor position being asked, or the number of factors for the summary screen.
    # factor key -> 1..5, or 0 for "not sure". `answers` is the draft being edited; `submitted` is
    # what counts, copied from the draft on each submit, so an unfinished revision never counts.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[BallotStatus] = mapped_column(Status(BallotStatus))
    owned_days: Mapped[int | None]
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    revisions: Mapped[int] = mapped_column(default=0)
    # The admin's exclusion as it stood when the round closed, so an export recomputes the published
    # score even after the customer is excluded later or forgotten. None while the round is open.
    excluded_by_admin: Mapped[bool | None] = mapped_column(Boolean)
    # The thank-you outbox (bot.domain.outbox, "Thanks"): sent at `thanked_at`.
    thanked_at: Mapped[datetime | None]
    thanks_status: Mapped[ThanksStatus] = mapped_column(Status(ThanksStatus), default=ThanksStatus.NONE,
                                                        server_default=ThanksStatus.NONE.value)
    thanks_claimed_at: Mapped[datetime | None]


class ResearchRound(RoundColumns, Base):
    """A category's best-worst survey of its candidates; statuses as a round's (`RoundStatus`)."""

    __tablename__ = "research_rounds"
    __table_args__ = (Index("ix_research_rounds_status_opens_at", "status", "opens_at"), one_of("status", RoundStatus))
    id: Mapped[int] = mapped_column(primary_key=True)
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key"))
    min_responses: Mapped[int]
    # `factor_set`: the version in force when it opened, which its result may replace.
    # Frozen at opening: the design seed, sets and set size, and each candidate's key and labels.
    design: Mapped[dict[str, Any] | None]
    # The factor set version its adoption created.
    adopted_version: Mapped[int | None]


class ResearchResponse(SheetColumns, Base):
    """One buyer's answers to a research round: one per round x customer, revisable until it closes."""

    __tablename__ = "research_responses"
    __table_args__ = (UniqueConstraint("round_id", "customer_id"), one_of("status", BallotStatus))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("research_rounds.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"))
    rater: Mapped[str] = mapped_column(String(32))
    # Their place in the design (`scoring.maxdiff.respondent_sets`), and the sets it gave, as keys.
    respondent: Mapped[int]
    sets: Mapped[list[list[str]]] = mapped_column(JSON)
    # `step`: 2 x set + 0 on a set's "most" screen, + 1 on its "least" screen; 2 x sets: summary; + 1: done.
    # str(set) -> [most position, least position]; `picks` is the draft, `submitted` what counts.
    picks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[BallotStatus] = mapped_column(Status(BallotStatus))
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    revisions: Mapped[int] = mapped_column(default=0)
    # Seconds from the first screen to the first submit: what the speeder rule reads.
    seconds: Mapped[float | None] = mapped_column(Float)
    excluded_by_admin: Mapped[bool | None] = mapped_column(Boolean)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(300))


class ScorecardPhoto(Base):
    """A scorecard's chart as Telegram stores it once sent, per language: sending the `file_id` again
    (an inline result, /scores) costs no upload and no redraw."""

    __tablename__ = "scorecard_photos"
    __table_args__ = (UniqueConstraint("round_id", "lang"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    file_id: Mapped[str] = mapped_column(String(200))
