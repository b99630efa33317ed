"""The rating conversation: invitation buttons, the ballot screens, /rate and /myratings."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.callbacks import BallotButton, InviteButton, InviteChoice, ListKind
from bot.context import Context
from bot.domain import ballot_views, ballots
from bot.domain.errors import DomainError, NotLinked, StaleButton
from bot.formats import when
from bot.handlers.common import (
    answer_invitation,
    language,
    on_button,
    press_button,
    refusing,
    reply,
    runtime,
    show_screen,
)
from bot.handlers.lists import send_list
from bot.pages import fit
from bot.screens import Screen, ballot_screen
from bot.texts import t, t_plain

# Alerts for refused buttons: short, shown as a pop-up, and the message stays as it is.
_ALERTS: dict[type[DomainError], str] = {StaleButton: "alert.stale"}


# Buttons edit the message first and answer the query last (`show_screen`).
@on_button(BallotButton)
async def ballot_button(update: Update, context: Context, button: BallotButton) -> None:
    """Applies a rating-screen button and edits the ballot message to the next screen."""
    await press_button(
        update, context, lambda user_id: ballots.press(runtime(context), button.sheet_id, button.rev, button.move,
                                                       user_id),
        ballot_screen, _ALERTS, on_stale=lambda lang: stale_tap(update, context, button, lang))


async def stale_tap(update: Update, context: Context, button: BallotButton, lang: str) -> None:
    """A tap made on an out-of-date screen changes nothing. On the message that shows the ballot (its
    screen fell behind: an edit the network lost, a tap the rater made twice) the current screen is
    drawn again with a short notice, so the rater can go on; on an older message, the alert."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.message is not None and user is not None
    view = await ballot_views.shown_on(runtime(context), button.sheet_id, user.id,
                                       query.message.chat.id, query.message.message_id)
    if view is None or button.rev >= view.rev:  # a rev not yet written was never on any screen
        await query.answer(t_plain(lang, "alert.stale"), show_alert=True)
        return
    await show_screen(update, ballot_screen(view, lang, runtime(context).config.zone), t_plain(lang, "alert.redrawn"))


@on_button(InviteButton)
async def invitation_button(update: Update, context: Context, button: InviteButton) -> None:
    """Rate now (the invitation becomes the ballot), not now, or stop inviting me."""
    rt = runtime(context)

    async def not_now(user_id: int, lang: str) -> str:
        closes_at = await ballots.not_now(rt, button.round_id, user_id)  # no ballot: "started" counts opened ones
        return t(lang, "invite.later", closes_at=when(closes_at, lang, rt.config.zone))

    async def rate_now(user_id: int, shown_in: tuple[int, int]) -> Callable[[str], Screen]:
        # This very message becomes the ballot: recorded with it, in one transaction.
        view = await ballots.begin(rt, button.round_id, user_id, shown_in=shown_in)
        return lambda lang: ballot_screen(view, lang, rt.config.zone)

    # NotLinked: forgotten since the invitation came.
    await answer_invitation(update, context, button.choice, not_now, rate_now, stop_refused=(NotLinked,))


@refusing(NotLinked)
async def rate(update: Update, context: Context) -> None:
    """Resumes the one ballot waiting for the user, or lists the rounds they are invited to."""
    rt, user = runtime(context), update.effective_user
    assert user is not None and update.effective_message is not None
    pending = await ballot_views.pending_for(rt, user.id)
    lang = await language(update, context)
    if not pending:
        await reply(update, t(lang, "rate.none"))
        return
    if len(pending) > 1:
        rows = [[InlineKeyboardButton(t_plain(lang, "rate.choose_button", product=p.product),
                                      callback_data=InviteButton(p.round_id, InviteChoice.RATE_NOW).encode())]
                for p in pending]
        await reply(update, t(lang, "rate.choose"), reply_markup=InlineKeyboardMarkup(rows))
        return
    view = await ballots.begin(rt, pending[0].round_id, user.id)
    screen = ballot_screen(view, lang, runtime(context).config.zone)
    sent = await update.effective_message.reply_html(fit(screen.text), reply_markup=screen.markup)
    if before := await ballots.attach_message(rt, view.ballot_id, sent.chat.id, sent.message_id):
        # The ballot moved to the new message; the old one's buttons are stale, so they go.
        with suppress(BadRequest):  # already gone: deleted, too old to edit, or no buttons left
            await context.bot.edit_message_reply_markup(*before, reply_markup=None)


@refusing(NotLinked)
async def my_ratings(update: Update, context: Context) -> None:
    """Shows what the user has rated, and whether they can still change it, a page at a time."""
    await send_list(update, context, ListKind.MY_RATINGS)


async def malformed_button(update: Update, context: Context) -> None:
    """Any callback data we could not have made: a short alert, nothing changes."""
    query = update.callback_query
    assert query is not None
    await query.answer(t(await language(update, context), "alert.malformed"), show_alert=True)


async def stray_text(update: Update, context: Context) -> None:
    """Text where a button is expected: point to the buttons (and /help for everything else)."""
    await reply(update, t(await language(update, context), "error.text_instead_of_button"))
