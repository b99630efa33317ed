"""The floor: a bare PTB Application doing only what every rating tap must (answer, edit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes

from bot.updates import MAX_CONCURRENT_UPDATES

Floor = Application[Any, Any, Any, Any, Any, Any]


def floor_application(token: str, base_url: str) -> Floor:
    """Bare PTB: one handler answering the callback and editing the message to a screen of the same
    shape as ours (HTML text, a keyboard of score buttons), as many updates at once as ours takes."""
    app = (ApplicationBuilder().token(token).base_url(base_url)
           .base_file_url(base_url.replace("/bot", "/file/bot", 1))
           .concurrent_updates(MAX_CONCURRENT_UPDATES)).build()

    async def tap(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers and edits: the two Bot API calls every rating tap makes."""
        query = update.callback_query
        assert query is not None
        step = int((query.data or "f:0").split(":")[1]) + 1
        rows = [[InlineKeyboardButton(f"{n} ❤️", callback_data=f"f:{step}") for n in range(1, 6)],
                [InlineKeyboardButton("Not sure", callback_data=f"f:{step}"),
                 InlineKeyboardButton("Back", callback_data=f"f:{step}")]]
        await query.answer()
        await query.edit_message_text(
            f"<b>Bench shampoo 400ml</b> · {step}/6\n<b>Scent</b>\nHow much do you like its scent?",
            parse_mode="HTML", reply_markup=InlineKeyboardMarkup(rows))

    app.add_handler(CallbackQueryHandler(tap))
    return app


@asynccontextmanager
async def polling(app: Floor) -> AsyncIterator[Floor]:
    """The floor started exactly as `bot.runner.running` starts ours."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
