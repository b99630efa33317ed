"""Bot API failures as the sandbox reports them.

Method implementations raise `ApiError`; the HTTP layer turns it into Telegram's error envelope, so the
implementations read like the Bot API documentation and the wording matches what PTB's error
mapping (BadRequest, Forbidden, RetryAfter, Conflict) expects.
"""

from __future__ import annotations

from typing import Any

CHAT_NOT_FOUND = "chat not found"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
WRONG_FILE_IDENTIFIER = "wrong file identifier/HTTP URL specified"
FILE_TYPE_MISMATCH = "type of file mismatch"
# The Bot API documents two-letter ISO 639-1 codes; this wording is the sandbox's own.
LANGUAGE_CODE_INVALID = "invalid language code specified"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CANT_INITIATE = "bot can't initiate conversation with a user"
BOT_BLOCKED = "bot was blocked by the user"
WEBHOOK_ACTIVE = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


class ApiError(Exception):
    """A Bot API error response: HTTP status, description and optional `retry_after`."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON envelope Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """400, the answer to anything Telegram considers a malformed or impossible request."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """403, the answer when a user never started the bot or blocked it."""
    return ApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 with the `retry_after` PTB's RetryAfter exception carries."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def conflict(detail: str) -> ApiError:
    """409, e.g. polling while a webhook is set."""
    return ApiError(409, f"Conflict: {detail}")


def not_found() -> ApiError:
    """404, Telegram's answer to an unknown method name."""
    return ApiError(404, "Not Found: method not found")


def unauthorized() -> ApiError:
    """401, a request whose token is not the sandbox bot's."""
    return ApiError(401, "Unauthorized")
