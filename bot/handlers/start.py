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
from bot.config import Config
from bot.domain import identity, people, showcase
from bot.domain.errors import LinkRefused, NotLinked
from bot.domain.runtime import Runtime
from bot.domain.settings import LANGUAGES
from bot.handlers.common import (
    Context,
    edit_or_send,
    error_text,
    is_admin,
    language,
    on_button,
    refusing,
    reply,
    runtime,
    sender_id,
)
from bot.handlers.showcase import show_product
from bot.profile import publish_admin_menu
from bot.texts import t


async def start(update: Update, context: Context) -> None:
    """Links the user with a deep-link payload, or welcomes them and offers to share their phone."""
    rt, user = runtime(context), update.effective_user
    assert user is not None
    await people.remember(rt, user.id, user.language_code)
    lang = await language(update, context)
    if is_admin(update, context):
        await publish_admin_menu(context.bot, rt.config, user.id)  # refused at start-up if they had no chat
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
        await reply(update, await linked_text(rt, user.id, lang))
        return
    standing = await people.resume(rt, user.id)
    if standing is not people.Standing.NOT_LINKED:
        await reply(update, t(lang, f"start.{standing}"))
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
    await reply(update, await linked_text(rt, user.id, lang), reply_markup=ReplyKeyboardRemove())


async def linked_text(rt: Runtime[Config], user_id: int, lang: str) -> str:
    """Linking is asking to take part: invitations a buyer had stopped resume, and the answer says so
    (or that an admin's exclusion means none will come) rather than promising what will not happen."""
    standing = await people.resume(rt, user_id)
    return t(lang, "link.done" if standing is people.Standing.LINKED else f"start.{standing}")


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


@refusing(NotLinked)
async def stop(update: Update, context: Context) -> None:
    """Stops invitations to the user (their earlier ratings still count; /start resumes them)."""
    await people.opt_out(runtime(context), sender_id(update))
    await reply(update, t(await language(update, context), "stop.done"))


async def unknown_command(update: Update, context: Context) -> None:
    """Answers a command we don't know (or an admin command from a non-admin)."""
    await reply(update, t(await language(update, context), "unknown_command"))
