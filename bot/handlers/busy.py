"""A write that could not get the database in time (another process held SQLite's lock for longer than
`storage.sqlite_direct.BUSY_WAIT`): the user is told to try again, in their language, at once.

Nothing was written, so nothing the user was told had happened is lost: a tap's screen stays as it was
and the same tap works again once the lock is gone. It is no bug of ours, so no apology and no error
report to the admins for each user; the log keeps one warning per update.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.handlers.common import Context, language
from bot.texts import t, t_plain

log = logging.getLogger(__name__)


async def tell_busy(update: object, context: Context) -> None:
    log.warning("database busy (locked by another process); the user was asked to try again")
    if not isinstance(update, Update):
        return  # a job: it runs again at its next tick
    lang = await language(update, context)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t_plain(lang, "error.busy"), show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, t(lang, "error.busy"))
    except TelegramError:
        log.warning("could not tell chat %s the database is busy", update.effective_chat)
