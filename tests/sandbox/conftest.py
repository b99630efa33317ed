"""Fixtures: a sandbox, and a tiny real PTB application polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import BotApiSandbox

PtbApp = Application[Any, Any, Any, Any, Any, Any]
Json = dict[str, Any]


async def call(sandbox: BotApiSandbox, method: str, token: str | None = None, **params: Any) -> tuple[int, Json]:
    """A raw Bot API call with a JSON body, as any HTTP client would make it."""
    url = f"{sandbox.base_url}{token or sandbox.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=params) as response:
        return response.status, await response.json()


@dataclass
class ErrorLog:
    """Exceptions PTB routed to the error handler; every test expects none unless it says so."""

    errors: list[object] = field(default_factory=list)

    async def record(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.errors.append(context.error)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer two choices."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("4", callback_data="vote:4"), InlineKeyboardButton("5", callback_data="vote:5")]]
    )
    assert update.effective_message is not None
    await update.effective_message.reply_text("Pick <b>one</b>", parse_mode="HTML", reply_markup=keyboard)


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge the tap and replace the question with the answer."""
    query = update.callback_query
    assert query is not None
    await query.answer("Saved")
    await query.edit_message_text(f"You picked {query.data}")


async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the file and echo its content."""
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    content = await file.download_as_bytearray()
    await update.message.reply_text(f"Got {update.message.document.file_name}: {content.decode()}")


async def receive_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say whether the contact is the sender's own."""
    message = update.message
    assert message is not None and message.contact is not None and message.from_user is not None
    own = message.contact.user_id == message.from_user.id and message.forward_origin is None
    await message.reply_text(f"{message.contact.phone_number} {'own' if own else 'foreign'}")


def build_app(sandbox: BotApiSandbox, log: ErrorLog) -> PtbApp:
    app = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(filters.Document.ALL, receive_document))
    app.add_handler(MessageHandler(filters.CONTACT, receive_contact))
    app.add_error_handler(log.record)
    return app


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox() as sb:
        yield sb


@pytest.fixture
def error_log() -> ErrorLog:
    return ErrorLog()


@pytest.fixture
async def polling_app(sandbox: BotApiSandbox, error_log: ErrorLog) -> AsyncIterator[PtbApp]:
    app = build_app(sandbox, error_log)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    yield app
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    assert error_log.errors == []


RunApp = Callable[..., AbstractAsyncContextManager[PtbApp]]


@pytest.fixture
def run_app(sandbox: BotApiSandbox, error_log: ErrorLog) -> RunApp:
    """`async with run_app(handler, ...)`: a polling Application with just these handlers."""

    @asynccontextmanager
    async def running(*handlers: BaseHandler[Any, Any, Any]) -> AsyncIterator[PtbApp]:
        app = ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url).build()
        for handler in handlers:
            app.add_handler(handler)
        app.add_error_handler(error_log.record)
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
        assert error_log.errors == []

    return running
