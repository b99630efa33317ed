"""Getting in: /start with or without a link, contact sharing, /help, /language, /stop."""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.callbacks import LanguageButton
from bot.domain import identity, people, showcase
from bot.domain.errors import LinkRefused
from bot.domain.settings import LANGUAGES
from bot.handlers.common import (
    Context,
    edit_or_send,
    error_text,
    is_admin,
    language,
    on_button,
    reply,
    runtime,
    sender_id,
)
from bot.handlers.showcase import show_product
from bot.texts import t


async def start(update: Update, context: Context) -> None:
    """Links the user with a deep-link payload, or welcomes them and offers to share their phone."""
    rt, user = runtime(context), update.effective_user
    assert user is not None
    await people.remember(rt, user.id, user.language_code)
    lang = await language(update, context)
    if context.args and not identity.is_link_token(rt.config.require_secret(), context.args[0]) \
            and (sku := showcase.sku_from_payload(context.args[0])) is not None:
        await show_product(update, context, sku)  # a shared product link, for anyone
        return
    if context.args:
        try:
            await identity.link_by_token(rt, context.args[0], user.id)
        except LinkRefused as refused:
            await reply(update, error_text(refused, lang))
            return
        await reply(update, t(lang, "link.done"))
        return
    if await identity.linked_customer(rt, user.id):
        await reply(update, t(lang, "start.already_linked"))
        return
    keyboard = ReplyKeyboardMarkup([[KeyboardButton(t(lang, "start.share_button"), request_contact=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    await reply(update, t(lang, "start.welcome"), reply_markup=keyboard)


async def contact(update: Update, context: Context) -> None:
    """Links the user through their own shared phone contact; a forwarded contact is refused."""
    rt, message, user = runtime(context), update.effective_message, update.effective_user
    assert message is not None and message.contact is not None and user is not None
    lang = await language(update, context)
    try:
        await identity.link_by_contact(rt, message.contact.phone_number, message.contact.user_id, user.id)
    except LinkRefused as refused:
        await reply(update, error_text(refused, lang), reply_markup=ReplyKeyboardRemove())
        return
    await reply(update, t(lang, "link.done"), reply_markup=ReplyKeyboardRemove())


async def help_command(update: Update, context: Context) -> None:
    """Lists the commands this user may use; admins also see theirs."""
    lang = await language(update, context)
    parts = [t(lang, "help.purchaser")]
    if is_admin(update, context):
        parts += [t(lang, "help.admin"), t(lang, "help.research")]
    await reply(update, "\n".join(parts))


async def language_command(update: Update, context: Context) -> None:
    """Offers the two languages as buttons."""
    lang = await language(update, context)
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(t(code, "language.name"), callback_data=LanguageButton(code).encode())
        for code in LANGUAGES
    ]])
    await reply(update, t(lang, "language.choose"), reply_markup=keyboard)


@on_button(LanguageButton)
async def language_chosen(update: Update, context: Context, button: LanguageButton) -> None:
    """Stores the chosen language and confirms in it."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await people.set_language(runtime(context), user.id, button.lang)
    await query.answer()
    await edit_or_send(update, t(button.lang, "language.set"))


async def stop(update: Update, context: Context) -> None:
    """Stops invitations to the user (their earlier ratings still count)."""
    lang = await language(update, context)
    if not await people.opt_out(runtime(context), sender_id(update)):
        await reply(update, t(lang, "error.not_linked"))
        return
    await reply(update, t(lang, "stop.done"))


async def unknown_command(update: Update, context: Context) -> None:
    """Answers a command we don't know (or an admin command from a non-admin)."""
    await reply(update, t(await language(update, context), "unknown_command"))
