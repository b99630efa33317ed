"""Checks on message content that every way of sending shares: text, captions and inline keyboards.

A message can reach a chat as a bot send, an edit, or an inline result a user picks; Telegram applies
the same limits to all three, so they live here instead of in one method.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox import errors
from bot.sandbox.errors import bad_request
from bot.sandbox.html import HtmlParseError, ParsedText, parse_html, utf16_len
from bot.sandbox.models import JsonDict

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64


def format_text(
    raw: str,
    parse_mode: str | None,
    entities: Any,
    *,
    limit: int,
    too_long: str,
    parse_error: str = "can't parse entities",
) -> ParsedText:
    """Parse `raw` the way `parse_mode` says; the limit applies after entity parsing, in UTF-16 units.

    Only HTML is parsed; any other mode keeps the text as sent, with the explicit `entities`.
    """
    if (parse_mode or "").lower() == "html":
        try:
            parsed = parse_html(raw)
        except HtmlParseError as exc:
            raise bad_request(f"{parse_error}: {exc}") from None
    else:
        parsed = ParsedText(raw, tuple(entities or ()))
    if utf16_len(parsed.text) > limit:
        raise bad_request(too_long)
    return parsed


def message_text(
    raw: str | None, parse_mode: str | None, entities: Any, *, parse_error: str = "can't parse entities"
) -> ParsedText:
    """The text of a message: present, not blank once parsed, at most 4096 characters."""
    if raw is None:
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    too_long = errors.MESSAGE_TOO_LONG
    parsed = format_text(raw, parse_mode, entities, limit=MAX_TEXT, too_long=too_long, parse_error=parse_error)
    if not parsed.text.strip():
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    return parsed


def inline_keyboard(markup: Any) -> JsonDict | None:
    """A reply_markup object, with every callback_data 1–64 bytes as Telegram requires."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request(errors.BUTTON_DATA_INVALID)
    return markup
