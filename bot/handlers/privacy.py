"""/forgetme: says exactly what deleting one's data does, then does it on confirmation."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import ForgetButton
from bot.context import Context
from bot.domain import privacy
from bot.domain.errors import NotLinked
from bot.handlers.common import edit_or_send, error_text, language, on_button, refusing, reply, runtime, sender_id
from bot.texts import t, tn


@refusing(NotLinked)
async def forget_me(update: Update, context: Context) -> None:
    """Explains what will be deleted and kept, and asks to confirm with a button."""
    plan = await privacy.preview(runtime(context), sender_id(update))
    lang = await language(update, context)
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(t(lang, "forget.confirm"), callback_data=ForgetButton(True).encode()),
        InlineKeyboardButton(t(lang, "forget.keep"), callback_data=ForgetButton(False).encode()),
    ]])
    await reply(update, t(lang, "forget.explain", withdrawn=plan.withdrawn, anonymised=plan.anonymised),
                reply_markup=keyboard)


@on_button(ForgetButton)
async def forget_button(update: Update, context: Context, button: ForgetButton) -> None:
    """Forgets the presser (never anyone else: the button acts on whoever taps it) or keeps their data."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = await language(update, context)
    if not button.confirm:
        await query.answer()
        await edit_or_send(update, t(lang, "forget.kept"))
        return
    try:
        done = await privacy.forget(runtime(context), user.id)
    except NotLinked as error:
        await query.answer(error_text(error, lang, plain=True), show_alert=True)
        return
    await query.answer()
    await edit_or_send(update, t(lang, "forget.done", withdrawn=tn(lang, "forget.withdrawn", done.withdrawn),
                                 anonymised=tn(lang, "forget.anonymised", done.anonymised)))
