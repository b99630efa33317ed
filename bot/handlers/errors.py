"""The one error handler: the user gets an apology in their language, admins get one report."""

from __future__ import annotations

import html
import logging
import time
import traceback

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.handlers.busy import tell_busy
from bot.handlers.common import Context, language, runtime
from bot.redaction import redact, redact_text
from bot.texts import t
from storage.db import is_busy

log = logging.getLogger(__name__)
# At most one report to the admins per this many seconds, so a failing loop cannot flood them.
REPORT_INTERVAL = 60.0


async def on_error(update: object, context: Context) -> None:
    """Logs the error, apologises to the user and reports to the admins (at most once a minute)."""
    error = context.error
    assert error is not None
    if is_busy(error):
        await tell_busy(update, context)
        raise ApplicationHandlerStop  # handled: no later error handler sees it as a failure
    described = redact(update.to_dict() if isinstance(update, Update) else update)
    log.error("unhandled error while handling %s", described, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id,
                                           t(await language(update, context), "error.apology"), parse_mode="HTML")
        except TelegramError:
            log.warning("could not apologise to chat %s", update.effective_chat.id)
    now = time.monotonic()
    if now - context.bot_data.last_error_report < REPORT_INTERVAL:
        return
    context.bot_data.last_error_report = now
    secrets = runtime(context).config.secrets()
    trace = redact_text("".join(traceback.format_exception(error)), secrets)[-3000:]
    shown = redact_text(str(described), secrets)[:600]
    report = f"⚠️ <b>redheart error</b>\nupdate: <code>{html.escape(shown)}</code>\n<pre>{html.escape(trace)}</pre>"
    for admin in runtime(context).config.bot.admins:
        try:
            await context.bot.send_message(admin, report, parse_mode="HTML")
        except TelegramError:
            log.warning("could not report the error to admin %s", admin)

