"""Flood protection's handler: it runs before every other one and drops a flooding user's updates."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.handlers.common import Context, is_admin, language, runtime
from bot.texts import t


async def guard(update: object, context: Context) -> None:
    """Drops updates of a flooding user (ApplicationHandlerStop), telling them once."""
    if not isinstance(update, Update) or update.effective_user is None or is_admin(update, context):
        return
    if runtime(context).config.bot.flood_limit <= 0:
        return
    flood = context.bot_data.flood
    verdict = flood.check(update.effective_user.id)
    if verdict == "ok":
        return
    if verdict == "paused" and update.effective_chat is not None:
        text = t(await language(update, context), "flood.paused", seconds=round(flood.pause))
        await context.bot.send_message(update.effective_chat.id, text, parse_mode="HTML")
    raise ApplicationHandlerStop
