"""Screens of the conversation declared as data: each turns a domain view into text and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import BallotButton, InviteButton
from bot.domain.ballots import NOT_SURE, BallotView
from bot.domain.outbox import InvitationMessage
from bot.texts import t

HEART, EMPTY = "❤️", "🤍"
# A rater spends about 10 s per factor; rounded up to whole minutes in the invitation.
SECONDS_PER_FACTOR = 10


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None


def when(moment: datetime, lang: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def hearts(value: int) -> str:
    return HEART * value + EMPTY * (5 - value)


def answer_text(value: int | None, lang: str) -> str:
    if value is None:
        return "—"
    return t(lang, "rate.not_sure_value") if value == NOT_SURE else f"{hearts(value)} {value}"


def ballot_screen(view: BallotView, lang: str) -> Screen:
    """The one message of a ballot: a factor question, the summary, or the thank-you."""
    def button(action: str) -> str:
        return BallotButton(view.ballot_id, view.rev, action).encode()

    product = escape(view.product)
    if view.screen == "factor":
        factor = view.factors[view.step]
        current = view.answers.get(factor.key)
        scores = [
            InlineKeyboardButton(f"{v} ✓" if current == v else str(v), callback_data=button(str(v)))
            for v in range(1, 6)
        ]
        extra = [InlineKeyboardButton(t(lang, "rate.not_sure") + (" ✓" if current == NOT_SURE else ""),
                                      callback_data=button("u"))]
        if view.step > 0:
            extra.insert(0, InlineKeyboardButton(t(lang, "rate.back"), callback_data=button("k")))
        text = t(lang, "rate.factor", product=product, position=view.step + 1, total=len(view.factors),
                 label=escape(factor.label(lang)), question=escape(factor.question(lang)))
        return Screen(text, InlineKeyboardMarkup([scores, extra]))
    if view.screen == "summary":
        lines = "\n".join(
            t(lang, "rate.summary_line", label=escape(f.label(lang)), value=answer_text(view.answers.get(f.key), lang))
            for f in view.factors
        )
        rows = [
            [InlineKeyboardButton(f"✏️ {f.label(lang)}", callback_data=button(f"e{i}"))]
            for i, f in enumerate(view.factors)
        ]
        rows.append([InlineKeyboardButton(t(lang, "rate.submit"), callback_data=button("s"))])
        return Screen(t(lang, "rate.summary", product=product, lines=lines), InlineKeyboardMarkup(rows))
    key = "rate.resubmitted" if view.revisions else "rate.submitted"
    text = t(lang, key, product=product, closes_at=when(view.closes_at, lang))
    return Screen(text, InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "rate.change"),
                                                                    callback_data=button("v"))]]))


def invitation_screen(inv: InvitationMessage) -> Screen:
    lang = inv.language
    minutes = max(1, -(-inv.factors * SECONDS_PER_FACTOR // 60))
    purchased_on = inv.purchased_at.strftime("%Y-%m-%d") if inv.purchased_at else "—"
    text = t(lang, "invite.text", product=escape(inv.product), purchased_on=purchased_on, factors=inv.factors,
             minutes=minutes, closes_at=when(inv.closes_at, lang))
    rows = [
        [InlineKeyboardButton(t(lang, "invite.rate_now"), callback_data=InviteButton(inv.round_id, "r").encode())],
        [InlineKeyboardButton(t(lang, "invite.not_now"), callback_data=InviteButton(inv.round_id, "n").encode()),
         InlineKeyboardButton(t(lang, "invite.stop"), callback_data=InviteButton(inv.round_id, "s").encode())],
    ]
    return Screen(text, InlineKeyboardMarkup(rows))
