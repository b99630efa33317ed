"""Start-up failures as one line: the database or Telegram unreachable, a bad path, a refused token.

The SPEC asks every command to fail with a one-line reason on stderr and a non-zero exit. What goes
wrong at start-up comes from deep inside SQLAlchemy, asyncpg, sqlite3, httpx or PTB, each with its own
exception and a long traceback; here each becomes a `StartupError` that names what could not be
reached and why, in one line (`--debug` shows the traceback).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from telegram.error import InvalidToken, TelegramError

from bot.redaction import redact_text
from storage.db import Database


class StartupError(Exception):
    """The program cannot start; the message is the one line that says why."""


def reason(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """The first line of what a library said, without its wrapper's boilerplate or any secret."""
    inner: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip()
    if isinstance(inner, OSError) and inner.strerror:
        text = f"{inner.strerror}: {inner.filename}" if inner.filename else inner.strerror
    text = text.splitlines()[0] if text else ""
    return redact_text(text or type(inner).__name__, secrets)


def shown_url(url: str) -> str:
    """A database URL as a message may show it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show it as given, it has no password to hide
        return url


async def open_database(url: str) -> Database:
    """`Database.open`, or a StartupError naming the database (not its password) and the reason."""
    try:
        return await Database.open(url)
    except Exception as exc:  # any failure here means the same to an operator: this database won't open
        raise StartupError(f"database {shown_url(url)}: cannot open it: {reason(exc)}") from exc


@asynccontextmanager
async def telegram_reachable(base_url: str, secrets: tuple[str, ...]) -> AsyncIterator[None]:
    """Turns a failure to reach the Bot API (or to serve the webhook) inside the block into one line."""
    api = base_url or "https://api.telegram.org"
    try:
        yield
    except InvalidToken as exc:
        raise StartupError(f"telegram.token: the Bot API at {redact_text(api, secrets)} refused it "
                           f"({reason(exc, secrets)}); check it with @BotFather") from exc
    except TelegramError as exc:
        raise StartupError(f"telegram: cannot use the Bot API at {redact_text(api, secrets)}: "
                           f"{reason(exc, secrets)}") from exc
    except OSError as exc:
        raise StartupError(f"telegram: cannot start: {reason(exc, secrets)}") from exc


def describe_unexpected(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """Any other failure in one line: its kind and first line (the traceback is for --debug)."""
    return f"{type(exc).__name__}: {reason(exc, secrets)} (run with --debug for the traceback)"

