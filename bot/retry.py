"""Every Bot API call the bot makes, retried when retrying is safe, and only then.

One transient fault used to leave a buyer stuck: a single 429, 500 or dropped connection on the edit
of a tap advanced the ballot but not the screen. `RetryingRequest` retries a call (at most `ATTEMPTS`
times in all, waiting a 429's `retry_after` when it is at most `MAX_WAIT`, else backing off) when a
second attempt cannot do anything twice:

- A call that changes nothing new when repeated (`IDEMPOTENT`: an edit shows the same text again, a
  query answered twice is still answered once, reads and profile settings) is retried after any
  network failure, a lost answer included. A retried query answer that Telegram says is "too old"
  followed an attempt that may have answered it: it counts as answered.
- Any other call (a message sent) is retried only when Telegram provably made nothing: a 429, a 5xx
  answer, a connection never made (`never_left`). A timeout or a connection dropped after the request
  left may hide a delivered message: that failure goes to the caller, never repeated here.
- Callers that keep their own account of deliveries — the outbox's paced sender, the scorecard post —
  run inside `own_failures()`: nothing of theirs is retried here (the pacer must see every 429).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

ATTEMPTS = 3
# A tap's spinner turns for as long as we wait: waits longer than this go to the caller instead.
MAX_WAIT = 5.0
BACKOFF = 0.2  # seconds, doubled after each network failure
IDEMPOTENT = frozenset(m.lower() for m in (
    "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "answerCallbackQuery", "getFile", "getMe",
    "getChat", "setMyCommands", "deleteMyCommands", "setMyDescription", "setMyShortDescription",
    "setChatMenuButton", "setMyName",
))
_OWN_FAILURES: ContextVar[bool] = ContextVar("own_failures", default=False)


@contextmanager
def own_failures() -> Iterator[None]:
    """Calls made in this block are never retried by the request layer: the caller handles failures."""
    token = _OWN_FAILURES.set(True)
    try:
        yield
    finally:
        _OWN_FAILURES.reset(token)


def never_left(exc: NetworkError) -> bool:
    """True when the request provably never reached Telegram, so sending again cannot duplicate it.

    A refused connection, or an answer from Telegram that is a server error, means no message was
    made. A timeout or a connection dropped after the request was written may hide a delivery.
    """
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    if isinstance(exc, TimedOut):
        return False
    # PTB raises a bare NetworkError for a 5xx answer (no httpx cause): Telegram replied and made nothing.
    # Any other transport failure (a connection dropped mid-request) may hide a delivery.
    return cause is None


def _retry_after(payload: bytes) -> float | None:
    """A 429's `retry_after`, from Telegram's JSON answer."""
    try:
        after = json.loads(payload).get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(after) if isinstance(after, int | float) else None


class RetryingRequest(HTTPXRequest):
    """PTB's HTTPX request, with the retries above, where PTB still sees the raw HTTP answer (so
    whatever PTB makes of the final answer — RetryAfter, NetworkError, BadRequest — stays its own)."""

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1].lower()
        if _OWN_FAILURES.get() or api_method == "getupdates":
            return await super().do_request(url, method, *args, **kwargs)
        idempotent = api_method in IDEMPOTENT
        uncertain = False  # an earlier attempt may have been performed
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            try:
                code, payload = await super().do_request(url, method, *args, **kwargs)
            except NetworkError as exc:
                if last or not (idempotent or never_left(exc)):
                    raise
                uncertain = uncertain or not never_left(exc)
                log.info("%s failed (%s); retrying", api_method, exc.message)
                await asyncio.sleep(BACKOFF * 2 ** (attempt - 1))
                continue
            if code == HTTPStatus.TOO_MANY_REQUESTS and not last:
                wait = _retry_after(payload)
                if wait is not None and wait <= MAX_WAIT:
                    log.info("%s: Telegram asked to wait %ss; retrying", api_method, wait)
                    await asyncio.sleep(wait)
                    continue
            elif code >= HTTPStatus.INTERNAL_SERVER_ERROR and not last:
                # Telegram answered and made nothing: PTB would raise a bare NetworkError.
                await asyncio.sleep(BACKOFF * 2 ** (attempt - 1))
                continue
            elif code == HTTPStatus.BAD_REQUEST and uncertain and api_method == "answercallbackquery" \
                    and b"query is too old" in payload.lower():
                return HTTPStatus.OK, b'{"ok":true,"result":true}'  # the earlier, lost answer had answered it
            return code, payload
        raise AssertionError("unreachable")  # pragma: no cover
