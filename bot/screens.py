"""Screens of the conversation declared as data: each turns a domain view into text and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import InviteButton, InviteChoice, ballot_prefix, move_wire
from bot.domain.ballot_rule import NOT_SURE, SCORES, Action, Move
from bot.domain.ballot_views import BallotScreen, BallotView, FactorText
from bot.domain.outbox import InvitationMessage
from bot.domain.words import Bilingual
from bot.formats import day, when
from bot.texts import Html, hearts, html_lines, t

# A rater spends about 10 s per factor; rounded up to whole minutes in the invitation.
SECONDS_PER_FACTOR = 10


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None


def answer_text(value: int | None, lang: str) -> str:
    if value is None:
        return "—"
    return t(lang, "rate.not_sure_value") if value == NOT_SURE else f"{hearts(value)} {value}"


def ballot_screen(view: BallotView, lang: str, zone: ZoneInfo) -> Screen:
    """The one message of a ballot: a factor question, the summary, or the thank-you.

    Only the buttons' data is the ballot's own (its id and rev, new on every tap); the texts and the
    buttons' labels depend on the language, the round's texts and the answers shown, and are rendered
    once per such combination (`_factor_text`, `_factor_rows`, …: pure functions, cached)."""
    prefix = ballot_prefix(view.ballot_id, view.rev)
    if view.screen is BallotScreen.FACTOR:
        factor = view.factors[view.step]
        text = _factor_text(lang, view.product, factor, view.step + 1, len(view.factors))
        return Screen(text, _keyboard(prefix, _factor_rows(lang, view.answers.get(factor.key), view.step > 0)))
    if view.screen is BallotScreen.SUMMARY:
        lines = html_lines([_summary_line(lang, f.label, view.answers.get(f.key)) for f in view.factors])
        return Screen(t(lang, "rate.summary", product=view.product, lines=lines),
                      _keyboard(prefix, _summary_rows(lang, tuple(f.label for f in view.factors))))
    return Screen(_done_text(lang, view.product, view.closes_at, zone, bool(view.revisions)),
                  _keyboard(prefix, _done_rows(lang)))


# The cached parts of ballot screens: keyed by everything they are made of, so an entry is never stale
# (the catalogs are read once per process, and a round's texts are part of the key). Bounded, as the
# product names and answers in the keys are many over a long-running process.
_TEXTS = 4096
Rows = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, the move's wire form)


def _keyboard(prefix: str, rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=prefix + wire) for label, wire in row]
                                 for row in rows])


@lru_cache(maxsize=_TEXTS)
def _factor_text(lang: str, product: str, factor: FactorText, position: int, total: int) -> Html:
    return t(lang, "rate.factor", product=product, position=position, total=total, label=factor.label(lang),
             question=factor.question(lang))


@lru_cache(maxsize=256)
def _factor_rows(lang: str, current: int | None, back: bool) -> Rows:
    """A factor screen's buttons: the scores (the current one ticked), not sure, and back after the first."""
    scores = tuple((f"{v} ✓" if current == v else str(v), move_wire(Move.score(v))) for v in SCORES)
    extra = [(t(lang, "rate.not_sure") + (" ✓" if current == NOT_SURE else ""), move_wire(Move(Action.NOT_SURE)))]
    if back:
        extra.insert(0, (t(lang, "rate.back"), move_wire(Move(Action.BACK))))
    return scores, tuple(extra)


@lru_cache(maxsize=_TEXTS)
def _summary_line(lang: str, label: Bilingual, value: int | None) -> Html:
    return t(lang, "rate.summary_line", label=label(lang), value=answer_text(value, lang))


@lru_cache(maxsize=_TEXTS)
def _summary_rows(lang: str, labels: tuple[Bilingual, ...]) -> Rows:
    """A button per factor to change it, then submit."""
    rows = [((f"✏️ {label(lang)}", move_wire(Move.edit(i))),) for i, label in enumerate(labels)]
    return *rows, ((t(lang, "rate.submit"), move_wire(Move(Action.SUBMIT))),)


@lru_cache(maxsize=_TEXTS)
def _done_text(lang: str, product: str, closes_at: datetime, zone: ZoneInfo, resubmitted: bool) -> Html:
    key = "rate.resubmitted" if resubmitted else "rate.submitted"
    return t(lang, key, product=product, closes_at=when(closes_at, lang, zone))


@lru_cache(maxsize=64)
def _done_rows(lang: str) -> Rows:
    return (((t(lang, "rate.change"), move_wire(Move(Action.REVISE))),),)


def invitation_screen(inv: InvitationMessage, zone: ZoneInfo) -> Screen:
    lang = inv.language
    minutes = max(1, -(-inv.factors * SECONDS_PER_FACTOR // 60))
    purchased_on = day(inv.purchased_at, lang, zone) if inv.purchased_at else "—"
    text = t(lang, "invite.text", product=inv.product, purchased_on=purchased_on, factors=inv.factors,
             minutes=minutes, closes_at=when(inv.closes_at, lang, zone))
    def button(key: str, choice: InviteChoice) -> InlineKeyboardButton:
        return InlineKeyboardButton(t(lang, key), callback_data=InviteButton(inv.round_id, choice).encode())

    rows = [
        [button("invite.rate_now", InviteChoice.RATE_NOW)],
        [button("invite.not_now", InviteChoice.NOT_NOW), button("invite.stop", InviteChoice.STOP)],
    ]
    return Screen(text, InlineKeyboardMarkup(rows))
