"""Screens of the conversation declared as data: each turns a domain view into text and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import BallotButton, InviteButton, InviteChoice
from bot.domain.ballot_rule import NOT_SURE, SCORES, Action, Move
from bot.domain.ballot_views import BallotScreen, BallotView
from bot.domain.outbox import InvitationMessage
from bot.formats import day, when
from bot.texts import hearts, html_lines, t

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
    """The one message of a ballot: a factor question, the summary, or the thank-you."""
    def button(move: Move) -> str:
        return BallotButton(view.ballot_id, view.rev, move).encode()

    product = view.product
    if view.screen is BallotScreen.FACTOR:
        factor = view.factors[view.step]
        current = view.answers.get(factor.key)
        scores = [
            InlineKeyboardButton(f"{v} ✓" if current == v else str(v), callback_data=button(Move.score(v)))
            for v in SCORES
        ]
        extra = [InlineKeyboardButton(t(lang, "rate.not_sure") + (" ✓" if current == NOT_SURE else ""),
                                      callback_data=button(Move(Action.NOT_SURE)))]
        if view.step > 0:
            extra.insert(0, InlineKeyboardButton(t(lang, "rate.back"), callback_data=button(Move(Action.BACK))))
        text = t(lang, "rate.factor", product=product, position=view.step + 1, total=len(view.factors),
                 label=factor.label(lang), question=factor.question(lang))
        return Screen(text, InlineKeyboardMarkup([scores, extra]))
    if view.screen is BallotScreen.SUMMARY:
        lines = html_lines([
            t(lang, "rate.summary_line", label=f.label(lang), value=answer_text(view.answers.get(f.key), lang))
            for f in view.factors
        ])
        rows = [
            [InlineKeyboardButton(f"✏️ {f.label(lang)}", callback_data=button(Move.edit(i)))]
            for i, f in enumerate(view.factors)
        ]
        rows.append([InlineKeyboardButton(t(lang, "rate.submit"), callback_data=button(Move(Action.SUBMIT)))])
        return Screen(t(lang, "rate.summary", product=product, lines=lines), InlineKeyboardMarkup(rows))
    key = "rate.resubmitted" if view.revisions else "rate.submitted"
    text = t(lang, key, product=product, closes_at=when(view.closes_at, lang, zone))
    return Screen(text, InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "rate.change"),
                                                                    callback_data=button(Move(Action.REVISE)))]]))


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
