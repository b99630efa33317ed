"""What must never reach a log line or the admins' error report: one redaction for both.

An update carries what links a person to a customer (a shared contact's phone number, a `/start`
payload — a live link token until it is used), file ids that let anyone holding the bot's token
download an admin's store files, and the bot's token itself shows up in the Bot API URLs that httpx
and PTB log. `redact` cleans an update (as `Update.to_dict()`) or any nested data before it is
described; `RedactingFilter` cleans every log record, ours and the libraries', on its way out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
# A Bot API token: the bot's numeric id, a colon, ~35 characters (also inside ".../bot<token>/getMe").
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
# A phone number someone typed (digits with optional +, spaces, dashes, brackets): 7 digits or more.
_PHONE = re.compile(r"\+?\d[\d ()-]{5,}\d")
# Keys whose values are personal, secret, or a handle on someone's file, wherever they appear.
_SECRET_KEYS = frozenset({"phone_number", "vcard", "file_id", "file_unique_id", "secret", "secret_token",
                          "token", "identity", "payload", "password"})
# Keys holding what a person wrote: commands stay readable, their arguments and any phone do not.
_TEXT_KEYS = frozenset({"text", "caption", "query"})


# A configured secret shorter than this is not searched for: replacing "s" everywhere would garble every
# line, and so short a secret protects nothing anyway (`redheart run` refuses any under 32 characters).
MIN_SECRET = 8


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without bot tokens and without the given secret values."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET:
            text = text.replace(secret, REDACTED)
    return _TOKEN.sub(REDACTED, text)


def _written(text: str) -> str:
    """What a person wrote, as a report may show it: `/start` keeps no payload, phones are cut."""
    if text.startswith("/start"):
        command, _, rest = text.partition(" ")
        return f"{command} {REDACTED}" if rest else command
    return _PHONE.sub(REDACTED, redact_text(text))


def redact(data: Any) -> Any:
    """A copy of `data` (dicts, lists, strings, as an update's `to_dict()` gives) with every secret,
    personal number, link payload and file id replaced by "[redacted]"."""
    if isinstance(data, dict):
        return {key: REDACTED if key in _SECRET_KEYS and value not in (None, "")
                else _written(value) if key in _TEXT_KEYS and isinstance(value, str) else redact(value)
                for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact(item) for item in data]
    if isinstance(data, str):
        return redact_text(data)
    return data


class RedactingFilter(logging.Filter):
    """Rewrites each record it passes so no token or configured secret is written; never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        return True


def redact_logs(secrets: Iterable[str] = (), logger: logging.Logger | None = None) -> RedactingFilter:
    """Puts one RedactingFilter on every handler of `logger` (the root logger: where every library's
    records end up), replacing an earlier one; returns it."""
    target = logger or logging.getLogger()
    log_filter = RedactingFilter(secrets)
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(log_filter)
    return log_filter
