"""What every handler needs: the runtime, the user's language, domain errors turned into text, and the
decorators that parse a button or answer a refusal, so each handler is what it does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from telegram import Update
from telegram.error import BadRequest, NetworkError

from bot.callbacks import Button, decode
from bot.config import Config
from bot.context import Context
from bot.domain import people
from bot.domain.errors import DomainError
from bot.domain.runtime import Runtime
from bot.pages import fit
from bot.texts import error_message, t

__all__ = ["Context", "Handler", "edit_or_send", "error_text", "is_admin", "language", "on_button", "refusing",
           "reply", "runtime", "sender_id"]

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Button)
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
ButtonHandler = Callable[[Update, Context, B], Coroutine[Any, Any, None]]


def runtime(context: Context) -> Runtime[Config]:
    return context.bot_data.runtime


def sender_id(update: Update) -> int:
    """The Telegram id of who sent the update (every update our handlers take has one)."""
    assert update.effective_user is not None
    return update.effective_user.id


async def language(update: Update, context: Context) -> str:
    user = update.effective_user
    rt = runtime(context)
    if user is None:
        return rt.config.bot.default_language
    return await people.language_of(rt, user.id, user.language_code)


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in runtime(context).config.bot.admins


error_text = error_message  # alerts show no markup: they take `plain=True`


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Answers in the chat; a text over Telegram's limit (lists are paged before: a last guard) is cut."""
    assert update.effective_message is not None
    await update.effective_message.reply_html(fit(text), disable_web_page_preview=True, **kwargs)


async def edit_or_send(update: Update, text: str, **kwargs: Any) -> int:
    """Edits the message the pressed button is on; a message that is already right stays as it is.

    An edit the network kept failing (after `bot.retry`'s retries) is given up, not raised: what the
    tap did is recorded, the tap still gets its answer, and the next tap on this message finds it out
    of date and redraws it (`bot.handlers.rating`)."""
    query = update.callback_query
    assert query is not None and query.message is not None
    try:
        await query.edit_message_text(fit(text), parse_mode="HTML", **kwargs)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise
    except NetworkError as exc:
        log.warning("could not edit message %s (%s); the next tap redraws it", query.message.message_id, exc)
    return query.message.message_id


def refusing(*refusals: type[DomainError]) -> Callable[[Handler], Handler]:
    """The handler, with these domain errors answered in the user's language instead of reaching the
    error handler (which apologises for what nobody expected)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(update: Update, context: Context) -> None:
            try:
                await handler(update, context)
            except refusals as refused:
                await reply(update, error_text(refused, await language(update, context)))

        return wrapper

    return decorate


def on_button(kind: type[B]) -> Callable[[ButtonHandler[B]], Handler]:
    """A callback-query handler given its decoded button; data that does not decode to `kind` gets the
    short malformed alert and changes nothing (the codec routes only `kind` here: a second guard)."""

    def decorate(handler: ButtonHandler[B]) -> Handler:
        @wraps(handler)
        async def wrapper(update: Update, context: Context) -> None:
            query = update.callback_query
            assert query is not None
            button = decode(query.data)
            if not isinstance(button, kind):
                await query.answer(t(await language(update, context), "alert.malformed"), show_alert=True)
                return
            await handler(update, context, button)

        return wrapper

    return decorate
