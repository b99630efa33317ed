"""What every handler needs: the runtime, the user's language, and domain errors turned into text."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import Update
from telegram.error import BadRequest

from bot.config import Config
from bot.context import Context
from bot.domain import people
from bot.domain.errors import DomainError, LinkRefused
from bot.domain.runtime import Runtime
from bot.texts import t

__all__ = ["Context", "edit_or_send", "error_text", "is_admin", "language", "reply", "runtime"]


def runtime(context: Context) -> Runtime[Config]:
    return context.bot_data.runtime


async def language(update: Update, context: Context) -> str:
    user = update.effective_user
    rt = runtime(context)
    if user is None:
        return rt.config.bot.default_language
    return await people.language_of(rt, user.id, user.language_code)


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in runtime(context).config.bot.admins


def error_text(error: DomainError, lang: str) -> str:
    if isinstance(error, LinkRefused):
        return t(lang, f"link.refused.{error.params['reason']}")
    return t(lang, error.key, **{k: escape(str(v)) for k, v in error.params.items()})


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html(text, disable_web_page_preview=True, **kwargs)


async def edit_or_send(update: Update, text: str, **kwargs: Any) -> int:
    """Edits the message the pressed button is on; a message that is already right stays as it is."""
    query = update.callback_query
    assert query is not None and query.message is not None
    try:
        await query.edit_message_text(text, parse_mode="HTML", **kwargs)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise
    return query.message.message_id
