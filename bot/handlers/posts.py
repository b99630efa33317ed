"""An admin's answer about a scorecard post in doubt: "Repost" or "It's there" (bot.domain.publication).

The buttons go to admins only, but callback data comes from the client: who taps is checked here,
what is waiting in the domain, and every tap is answered.
"""

from __future__ import annotations

from telegram import Update

from bot.callbacks import PostButton
from bot.domain import publication
from bot.domain.publication import NothingToResolve
from bot.handlers.admin import actor
from bot.handlers.common import Context, edit_or_send, error_text, is_admin, language, on_button, runtime
from bot.texts import t, t_plain


@on_button(PostButton)
async def post_button(update: Update, context: Context, button: PostButton) -> None:
    query = update.callback_query
    assert query is not None
    lang = await language(update, context)
    if not is_admin(update, context):
        await query.answer(t_plain(lang, "alert.foreign"), show_alert=True)
        return
    try:
        await publication.resolve(runtime(context), button.round_id, repost=button.repost, actor=actor(update))
    except NothingToResolve as answered:
        await query.answer(error_text(answered, lang, plain=True), show_alert=True)
        return
    await edit_or_send(update, t(lang, "publish.reposting" if button.repost else "publish.confirmed",
                                 round_id=button.round_id))
    await query.answer()
    context.bot_data.wake()  # post it (or thank its raters) now, not at the next tick
