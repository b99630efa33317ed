"""What every handler needs: the runtime, the user's language, domain errors turned into text, and the
decorators that parse a button or answer a refusal, so each handler is what it does."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError

from bot.callbacks import Button, InviteChoice, decode
from bot.config import Config
from bot.context import Context
from bot.domain import people
from bot.domain.errors import BadInput, DomainError, StaleButton
from bot.domain.runtime import Runtime
from bot.pages import fit
from bot.screens import Screen
from bot.texts import error_message, t

__all__ = ["Context", "Handler", "answer_invitation", "edit_or_send", "error_text", "is_admin", "language",
           "on_button", "press_button", "refuse_button", "refusing", "reply", "runtime", "sender_id", "show_screen",
           "show_text", "stop_inviting"]

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Button)
V = TypeVar("V")
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


async def show_screen(update: Update, screen: Screen, notice: str | None = None) -> None:
    """Edits the pressed button's message to `screen`, then answers the query (with `notice`, if any).

    The message first and the answer last: the answer ends the client's spinner, so by then the
    screen it shows is already the new one (and a simulated user waiting for it sees it)."""
    await show_text(update, screen.text, screen.markup, notice)


async def show_text(update: Update, text: str, markup: InlineKeyboardMarkup | None = None,
                    notice: str | None = None) -> None:
    """`show_screen` for a screen given as its text (and buttons)."""
    assert update.callback_query is not None
    await edit_or_send(update, text, reply_markup=markup)
    await update.callback_query.answer(notice)


async def stop_inviting(update: Update, context: Context, lang: str,
                        refused_when: tuple[type[DomainError], ...] = ()) -> None:
    """An invitation's "stop inviting me": the user opts out and the invitation says so; the errors
    `refused_when` are a short alert instead."""
    assert update.callback_query is not None and update.effective_user is not None
    try:
        await people.opt_out(runtime(context), update.effective_user.id)
    except refused_when as refused:
        await update.callback_query.answer(error_text(refused, lang, plain=True), show_alert=True)
        return
    await show_text(update, t(lang, "invite.stopped"))


async def press_button(update: Update, context: Context, press: Callable[[int], Awaitable[tuple[V, object]]],
                       draw: Callable[[V, str, ZoneInfo], Screen], alerts: dict[type[DomainError], str],
                       on_stale: Callable[[str], Awaitable[None]] | None = None) -> None:
    """A button on a ballot or survey screen: applies `press` (given the presser's Telegram id) and
    shows the screen `draw` makes of the view it returns. A refusal is a short alert (`refuse_button`);
    a stale button goes to `on_stale` (given the language), when there is one."""
    assert update.effective_user is not None
    lang = await language(update, context)
    try:
        view, _outcome = await press(update.effective_user.id)
    except DomainError as refused:
        if on_stale is not None and isinstance(refused, StaleButton):
            await on_stale(lang)
        else:
            await refuse_button(update, lang, refused, alerts)
        return
    await show_screen(update, draw(view, lang, runtime(context).config.zone))


async def answer_invitation(update: Update, context: Context, choice: InviteChoice,
                            later: Callable[[int, str], Awaitable[str]],
                            start: Callable[[int, tuple[int, int]], Awaitable[Callable[[str], Screen]]], *,
                            stop_refused: tuple[type[DomainError], ...] = (),
                            alerts: dict[type[DomainError], str] | None = None) -> None:
    """An invitation's three buttons. Stop inviting me (`stop_inviting`, `stop_refused` as alerts); not now
    (`later`, given the Telegram id and language, records it and says until when); start (`start` turns
    this very message, (chat, message), into the ballot or survey and gives what draws its first screen in
    a language). A domain refusal is a short alert: `alerts` picks a text by the error's type, else the
    error's own.

    A start reads the user's language after its own work: a rating round's start reads the /language
    choice along with the ballot (`bot.domain.ballots.begin`), so a rater's first tap makes one trip to
    the database, not two."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.message is not None and user is not None
    if choice is InviteChoice.STOP:
        await stop_inviting(update, context, await language(update, context), stop_refused)
        return
    try:
        if choice is InviteChoice.NOT_NOW:
            text, screen = await later(user.id, await language(update, context)), None
        else:
            draw = await start(user.id, (query.message.chat.id, query.message.message_id))
            text, screen = "", draw(await language(update, context))
    except DomainError as refused:
        lang = await language(update, context)
        key = (alerts or {}).get(type(refused))
        await query.answer(t(lang, key) if key else error_text(refused, lang, plain=True), show_alert=True)
        return
    if screen is None:
        await show_text(update, text)
    else:
        await show_screen(update, screen)


async def refuse_button(update: Update, lang: str, refused: DomainError, alerts: dict[type[DomainError], str]) -> None:
    """A refused button press: a short pop-up alert (`alerts` picks its key by the error's type; an
    incomplete screen has its own), and the message stays as it is."""
    assert update.callback_query is not None
    key = "alert.incomplete" if isinstance(refused, BadInput) else alerts.get(type(refused), refused.key)
    await update.callback_query.answer(t(lang, key), show_alert=True)


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
